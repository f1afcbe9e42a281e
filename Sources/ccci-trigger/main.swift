import CCCICore
Command("ccci-trigger", summary: "x").main { _ in .ok(["a": 1]) }
