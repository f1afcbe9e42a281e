import CCCICore
Command("ccci-gate", summary: "x").main { _ in .ok(["a": 1]) }
