import Glibc
import TestSupport
import Testing
@testable import CCCICore

/// Two-process behaviour of the kernel lock, with util-linux flock(1) as the other process.
@Suite struct Locks {
    @Test func busyWhileAnotherProcessHoldsItAndFreeWhenItDies() throws {
        let d = try ScratchDirectory()
        defer { d.remove() }
        let dir = try d.open()
        defer { dir.closeQuietly() }
        try d.write("lock", "")
        let holder = try Kernel.spawn(["flock", "-x", d.file("lock"), "sleep", "30"], environment: Environment.all(), stdin: .null, stdout: .null, stderr: .null)
        // Wait until flock(1) has it.
        var held = false
        for _ in 0..<100 where !held {
            held = try Lock.isHeld("lock", in: dir)
            if !held { Kernel.sleep(milliseconds: 20) }
        }
        #expect(held)
        #expect { try Lock.acquire("lock", in: dir, wait: .none, what: "app 'x'") } throws: { ($0 as? Failure)?.exit == .busy }
        #expect { try Lock.acquire("lock", in: dir, wait: .seconds(0.2), what: "app 'x'") } throws: { ($0 as? Failure)?.exit == .busy }
        // kill -9 the holder (and its sleep): the lock is free at once, nothing to clean up.
        try Kernel.signal(-holder, SIGKILL)
        _ = try Kernel.wait(holder)
        let lock = try Lock.acquire("lock", in: dir, wait: .seconds(2), what: "app 'x'")
        #expect(!lock.inherited)
        lock.release()
        #expect(try !Lock.isHeld("lock", in: dir))
    }

    @Test func passDownClearsCloseOnExecAndNamesTheFile() throws {
        let d = try ScratchDirectory()
        defer { d.remove() }
        let dir = try d.open()
        defer { dir.closeQuietly() }
        let lock = try Lock.acquire("lock", in: dir, wait: .none, what: "app 'x'")
        defer { lock.release() }
        let (name, value) = try lock.passDown()
        #expect(name == "CCCI_HELD_LOCKS")
        let st = try lock.descriptor.status()
        #expect(value.hasSuffix("\(st.st_dev):\(st.st_ino):\(lock.descriptor.rawValue)"))
        // A child sees the descriptor open and can confirm it holds the lock through it.
        var p = Subprocess(["sh", "-c", "flock -n -x \(lock.descriptor.rawValue) && echo mine"])
        p.environment = [(name, value)]
        #expect(try p.run().stdoutText == "mine\n")
        // An unrelated process (fresh descriptor) still cannot take it.
        #expect(try !Subprocess(["flock", "-n", "-x", d.file("lock"), "true"]).run().succeeded)
    }
}
