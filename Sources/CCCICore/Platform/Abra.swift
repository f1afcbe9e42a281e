// The abra CLI. Always `-n` (never prompt); `-o` (offline) on anything that touches a recipe
// unless fetching is the point. abra exits 1 on any fatal error with a line containing `FATA`,
// which the real host printed on stdout: both streams are captured and the FATA line becomes our
// error message. Some abra versions insist on a terminal even with -n; `terminal` runs it under
// a pseudo-terminal (the seeds used `script -qec`).
import Glibc

public struct Abra: Sendable {
    public var binary: String
    public var directory: String
    public var server: String
    public var terminal: Bool
    public var timeout: Double = 900

    public static let options: [Option] = [
        .value("abra-dir", "DIR", "abra's directory (servers/, recipes/)", environment: "ABRA_DIR"),
        .value("server", "NAME", "the abra server the apps live on (default: the only one in ABRA_DIR/servers)", environment: "CCCI_SERVER"),
        .flag("terminal", "run abra under a pseudo-terminal", environment: "CCCI_ABRA_TERMINAL"),
    ]

    public init(_ args: Arguments) throws(Failure) {
        binary = Environment.value("CCCI_ABRA") ?? "abra"
        directory = args.value("abra-dir") ?? ((Environment.value("HOME") ?? "/root") + "/.abra")
        terminal = args.flag("terminal")
        if let s = args.value("server") {
            server = s
        } else {
            let servers: [String]
            do {
                let dir = try FileDescriptor.open(directory + "/servers", O_RDONLY | O_DIRECTORY)
                defer { dir.closeQuietly() }
                servers = try Path.list(dir).filter { !$0.hasPrefix(".") }
            } catch {
                throw Failure(.noInput, "no-abra-server", "cannot list abra servers in '\(directory)/servers': \(error.reason)")
            }
            guard servers.count == 1 else {
                throw Failure.usage("give --server (or CCCI_SERVER): '\(directory)/servers' holds \(servers.count) servers")
            }
            server = servers[0]
        }
        guard !server.isEmpty, !server.contains("/"), server != ".", server != ".." else { throw Failure.usage("invalid server '\(server)'") }
    }

    public var environment: [(String, String?)] { [("ABRA_DIR", directory)] }

    public func envFilePath(_ domain: String) -> String { "\(directory)/servers/\(server)/\(domain).env" }
    public func recipePath(_ recipe: Name) -> String { "\(directory)/recipes/\(recipe.value)" }

    /// The app's env file, or nil when the app does not exist.
    public func envFile(_ domain: String) throws(Failure) -> EnvFile? {
        do {
            guard let bytes = try AtomicFile.readIfExists(envFilePath(domain), limit: 1 << 20) else { return nil }
            return EnvFile(text: String(decoding: bytes, as: UTF8.self))
        } catch {
            throw Failure(error, doing: "reading the env file of '\(domain)'")
        }
    }

    public struct Outcome: Sendable {
        public var succeeded: Bool
        public var timedOut: Bool
        public var fatal: String?
        public var output: String
    }

    /// Runs `abra ARGS`, capturing both streams; `fatal` is the first FATA line, from either.
    public func run(_ arguments: [String], timeout: Double? = nil) throws(Failure) -> Outcome {
        var p = Subprocess([binary] + arguments)
        p.environment = environment
        p.timeout = timeout ?? self.timeout
        p.terminal = terminal
        let r: Subprocess.Result
        do { r = try p.run() } catch { throw Failure(.unavailable, "abra-unavailable", "cannot run abra: \(error)") }
        let all = r.stdoutText + (r.stderr.isEmpty ? "" : "\n" + r.stderrText)
        let fatal = all.split(separator: "\n").first { $0.contains("FATA") }.map { Abra.clean(String($0)) }
        return Outcome(succeeded: r.succeeded, timedOut: r.timedOut, fatal: fatal, output: all)
    }

    /// A FATA line without terminal colour codes and carriage returns.
    static func clean(_ line: String) -> String {
        var out = ""
        var inEscape = false
        for ch in line.unicodeScalars {
            if inEscape { if (0x40...0x7E).contains(ch.value) && ch != "[" { inEscape = false }; continue }
            if ch == "\u{1B}" { inEscape = true; continue }
            if ch == "\r" { continue }
            out.unicodeScalars.append(ch)
        }
        return out.trimmingCharacters()
    }

    /// Throws the failure of an abra call, with its FATA line as the message.
    public func require(_ outcome: Outcome, _ what: String) throws(Failure) {
        if outcome.succeeded { return }
        let why = outcome.fatal ?? (outcome.timedOut ? "abra timed out" : outcome.output.split(separator: "\n").last.map(String.init) ?? "abra failed")
        throw Failure(.unavailable, "abra-failed", "\(what): \(why)")
    }
}
