import Glibc
import Testing
@testable import CCCICore

@Suite struct Subprocesses {
    @Test func capturesBothStreamsAndStatus() throws {
        let r = try Subprocess(["sh", "-c", "echo out; echo err >&2; exit 3"]).run()
        #expect(r.status == .exited(3))
        #expect(r.stdoutText == "out\n")
        #expect(r.stderrText == "err\n")
        #expect(!r.succeeded)
    }

    @Test func feedsLargeStdinWhileDrainingLargeStdout() throws {
        // 4 MiB in and out at once: a naive write-then-read would deadlock on the pipe buffers.
        let input = [UInt8](repeating: 0x61, count: 4 << 20)
        var p = Subprocess(["cat"])
        p.input = input
        let r = try p.run()
        #expect(r.succeeded)
        #expect(r.stdout.count == input.count)
    }

    @Test func timeoutKillsTheProcessGroup() throws {
        var p = Subprocess(["sh", "-c", "sleep 30 & sleep 30"])
        p.timeout = 0.3
        let start = Kernel.monotonicNanoseconds()
        let r = try p.run()
        #expect(r.timedOut)
        #expect(r.status == .signalled(SIGTERM))
        #expect(Kernel.monotonicNanoseconds() - start < 5_000_000_000)
    }

    @Test func environmentChangesReachTheChild() throws {
        var p = Subprocess(["sh", "-c", "printf %s \"$CCCI_X\""])
        p.environment = [("CCCI_X", "hello")]
        #expect(try p.run().stdoutText == "hello")
    }

    @Test func missingProgramIsASystemError() {
        #expect { try Subprocess(["ccci-no-such-program-xyz"]).run() } throws: { ($0 as? SystemError)?.errno == ENOENT }
    }

    @Test func pseudoTerminalMakesStdoutATerminal() throws {
        var p = Subprocess(["sh", "-c", "test -t 0 && test -t 1 && echo tty"])
        p.terminal = true
        p.timeout = 10
        let r = try p.run()
        #expect(r.status == .exited(0))
        #expect(r.stdoutText.contains("tty"))
    }

    @Test func childExitWithBackgroundGrandchildHoldingPipeDoesNotHang() throws {
        var p = Subprocess(["sh", "-c", "sleep 20 & echo done"])
        p.timeout = 15
        let start = Kernel.monotonicNanoseconds()
        let r = try p.run()
        #expect(r.stdoutText == "done\n")
        #expect(Kernel.monotonicNanoseconds() - start < 5_000_000_000)
    }

    @Test func captureLimitTruncates() throws {
        var p = Subprocess(["sh", "-c", "head -c 100000 /dev/zero"])
        p.captureLimit = 1000
        let r = try p.run()
        #expect(r.truncated)
        #expect(r.stdout.count == 1000)
    }
}
