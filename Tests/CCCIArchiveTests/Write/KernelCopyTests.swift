@testable import CCCIArchive
import CCCICore
import Glibc
import Testing

/// Counts a copier's calls and can make it refuse (after `allowed` successful calls).
final class CopierProbe: @unchecked Sendable {
    var calls = 0
    var allowed = Int.max
    var errno: CInt = 0
    var shrink = false

    var copier: KernelCopy.Copier {
        { (source: FileDescriptor, from: Int64, target: FileDescriptor, to: Int64, count: Int) throws(SystemError) -> Int in
            self.calls += 1
            if self.shrink { return 0 }
            if self.calls > self.allowed { throw SystemError("copy_file_range", errno: self.errno) }
            return try KernelCopy.copy(source, from, target, to, count)
        }
    }
}

/// Files below, at and above the kernel-copy threshold and its window, and small ones around them.
func makeLargeFilesTree(_ f: Fixture, _ root: String) throws {
    try f.dir(root)
    try f.dir("\(root)/d")
    var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
    func bytes(_ n: Int) -> [UInt8] {
        (0..<n).map { _ in
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: seed >> 33)
        }
    }
    try f.file("\(root)/a-small", bytes(3000))
    try f.file("\(root)/b-threshold", bytes(Int(KernelCopy.threshold)))
    try f.file("\(root)/c-below", bytes(Int(KernelCopy.threshold) - 1))
    try f.file("\(root)/d/e-windows", bytes(2 * KernelCopy.window + 4097))
    try f.file("\(root)/d/f-small", bytes(511))
    try f.file("\(root)/g-odd", bytes(3 * (1 << 20) + 7))
}

@Suite struct KernelCopyTests {
    @Test func kernelCopiesGiveTheSameArchive() throws {
        let f = try Fixture()
        defer { f.remove() }
        try makeLargeFilesTree(f, "src")
        let plain = try f.write("src", to: "plain.tar", access: O_WRONLY, copier: KernelCopy.copy)
        let probe = CopierProbe()
        let copied = try f.write("src", to: "copied.tar", access: O_RDWR, copier: probe.copier)
        #expect(probe.calls >= 5)  // three files above the threshold, one over three windows
        #expect(plain == copied)
        #expect(try f.read("plain.tar") == f.read("copied.tar"))
        // And it reads back, content hashes included.
        #expect(try f.verify("copied.tar", expected: copied.sha256).treeDigest == copied.treeDigest)
        #expect(try f.digest("src") == copied.treeDigest)
    }

    @Test func writeOnlyOrAppendingOutputsAreNeverCopiedInto() throws {
        let f = try Fixture()
        defer { f.remove() }
        try makeLargeFilesTree(f, "src")
        let probe = CopierProbe()
        let plain = try f.write("src", to: "a.tar", access: O_WRONLY, copier: probe.copier)
        let appended = try f.write("src", to: "b.tar", access: O_RDWR | O_APPEND, copier: probe.copier)
        #expect(probe.calls == 0)
        #expect(plain == appended)
    }

    @Test(arguments: [EXDEV, EINVAL, ENOSYS, EOPNOTSUPP])
    func aRefusingKernelFallsBackToReadAndWrite(_ code: CInt) throws {
        let f = try Fixture()
        defer { f.remove() }
        try makeLargeFilesTree(f, "src")
        let plain = try f.write("src", to: "plain.tar", access: O_WRONLY, copier: nil)
        for allowed in [0, 1, 2] {  // refused at once, and after one or two windows were copied
            let probe = CopierProbe()
            probe.allowed = allowed
            probe.errno = code
            let s = try f.write("src", to: "refused.tar", access: O_RDWR, copier: probe.copier)
            #expect(probe.calls > allowed)
            #expect(s == plain)
            #expect(try f.read("refused.tar") == f.read("plain.tar"))
        }
    }

    @Test func otherCopyErrorsFail() throws {
        let f = try Fixture()
        defer { f.remove() }
        try makeLargeFilesTree(f, "src")
        let probe = CopierProbe()
        probe.allowed = 1
        probe.errno = EIO
        #expect { try f.write("src", to: "a.tar", access: O_RDWR, copier: probe.copier) } throws: {
            guard case .system(let e)? = ($0 as? ArchiveError)?.kind else { return false }
            return e.errno == EIO
        }
    }

    @Test func aSourceThatEndsEarlyIsReportedChanged() throws {
        let f = try Fixture()
        defer { f.remove() }
        try makeLargeFilesTree(f, "src")
        let probe = CopierProbe()
        probe.shrink = true
        #expect { try f.write("src", to: "a.tar", access: O_RDWR, copier: probe.copier) } throws: { ($0 as? ArchiveError)?.kind == .changed }
    }

    /// The archive starts where the descriptor stands, whichever path the data takes.
    @Test func anOutputAlreadyWrittenToIsAppendedAfter() throws {
        let f = try Fixture()
        defer { f.remove() }
        try makeLargeFilesTree(f, "src")
        let plain = try f.write("src", to: "plain.tar", access: O_WRONLY, copier: nil)
        let tree = try f.open("src")
        defer { tree.closeQuietly() }
        let out = try FileDescriptor.open(f.path("prefixed.tar"), O_RDWR | O_CREAT | O_TRUNC, mode: 0o600)
        defer { out.closeQuietly() }
        try out.writeAll(Array("0123456789".utf8))
        var options = ArchiveWriter.Options()
        options.durable = false
        let probe = CopierProbe()
        options.copier = probe.copier
        let s = try ArchiveWriter.write(tree: tree, to: out, options: options)
        #expect(probe.calls > 0)
        #expect(s == plain)
        #expect(try f.read("prefixed.tar") == Array("0123456789".utf8) + f.read("plain.tar"))
    }
}
