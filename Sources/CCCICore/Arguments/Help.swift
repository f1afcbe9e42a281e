extension Command {
    /// The --help text, generated from the same tables the parser uses.
    public func help() -> String {
        var out = "usage: \(name)"
        if subcommands.isEmpty {
            out += synopsis(options: options, operands: operands, trailing: acceptsTrailingCommand) + "\n\n\(summary)\n"
        } else {
            out += " SUBCOMMAND [options] ...\n\n\(summary)\n\nsubcommands:\n"
            out += table(subcommands.map { ($0.name + synopsis(options: [], operands: $0.operands, trailing: $0.acceptsTrailingCommand), $0.summary) })
            out += "\n'\(name) SUBCOMMAND --help' describes one subcommand.\n"
        }
        out += optionSection(options, operands: subcommands.isEmpty ? operands : [])
        return out + trailer()
    }

    /// The --help text of one subcommand (its options plus the command's common ones).
    public func help(for sub: Subcommand) -> String {
        var out = "usage: \(name) \(sub.name)" + synopsis(options: sub.options + options, operands: sub.operands, trailing: sub.acceptsTrailingCommand)
        out += "\n\n\(sub.summary)\n"
        out += optionSection(sub.options + options, operands: sub.operands)
        return out + trailer()
    }

    private func synopsis(options: [Option], operands: [Operand], trailing: Bool) -> String {
        var s = options.isEmpty ? "" : " [options]"
        for o in operands {
            switch o.arity {
            case .required: s += " \(o.name)"
            case .optional: s += " [\(o.name)]"
            case .variadic: s += " [\(o.name)...]"
            case .variadicRequired: s += " \(o.name)..."
            }
        }
        if trailing { s += " -- COMMAND [ARG...]" }
        return s
    }

    private func optionSection(_ options: [Option], operands: [Operand]) -> String {
        var out = ""
        if !operands.isEmpty {
            out += "\noperands:\n" + table(operands.map { ($0.name, $0.help) })
        }
        var rows: [(String, String)] = options.filter { $0.renamedTo == nil }.map { o in
            var left = o.short.map { "-\($0), " } ?? "    "
            left += "--\(o.name)"
            if o.kind != .flag { left += " \(o.valueName)" }
            var right = o.help
            if o.kind == .repeated { right += " (repeatable)" }
            if let env = o.environment { right += " [env \(env)]" }
            if let d = o.defaultValue { right += " [default \(d)]" }
            return (left, right)
        }
        rows.append(("-h, --help", "print this help and exit"))
        rows.append(("    --version", "alone: print the toolkit's version and commit and exit"))
        out += "\noptions:\n" + table(rows)
        return out
    }

    private func trailer() -> String {
        var out = ""
        if !exits.isEmpty {
            out += "\nexit status:\n" + table(exits.map { (String($0.0.rawValue), $0.1) })
        }
        out += "  failures use the shared table (64 usage, 65 bad data, 66 missing input, 69 unavailable,\n"
        out += "  70 internal, 73 can't create, 74 I/O, 75 busy, 77 permission): docs/exit-codes.md\n"
        if !notes.isEmpty { out += "\n" + notes + (notes.hasSuffix("\n") ? "" : "\n") }
        return out
    }

    private func table(_ rows: [(String, String)]) -> String {
        let width = min(28, (rows.map(\.0.count).max() ?? 0) + 2)
        return rows.map { left, right in
            let pad = left.count < width ? String(repeating: " ", count: width - left.count) : "\n" + String(repeating: " ", count: width + 2)
            return "  \(left)\(pad)\(right)\n"
        }.joined()
    }
}
