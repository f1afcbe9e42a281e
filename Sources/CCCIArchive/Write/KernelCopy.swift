// Moving a large file's data into the archive inside the kernel (copy_file_range(2): page cache
// to page cache, one copy instead of read(2) into a buffer and write(2) out of it), and hashing
// what landed.
//
// What is hashed must be exactly what the archive holds. The source may be live and change while
// it is copied, so the bytes are never hashed from the source: each window is copied, then the
// archive's own region is mapped read-only (mmap of the output, which is ours: created by this
// run, mode 0600, written by nobody else) and those bytes feed the archive hash and the file's
// content hash. A mapping past the end of a file faults (SIGBUS); only a region that
// copy_file_range just wrote, of our own archive, is ever mapped, and each mapping is small
// (`window`) and unmapped at once, so peak RSS stays bounded. The existing change detection
// (size and mtime checked after the file is read) still reports a source that changed.
//
// Where the kernel refuses (EXDEV, EINVAL, ENOSYS, EOPNOTSUPP, EBADF: another filesystem type, an
// O_APPEND output, an old kernel) the writer reads and writes the rest as before; the archive
// bytes are the same either way.
import CCCICore
import CSystem
import Glibc

enum KernelCopy {
    /// copy_file_range(source, at: from, target, at: to, count): bytes copied, 0 at the source's end.
    typealias Copier = @Sendable (FileDescriptor, Int64, FileDescriptor, Int64, Int) throws(SystemError) -> Int

    /// Files at least this large are copied by the kernel; smaller ones are cheaper in the buffer.
    static let threshold: Int64 = 1 << 20
    /// Bytes copied, mapped and hashed at a time.
    static let window = 2 << 20

    /// Wraps copy_file_range(2) with explicit offsets (neither descriptor's position moves).
    static let copy: Copier = { (source: FileDescriptor, from: Int64, target: FileDescriptor, to: Int64, count: Int) throws(SystemError) -> Int in
        var inOffset = from
        var outOffset = to
        while true {
            let n = ccci_copy_file_range(source.rawValue, &inOffset, target.rawValue, &outOffset, count, 0)
            if n >= 0 { return n }
            if errno != EINTR { throw SystemError("copy_file_range", errno: errno) }
        }
    }

    /// The errors that mean "not here": fall back to read(2) and write(2).
    static func refused(_ error: SystemError) -> Bool {
        [EXDEV, EINVAL, ENOSYS, EOPNOTSUPP, EBADF].contains(error.errno)
    }

    /// Whether `fd` can receive kernel copies and be mapped back: a regular file open read-write,
    /// not O_APPEND.
    static func usable(_ fd: FileDescriptor) -> Bool {
        let flags = fcntl(fd.rawValue, F_GETFL)
        return flags != -1 && flags & O_ACCMODE == O_RDWR && flags & O_APPEND == 0
    }

    /// Wraps lseek(2) with SEEK_CUR: the descriptor's position after moving it by `delta`.
    static func advance(_ fd: FileDescriptor, by delta: Int64) throws(SystemError) -> Int64 {
        let r = lseek(fd.rawValue, off_t(delta), SEEK_CUR)
        if r == -1 { throw SystemError("lseek", errno: errno) }
        return Int64(r)
    }

    /// Wraps mmap(2) (read-only, shared, populated) and munmap(2): `body` sees the `count` bytes
    /// of `fd` at `offset`, which the caller guarantees exist.
    static func withMapping<R>(_ fd: FileDescriptor, at offset: Int64, count: Int, _ body: (UnsafeRawBufferPointer) -> R) throws(SystemError) -> R {
        let page = Int64(sysconf(Int32(_SC_PAGESIZE)))
        let start = offset - offset % page
        let skip = Int(offset - start)
        let length = skip + count
        guard let base = mmap(nil, length, PROT_READ, MAP_SHARED | MAP_POPULATE, fd.rawValue, off_t(start)), base != MAP_FAILED else {
            throw SystemError("mmap", errno: errno)
        }
        defer { munmap(base, length) }
        return body(UnsafeRawBufferPointer(start: base + skip, count: count))
    }
}
