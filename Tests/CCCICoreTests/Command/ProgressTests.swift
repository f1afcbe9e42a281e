import Testing
@testable import CCCICore

@Suite struct ProgressFormatting {
    @Test func bytesInPowersOf1024WithOneDecimal() {
        #expect(Progress.bytes(0) == "0 B")
        #expect(Progress.bytes(1023) == "1023 B")
        #expect(Progress.bytes(1024) == "1.0 KiB")
        #expect(Progress.bytes(1536) == "1.5 KiB")
        #expect(Progress.bytes((1 << 20) - 1) == "1.0 MiB")
        #expect(Progress.bytes(327_574_323) == "312.4 MiB")
        #expect(Progress.bytes(5 << 30) == "5.0 GiB")
        #expect(Progress.bytes(3 << 40) == "3.0 TiB")
        #expect(Progress.bytes(-5) == "0 B")
    }

    @Test func durationsAsAClockRoundedUp() {
        #expect(Progress.duration(0) == "0:00")
        #expect(Progress.duration(0.2) == "0:01")
        #expect(Progress.duration(7) == "0:07")
        #expect(Progress.duration(59.5) == "1:00")
        #expect(Progress.duration(725) == "12:05")
        #expect(Progress.duration(3723) == "1:02:03")
        #expect(Progress.duration(.infinity) == "--")
        #expect(Progress.duration(.nan) == "--")
    }

    @Test func anArchiveStepShowsDoneTotalPercentRateAndETA() {
        let s = Progress.Sample(what: "extracting 'db'", done: 100 << 20, total: 400 << 20, elapsed: 2)
        #expect(Progress.text(s) == "extracting 'db': 100.0 MiB / 400.0 MiB (25%), 50.0 MiB/s, ETA 0:06")
    }

    @Test func anEstimatedTotalIsMarkedAndDroppedOnceOutgrown() {
        var s = Progress.Sample(what: "archiving 'db'", done: 1 << 30, total: 2 << 30, estimated: true, elapsed: 4)
        #expect(Progress.text(s) == "archiving 'db': 1.0 GiB / ~2.0 GiB (50%), 256.0 MiB/s, ETA ~0:04")
        s.done = 3 << 30
        #expect(Progress.text(s) == "archiving 'db': 3.0 GiB, 768.0 MiB/s")
    }

    @Test func noRateBeforeThereIsOneAndNoTotalWhenUnknown() {
        #expect(Progress.text(Progress.Sample(what: "verifying 'db'", done: 0, total: 10 << 20, elapsed: 0.1)) == "verifying 'db': 0 B / 10.0 MiB (0%), ETA --")
        #expect(Progress.text(Progress.Sample(what: "archiving 'db'", done: 2048, elapsed: 0.1)) == "archiving 'db': 2.0 KiB")
        #expect(Progress.text(Progress.Sample(what: "x", done: 10, total: 10, elapsed: 1)).contains("(100%)"))
    }

    @Test func aWaitShowsItsStateAndTheTimeWaited() {
        let s = Progress.Sample(what: "deploying 'a.example'", counting: false, elapsed: 12.3, state: "1/2 tasks running (db 0/1 updating)")
        #expect(Progress.text(s) == "deploying 'a.example': 1/2 tasks running (db 0/1 updating), 0:13")
        #expect(Progress.text(Progress.Sample(what: "undeploying 'a.example'", counting: false, elapsed: 0)) == "undeploying 'a.example': 0:00")
    }

    @Test func aLiveLineReturnsDrawsWithinTheWidthAndClearsTheRest() {
        let line = Progress.liveLine(String(repeating: "x", count: 200), columns: 80)
        #expect(line.hasPrefix("\r"))
        #expect(line.hasSuffix("\u{1B}[K"))
        let text = line.dropFirst().dropLast(3)
        #expect(text.unicodeScalars.count == 79)
        #expect(text.hasSuffix("…"))
        #expect(Progress.liveLine("short", columns: 80) == "\rshort\u{1B}[K")
        #expect(Progress.erase == "\r\u{1B}[K")
    }

    @Test func aLineNeverCarriesControlCharacters() {
        #expect(Progress.fit("a\rb\n\u{1B}[2Jc\u{7F}", columns: 80) == "ab[2Jc")
    }

    @Test func liveLinesEveryQuarterSecondPlainLinesEveryInterval() {
        let live = Progress.Schedule(.live, interval: 30)
        #expect(live.every == 250_000_000)
        #expect(live.next(start: 1_000, last: nil) == 250_001_000)
        let plain = Progress.Schedule(.plain, interval: 30)
        // nothing before one interval has passed: short work prints nothing
        #expect(plain.next(start: 0, last: nil) == 30_000_000_000)
        #expect(plain.next(start: 0, last: 31_000_000_000) == 61_000_000_000)
        #expect(Progress.Schedule(.plain, interval: 0.5).every == 500_000_000)
    }

    @Test func theModeAndTheTerminalDecideTheStyle() {
        #expect(Progress.style(.auto, terminal: true, term: "xterm") == .live)
        #expect(Progress.style(.auto, terminal: true, term: nil) == .live)
        #expect(Progress.style(.auto, terminal: true, term: "dumb") == .plain)
        #expect(Progress.style(.auto, terminal: false, term: "xterm") == .plain)
        #expect(Progress.style(.tty, terminal: false, term: nil) == .live)
        #expect(Progress.style(.plain, terminal: true, term: "xterm") == .plain)
        #expect(Progress.style(.off, terminal: true, term: "xterm") == nil)
    }
}

@Suite struct DeployProgress {
    func service(_ name: String, _ running: Int, _ desired: Int?, _ update: String? = nil) -> Docker.Service {
        Docker.Service(name: name, desired: desired, running: running, updateState: update, labels: JSONObject(), image: nil)
    }

    @Test func tasksRunningOfWantedSummedThenWhatIsNotThereYet() {
        #expect(Platform.progress([], stack: "a_example") == "no service yet")
        #expect(Platform.progress([service("a_example_app", 1, 1, "completed")], stack: "a_example") == "1/1 tasks running")
        #expect(Platform.progress([service("a_example_app", 1, 1), service("a_example_db", 0, 2, "updating")], stack: "a_example")
            == "1/3 tasks running (db 0/2 updating)")
        #expect(Platform.progress([service("other", 2, nil)], stack: "a_example") == "2/2 tasks running")
    }

    @Test func whatOfAStackIsLeft() {
        var left = Platform.Leftovers()
        left.services = ["s"]
        left.containers = [.null, .null]
        left.volumeUsers = ["v": [.null]]
        #expect(left.progress == "left: 1 service, 2 containers, 1 volume user")
    }
}

@Suite struct AbraTail {
    @Test func escapesAndSpinnersAreGoneLinesKept() {
        let out = "\u{1B}[32mINFO\u{1B}[0m deploying\r\n⠋ waiting\r⠙ waiting\r\u{1B}[2Kconverged 1/2\n\n\u{1B}]0;title\u{07}\u{1B}[31mFATA\u{1B}[0m deploy timed out 🛑\n"
        #expect(Abra.tail(of: out) == ["INFO deploying", "converged 1/2", "FATA deploy timed out 🛑"])
    }

    @Test func invalidUTF8IsReplacedNotLost() {
        let out = String(decoding: Array("FATA bad \u{00E9}".utf8) + [0xFF, 0xFE] + Array(" end\n".utf8), as: UTF8.self)
        #expect(Abra.tail(of: out) == ["FATA bad \u{00E9}\u{FFFD}\u{FFFD} end"])
    }

    @Test func atMostTwentyLinesTheLastOnes() {
        let out = (1...50).map { "line \($0)" }.joined(separator: "\n")
        let tail = Abra.tail(of: out)
        #expect(tail.count == 20)
        #expect(tail.first == "line 31")
        #expect(tail.last == "line 50")
    }

    @Test func atMostFourKiBTheOldestDroppedFirst() {
        let out = (1...10).map { "\($0) " + String(repeating: "x", count: 1000) }.joined(separator: "\n")
        let tail = Abra.tail(of: out)
        #expect(tail.joined(separator: "\n").utf8.count <= 4096)
        #expect(tail.count == 4)
        #expect(tail.last?.hasPrefix("10 ") == true)
        let long = Abra.tail(of: "first\n" + String(repeating: "é", count: 5000) + "END")
        #expect(long.count == 1)
        #expect(long[0].utf8.count <= 4096)
        #expect(long[0].hasPrefix("…") && long[0].hasSuffix("éEND"))
    }

    @Test func fatalLinesFromATerminalKeepTheirText() {
        #expect(Abra.clean("⠋ waiting\rFATA deploy failed\r") == "FATA deploy failed")
        #expect(Abra.clean("\u{1B}[1;31mFATA\u{1B}[0m\tno\u{07}pe") == "FATA nope")
    }

    @Test func theTailGoesIntoTheDetailsOnlyWhenThereIsOne() {
        let said = Abra.Outcome(succeeded: false, timedOut: false, fatal: "FATA x", output: "INFO a\nFATA x\n")
        let quiet = Abra.Outcome(succeeded: false, timedOut: false, fatal: nil, output: "\n")
        #expect(Abra.withTail(nil, said)?["abra_tail"] == .array(["INFO a", "FATA x"]))
        #expect(Abra.withTail(["deployed": true], said)?["deployed"] == .bool(true))
        #expect(Abra.withTail(nil, quiet) == nil)
        #expect(Abra.withTail(nil, nil) == nil)
    }
}
