// The command contract, kept once for every command:
// - `-h`/`--help` prints the generated usage to stdout and exits 0;
// - `--version` as the only argument prints `<name> (ci-warm) <version> <commit>` and exits 0
//   (anywhere else it is a usage error, so an old `--version VALUE` can never pass for a result);
// - the result is JSON on stdout (one object, or JSON Lines for streams), written only on success
//   or a clean "no" (exit 1): a failing command leaves stdout empty;
// - on failure, stderr ends with exactly one line `{"error":{"prog","code","exit","message"}}`;
// - progress (Progress.swift) goes to stderr only, and is ended, its live line erased, before
//   the result or the error line is written;
// - `exit()` is called here and nowhere else.
import Glibc

public struct Command: Sendable {
    public let name: String
    public let summary: String
    public var options: [Option]
    public var operands: [Operand]
    public var subcommands: [Subcommand]
    /// What exits 0 and 1 mean for this command, for --help.
    public var exits: [(ExitCode, String)]
    /// Free text appended to --help (input formats, examples).
    public var notes: String
    public var acceptsTrailingCommand: Bool

    public init(
        _ name: String, summary: String, options: [Option] = [], operands: [Operand] = [],
        subcommands: [Subcommand] = [], exits: [(ExitCode, String)] = [], notes: String = "",
        acceptsTrailingCommand: Bool = false
    ) {
        self.name = name
        self.summary = summary
        self.options = options
        self.operands = operands
        self.subcommands = subcommands
        self.exits = exits
        self.notes = notes
        self.acceptsTrailingCommand = acceptsTrailingCommand
    }
}

public struct Subcommand: Sendable {
    public let name: String
    public let summary: String
    public var options: [Option]
    public var operands: [Operand]
    public var acceptsTrailingCommand: Bool
    public init(_ name: String, summary: String, options: [Option] = [], operands: [Operand] = [], acceptsTrailingCommand: Bool = false) {
        self.name = name
        self.summary = summary
        self.options = options
        self.operands = operands
        self.acceptsTrailingCommand = acceptsTrailingCommand
    }
}

/// What a command's body hands back: the exit code and the JSON result (if any) for stdout.
public struct Outcome: Sendable {
    public var exit: ExitCode
    public var result: JSON?
    /// Plain lines instead of JSON, for the few outputs meant for line tools (`versions --lines`).
    public var lines: [String]? = nil
    public init(_ exit: ExitCode = .ok, _ result: JSON?) {
        self.exit = exit
        self.result = result
    }
    public static func lines(_ lines: [String]) -> Outcome {
        var o = Outcome(.ok, nil)
        o.lines = lines
        return o
    }
    public static func ok(_ result: JSON?) -> Outcome { Outcome(.ok, result) }
    public static func no(_ result: JSON?) -> Outcome { Outcome(.no, result) }
}

/// What a running command knows about its invocation.
public struct Invocation: Sendable {
    public let program: String
    /// The chosen subcommand's name, for commands that have them.
    public let subcommand: String?
    public let arguments: Arguments

    /// Writes one JSON Lines record to stdout at once (for streams).
    public func emit(_ value: JSON) throws(SystemError) {
        var bytes = value.bytes
        bytes.append(0x0A)
        try Progress.erasing { () throws(SystemError) in try FileDescriptor.standardOutput.writeAll(bytes) }
    }

    /// A human diagnostic on stderr (never on stdout); a live progress line is erased first.
    public func note(_ message: String) {
        Progress.note("\(program): \(message)")
    }
}

extension Command {
    /// Parses the command line, runs `body`, prints its result and exits with the table's code.
    public func main(_ body: (Invocation) throws -> Outcome) -> Never {
        signal(SIGPIPE, SIG_IGN)
        FileDescriptor.reserveStandardStreams()
        let argv = Array(CommandLine.arguments.dropFirst())
        do {
            if argv == ["--version"] { finish(.ok, output: Toolkit.versionLine(of: name)) }
            if argv.first == "-h" || argv.first == "--help" || (subcommands.isEmpty && wantsHelp(argv)) {
                finish(.ok, output: help())
            }
            var invocation: Invocation
            if subcommands.isEmpty {
                let args = try Arguments.parse(argv, options: options, operands: operands, acceptsTrailingCommand: acceptsTrailingCommand)
                invocation = Invocation(program: name, subcommand: nil, arguments: args)
            } else {
                guard let first = argv.first else { throw Failure.usage("missing subcommand (one of: \(subcommands.map(\.name).joined(separator: ", ")))") }
                guard let sub = subcommands.first(where: { $0.name == first }) else {
                    throw Failure.usage("unknown subcommand '\(first)' (one of: \(subcommands.map(\.name).joined(separator: ", ")))")
                }
                let rest = Array(argv.dropFirst())
                if wantsHelp(rest) { finish(.ok, output: help(for: sub)) }
                let args = try Arguments.parse(rest, options: options + sub.options, operands: sub.operands, acceptsTrailingCommand: sub.acceptsTrailingCommand)
                invocation = Invocation(program: name, subcommand: sub.name, arguments: args)
            }
            let outcome = try body(invocation)
            var text = ""
            if let result = outcome.result { text = result.text + "\n" }
            if let lines = outcome.lines { text = lines.map { $0 + "\n" }.joined() }
            finish(outcome.exit, output: text)
        } catch {
            fail(Failure.from(error))
        }
    }

    private func wantsHelp(_ argv: [String]) -> Bool {
        for arg in argv {
            if arg == "--" { return false }
            if arg == "-h" || arg == "--help" { return true }
        }
        return false
    }

    private func finish(_ code: ExitCode, output: String) -> Never {
        Progress.end()
        do throws(SystemError) { try FileDescriptor.standardOutput.writeAll(output) } catch {
            // A reader that went away (`| head`) is a quiet end, as SIGPIPE is for any filter.
            if error.errno == EPIPE { exit(128 + SIGPIPE) }
            fail(Failure(error, doing: "writing the result"))
        }
        exit(code.rawValue)
    }

    /// A termination signal arrived while a child ran; the child has been stopped (Subprocess).
    /// Writes the error line (exit 128+N) and ends this process by the same signal.
    public static func interrupted(by sig: CInt, stopping child: String) -> Never {
        let prog = String(CommandLine.arguments.first?.split(separator: "/").last ?? "ccci")
        let message = "interrupted by signal \(sig): '\(child)' was stopped first"
        Progress.end()
        let line: JSON = ["error": ["prog": .string(prog), "code": "interrupted", "exit": JSON(Int(128 + sig)), "message": .string(message)]]
        try? FileDescriptor.standardError.writeAll("\(prog): \(message)\n" + line.text + "\n")
        Kernel.die(of: sig)
    }

    /// Writes the final error line to stderr and exits with its code.
    public func fail(_ failure: Failure) -> Never {
        Progress.end()
        var error: JSON = ["prog": .string(name), "code": .string(failure.code), "exit": JSON(Int(failure.exit.rawValue)), "message": .string(failure.message)]
        if let details = failure.details, case .object(var o) = error {
            o["details"] = details
            error = .object(o)
        }
        let line: JSON = ["error": error]
        try? FileDescriptor.standardError.writeAll("\(name): \(failure.message)\n" + line.text + "\n")
        exit(failure.exit.rawValue)
    }
}
