// The abra CLI. Always `-n` (never prompt); `-o` (offline) on anything that touches a recipe
// unless fetching is the point. abra exits 1 on any fatal error with a line containing `FATA`,
// which the real host printed on stdout: both streams are captured and the FATA line becomes our
// error message; the end of what it said (`tail`: at most 20 lines and 4 KiB, terminal escapes
// removed) goes into the error's details as `abra_tail`, never to our stdout. Some abra versions
// insist on a terminal even with -n; `terminal` runs it under a pseudo-terminal (the seeds used
// `script -qec`).
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

        /// The end of abra's output (stdout, then stderr) for an error's details.
        public var tail: [String] { Abra.tail(of: output) }
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
        let fatal = Text.lines(all).first { $0.contains("FATA") }.map { Abra.clean(String($0)) }
        return Outcome(succeeded: r.succeeded, timedOut: r.timedOut, fatal: fatal, output: all)
    }

    /// A FATA line without terminal escapes, control characters and carriage returns.
    static func clean(_ line: String) -> String {
        plain(Substring(line)).trimmingCharacters()
    }

    /// A line of output as a terminal would leave it: what follows its last carriage return
    /// (a spinner's final state), without escape sequences (CSI, OSC, two-byte) or other control
    /// characters (a tab becomes a space).
    static func plain(_ line: Substring) -> String {
        var scalars = Array(line.unicodeScalars)
        while scalars.last == "\r" { scalars.removeLast() }
        if let cr = scalars.lastIndex(of: "\r") { scalars.removeFirst(cr + 1) }
        var out = String.UnicodeScalarView()
        var i = 0
        func next() -> Unicode.Scalar? {
            guard i < scalars.count else { return nil }
            defer { i += 1 }
            return scalars[i]
        }
        while let c = next() {
            switch c.value {
            case 0x1B:
                guard let kind = next() else { break }
                if kind == "[" {  // CSI: parameters, then one final byte 0x40-0x7E
                    while let p = next(), !(0x40...0x7E).contains(p.value) {}
                } else if kind == "]" || kind == "P" || kind == "_" || kind == "^" {  // OSC, DCS, ...: to BEL or ESC \\
                    while let p = next(), p.value != 0x07 {
                        if p.value == 0x1B { _ = next(); break }
                    }
                }  // else a two-byte escape: both dropped
            case 0x09: out.append(" ")
            case 0x00..<0x20, 0x7F, 0x80..<0xA0: continue
            default: out.append(c)
            }
        }
        return String(out)
    }

    /// The last non-blank lines of `text`, made plain, at most `lines` of them and `bytes` of
    /// UTF-8 in all (the oldest dropped first; a single longer line keeps its end).
    public static func tail(of text: String, lines: Int = 20, bytes: Int = 4096) -> [String] {
        var kept: [String] = []
        var size = 0
        for raw in Text.lines(text).reversed() {
            guard kept.count < lines else { break }
            var line = plain(raw)
            while line.last == " " { line.removeLast() }
            if line.isEmpty { continue }
            let cost = line.utf8.count + (kept.isEmpty ? 0 : 1)
            if size + cost > bytes {
                if kept.isEmpty {  // one long line: its end, cut at a character boundary
                    let scalars = line.unicodeScalars
                    var start = scalars.endIndex
                    var room = bytes - 3  // "…"
                    while start > scalars.startIndex {
                        let before = scalars.index(before: start)
                        room -= UTF8.width(scalars[before])
                        if room < 0 { break }
                        start = before
                    }
                    kept.append("…" + String(scalars[start...]))
                }
                break
            }
            kept.append(line)
            size += cost
        }
        return kept.reversed()
    }

    /// Throws the failure of an abra call, with its FATA line as the message and the end of its
    /// output in the details (`abra_tail`).
    public func require(_ outcome: Outcome, _ what: String) throws(Failure) {
        if outcome.succeeded { return }
        let why = outcome.fatal ?? (outcome.timedOut ? "abra timed out" : outcome.tail.last ?? "abra failed")
        throw Failure(.unavailable, "abra-failed", "\(what): \(why)", details: Abra.withTail(nil, outcome))
    }

    /// `details` (an object, or none) with `abra_tail` added when abra said anything.
    public static func withTail(_ details: JSON?, _ outcome: Outcome?) -> JSON? {
        guard let tail = outcome?.tail, !tail.isEmpty else { return details }
        var o = details?.object ?? JSONObject()
        o["abra_tail"] = .array(tail.map { .string($0) })
        return .object(o)
    }
}
