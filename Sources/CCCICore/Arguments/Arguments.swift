// Declarative argument parsing. A command declares its options and operands as a table; the same
// table drives parsing, environment defaults and the generated --help. Grammar (getopt_long-like):
// `--name VALUE`, `--name=VALUE`, `-x VALUE`, `--flag`, `--` ends options; options and operands may
// be mixed; `-h`/`--help` anywhere prints help. Every mistake is a usage Failure (exit 64).

public struct Option: Sendable {
    public enum Kind: Sendable { case flag, value, repeated }
    public let name: String
    public let short: Character?
    public let kind: Kind
    public let valueName: String
    public let help: String
    /// An environment variable whose value is the default.
    public let environment: String?
    public let defaultValue: String?
    /// Set on an old spelling that is refused: the option to use instead.
    public var renamedTo: String? = nil

    /// A switch without a value.
    public static func flag(_ name: String, short: Character? = nil, _ help: String, environment: String? = nil) -> Option {
        Option(name: name, short: short, kind: .flag, valueName: "", help: help, environment: environment, defaultValue: nil)
    }

    /// An option taking one value; given twice, the last wins.
    public static func value(
        _ name: String, short: Character? = nil, _ valueName: String, _ help: String,
        environment: String? = nil, default defaultValue: String? = nil
    ) -> Option {
        Option(name: name, short: short, kind: .value, valueName: valueName, help: help, environment: environment, defaultValue: defaultValue)
    }

    /// An old option name that is refused with a usage error naming `new` (kept out of --help).
    public static func renamed(_ old: String, to new: String) -> Option {
        var o = Option(name: old, short: nil, kind: .value, valueName: "", help: "", environment: nil, defaultValue: nil)
        o.renamedTo = new
        return o
    }

    /// An option that may be given many times, collecting every value.
    public static func repeated(_ name: String, short: Character? = nil, _ valueName: String, _ help: String) -> Option {
        Option(name: name, short: short, kind: .repeated, valueName: valueName, help: help, environment: nil, defaultValue: nil)
    }
}

public struct Operand: Sendable {
    public enum Arity: Sendable { case required, optional, variadic, variadicRequired }
    public let name: String
    public let arity: Arity
    public let help: String
    public static func required(_ name: String, _ help: String) -> Operand { Operand(name: name, arity: .required, help: help) }
    public static func optional(_ name: String, _ help: String) -> Operand { Operand(name: name, arity: .optional, help: help) }
    /// Zero or more; must be last.
    public static func variadic(_ name: String, _ help: String) -> Operand { Operand(name: name, arity: .variadic, help: help) }
    /// One or more; must be last.
    public static func oneOrMore(_ name: String, _ help: String) -> Operand { Operand(name: name, arity: .variadicRequired, help: help) }
}

/// The parsed command line.
public struct Arguments: Sendable {
    var values: [String: [String]] = [:]
    var flags: Set<String> = []
    public internal(set) var operands: [String: [String]] = [:]
    /// Everything after `--` when the command accepts a trailing command (ccci-lock).
    public internal(set) var trailing: [String] = []

    public init() {}

    public func flag(_ name: String) -> Bool { flags.contains(name) }
    /// The last value given for an option, or its environment default, or its declared default.
    public func value(_ name: String) -> String? { values[name]?.last }
    public func values(_ name: String) -> [String] { values[name] ?? [] }
    public func operand(_ name: String) -> String? { operands[name]?.first }
    public func operandList(_ name: String) -> [String] { operands[name] ?? [] }

    /// A value that must be present (as a flag or from its environment variable).
    public func require(_ name: String) throws(Failure) -> String {
        guard let v = value(name) else { throw Failure.usage("missing required option '--\(name)'") }
        return v
    }

    /// A value parsed as a non-negative number of seconds (fractions allowed).
    public func seconds(_ name: String) throws(Failure) -> Double? {
        try duration(name, unit: "seconds")
    }

    /// A value parsed as a non-negative number of `unit` (fractions allowed), at most `limit`;
    /// the error names the unit the option is given in.
    public func duration(_ name: String, unit: String, limit: Double = 1e12) throws(Failure) -> Double? {
        guard let text = value(name) else { return nil }
        guard text.utf8.allSatisfy({ (0x30...0x39).contains($0) || $0 == UInt8(ascii: ".") }), let v = Double(text), v.isFinite, v >= 0, v <= limit else {
            let range = limit < 1e12 ? " (0 to \(Int(limit)))" : ""
            throw Failure.usage("invalid value '\(text)' for '--\(name)': expected a number of \(unit)\(range)")
        }
        return v
    }

    /// A value parsed as an integer within `range`.
    public func integer(_ name: String, in range: ClosedRange<Int>) throws(Failure) -> Int? {
        guard let text = value(name) else { return nil }
        guard let v = Int(text), range.contains(v) else {
            throw Failure.usage("invalid value '\(text)' for '--\(name)': expected an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return v
    }

    /// A value that must be one of `choices`.
    public func choice(_ name: String, _ choices: [String]) throws(Failure) -> String? {
        guard let v = value(name) else { return nil }
        guard choices.contains(v) else {
            throw Failure.usage("invalid value '\(v)' for '--\(name)': expected one of \(choices.joined(separator: ", "))")
        }
        return v
    }
}

extension Arguments {
    /// Parses `argv` (without the program name) against the table.
    static func parse(
        _ argv: [String], options: [Option], operands: [Operand], acceptsTrailingCommand: Bool
    ) throws(Failure) -> Arguments {
        var result = Arguments()
        var positional: [String] = []
        var i = 0
        func lookup(long: String) throws(Failure) -> Option {
            guard let o = options.first(where: { $0.name == long }) else {
                if long == "version" { throw Failure.usage("unknown option '--version' (alone, '--version' prints the toolkit's version)") }
                throw Failure.usage("unknown option '--\(long)'")
            }
            if let new = o.renamedTo {
                throw Failure(.usage, "usage", "option '--\(long)' is now '--\(new)'", details: ["renamed": .string("--" + long), "use": .string("--" + new)])
            }
            return o
        }
        func take(_ option: Option, inline: String?, spelled: String) throws(Failure) {
            switch option.kind {
            case .flag:
                if inline != nil { throw Failure.usage("option '\(spelled)' takes no value") }
                result.flags.insert(option.name)
            case .value, .repeated:
                let v: String
                if let inline { v = inline } else {
                    i += 1
                    guard i < argv.count else { throw Failure.usage("option '\(spelled)' needs a value (\(option.valueName))") }
                    v = argv[i]
                }
                result.values[option.name, default: []].append(v)
            }
        }
        while i < argv.count {
            let arg = argv[i]
            if arg == "--" {
                let rest = Array(argv[(i + 1)...])
                if acceptsTrailingCommand { result.trailing = rest } else { positional += rest }
                break
            }
            if arg.hasPrefix("--") {
                let body = arg.dropFirst(2)
                if let eq = body.firstIndex(of: "=") {
                    try take(try lookup(long: String(body[..<eq])), inline: String(body[body.index(after: eq)...]), spelled: "--" + body[..<eq])
                } else {
                    try take(try lookup(long: String(body)), inline: nil, spelled: arg)
                }
            } else if arg.hasPrefix("-") && arg.count > 1 {
                let letter = arg[arg.index(after: arg.startIndex)]
                guard let o = options.first(where: { $0.short == letter }) else { throw Failure.usage("unknown option '\(arg)'") }
                let rest = String(arg.dropFirst(2))
                if o.kind == .flag && !rest.isEmpty { throw Failure.usage("unknown option '\(arg)'") }
                try take(o, inline: rest.isEmpty ? nil : rest, spelled: "-\(letter)")
            } else {
                positional.append(arg)
            }
            i += 1
        }
        // Environment variables and declared defaults fill in what the command line left out.
        for o in options where o.kind == .value && result.values[o.name] == nil {
            if let env = o.environment, let v = Environment.value(env) {
                result.values[o.name] = [v]
            } else if let d = o.defaultValue {
                result.values[o.name] = [d]
            }
        }
        for o in options where o.kind == .flag && !result.flags.contains(o.name) {
            if let env = o.environment, let v = Environment.value(env), ["1", "true", "yes"].contains(v) { result.flags.insert(o.name) }
        }
        // Operands in order.
        var p = 0
        for operand in operands {
            switch operand.arity {
            case .required:
                guard p < positional.count else { throw Failure.usage("missing operand \(operand.name)") }
                result.operands[operand.name] = [positional[p]]
                p += 1
            case .optional:
                if p < positional.count { result.operands[operand.name] = [positional[p]]; p += 1 }
            case .variadic, .variadicRequired:
                if operand.arity == .variadicRequired && p >= positional.count { throw Failure.usage("missing operand \(operand.name)") }
                result.operands[operand.name] = Array(positional[p...])
                p = positional.count
            }
        }
        if p < positional.count { throw Failure.usage("unexpected operand '\(positional[p])'") }
        return result
    }
}
