import Testing
@testable import CCCICore

@Suite struct ArgumentParsing {
    let options: [Option] = [
        .flag("quick", short: "q", "quick"),
        .value("state", "DIR", "state", default: "/var/lib/ci-warm"),
        .repeated("version", "V", "versions"),
        .value("timeout", "S", "timeout"),
    ]

    func parse(_ argv: [String], operands: [Operand] = [.required("APP", "app")], trailing: Bool = false) throws(Failure) -> Arguments {
        try Arguments.parse(argv, options: options, operands: operands, acceptsTrailingCommand: trailing)
    }

    @Test func longShortInlineAndDefaults() throws {
        let a = try parse(["-q", "app1", "--version", "1", "--version=2", "--timeout=3.5"])
        #expect(a.flag("quick"))
        #expect(a.operand("APP") == "app1")
        #expect(a.values("version") == ["1", "2"])
        #expect(a.value("state") == "/var/lib/ci-warm")
        #expect(try a.seconds("timeout") == 3.5)
    }

    @Test func doubleDashEndsOptions() throws {
        let a = try parse(["--", "--quick"])
        #expect(a.operand("APP") == "--quick")
        #expect(!a.flag("quick"))
        let t = try parse(["app", "--", "sh", "-c", "x"], trailing: true)
        #expect(t.trailing == ["sh", "-c", "x"])
    }

    @Test(arguments: [
        ["--nope", "a"], ["a", "-z"], ["--quick=1", "a"], ["a", "--state"], [], ["a", "b"], ["-qx", "a"],
    ])
    func usageErrors(_ argv: [String]) {
        #expect { try parse(argv) } throws: { ($0 as? Failure)?.exit == .usage }
    }

    @Test func aRenamedOptionIsRefusedNamingTheNewOne() throws {
        let table: [Option] = [.repeated("candidate", "V", "versions"), .renamed("version", to: "candidate")]
        for argv in [["--version", "1"], ["--version=1"], ["--candidate", "1", "--version", "2"]] {
            #expect { try Arguments.parse(argv, options: table, operands: [], acceptsTrailingCommand: false) } throws: {
                guard let f = $0 as? Failure, f.exit == .usage, case .object(let d)? = f.details else { return false }
                return d["use"] == .string("--candidate") && d["renamed"] == .string("--version")
            }
        }
        let a = try Arguments.parse(["--candidate", "1"], options: table, operands: [], acceptsTrailingCommand: false)
        #expect(a.values("candidate") == ["1"])
        let help = Command("x", summary: "s", options: table).help()
        #expect(help.contains("--candidate") && !help.contains("--version V"))
    }

    @Test func badNumbers() throws {
        let a = try parse(["a", "--timeout", "-1"])
        #expect { try a.seconds("timeout") } throws: { ($0 as? Failure)?.exit == .usage }
        let b = try parse(["a", "--timeout", "x"])
        #expect { try b.integer("timeout", in: 1...3) } throws: { ($0 as? Failure)?.exit == .usage }
        for text in ["1e3", "0x10", "inf", "nan", " 5", ""] {
            let c = try parse(["a", "--timeout", text])
            #expect { try c.seconds("timeout") } throws: { ($0 as? Failure)?.exit == .usage }
        }
        #expect(try parse(["a", "--timeout", "0.5"]).seconds("timeout") == 0.5)
        let d = try parse(["a", "--timeout", "61"])
        #expect { try d.duration("timeout", unit: "minutes", limit: 60) } throws: { ($0 as? Failure)?.message.contains("minutes") == true }
    }

    @Test func trailingCommandMayBeEmpty() throws {
        #expect(try parse(["a"], trailing: true).trailing.isEmpty)
    }

    @Test func helpListsEveryOption() {
        let c = Command("ccci-x", summary: "does x", options: options, operands: [.required("APP", "the app")], exits: [(.ok, "done")])
        let h = c.help()
        for o in options { #expect(h.contains("--\(o.name)")) }
        #expect(h.hasPrefix("usage: ccci-x [options] APP"))
        #expect(h.contains("docs/exit-codes.md"))
    }
}
