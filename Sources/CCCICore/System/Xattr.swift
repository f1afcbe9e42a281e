import CSystem
import Glibc

/// Extended attributes, names and values as bytes. An open file or directory is reached through
/// its descriptor (the f* calls); a symlink, fifo or device node, which must not be opened, through
/// `/proc/self/fd/<dir>/<name>` with the l* calls: the kernel resolves the magic link to the
/// directory we hold, and the l* call does not follow the last component.
public enum ExtendedAttributes {
    /// Wraps flistxattr(2): the names, in byte order. A filesystem without xattrs has none.
    public static func names(of fd: FileDescriptor) throws(SystemError) -> [[UInt8]] {
        try names(call: "flistxattr", path: nil) { ccci_flistxattr(fd.rawValue, $0, $1) }
    }

    /// Wraps fgetxattr(2).
    public static func value(_ name: [UInt8], of fd: FileDescriptor) throws(SystemError) -> [UInt8] {
        try value(call: "fgetxattr", name: name) { n, buffer, size in ccci_fgetxattr(fd.rawValue, n, buffer, size) }
    }

    /// Wraps fsetxattr(2).
    public static func set(_ name: [UInt8], to value: [UInt8], on fd: FileDescriptor) throws(SystemError) {
        _ = try retrying("fsetxattr", path: describe(name)) {
            withCName(name) { n in value.withUnsafeBytes { ccci_fsetxattr(fd.rawValue, n, $0.baseAddress, $0.count, 0) } }
        }
    }

    /// Wraps llistxattr(2) for `name` in `dir` without following it.
    public static func names(ofLink name: [UInt8], in dir: FileDescriptor) throws(SystemError) -> [[UInt8]] {
        let path = procPath(name, in: dir)
        return try names(call: "llistxattr", path: describe(name)) { buffer, size in withCName(path) { ccci_llistxattr($0, buffer, size) } }
    }

    /// Wraps lgetxattr(2) for `name` in `dir` without following it.
    public static func value(_ attribute: [UInt8], ofLink name: [UInt8], in dir: FileDescriptor) throws(SystemError) -> [UInt8] {
        let path = procPath(name, in: dir)
        return try value(call: "lgetxattr", name: attribute) { n, buffer, size in withCName(path) { ccci_lgetxattr($0, n, buffer, size) } }
    }

    /// Wraps lsetxattr(2) for `name` in `dir` without following it.
    public static func set(_ attribute: [UInt8], to value: [UInt8], onLink name: [UInt8], in dir: FileDescriptor) throws(SystemError) {
        let path = procPath(name, in: dir)
        _ = try retrying("lsetxattr", path: describe(name)) {
            withCName(path) { p in withCName(attribute) { n in value.withUnsafeBytes { ccci_lsetxattr(p, n, $0.baseAddress, $0.count, 0) } } }
        }
    }

    private static func procPath(_ name: [UInt8], in dir: FileDescriptor) -> [UInt8] {
        Array("/proc/self/fd/\(dir.rawValue)/".utf8) + name
    }

    private static func names(call: String, path: String?, _ list: (UnsafeMutablePointer<CChar>?, Int) -> Int) throws(SystemError) -> [[UInt8]] {
        while true {
            let size = list(nil, 0)
            if size == -1 {
                if errno == ENOTSUP { return [] }
                if errno == EINTR { continue }
                throw SystemError(call, errno: errno, path: path)
            }
            if size == 0 { return [] }
            var buffer = [UInt8](repeating: 0, count: size)
            let n = buffer.withUnsafeMutableBytes { list($0.baseAddress!.assumingMemoryBound(to: CChar.self), size) }
            if n == -1 {
                if errno == ERANGE || errno == EINTR { continue }  // grew since we asked its size
                throw SystemError(call, errno: errno, path: path)
            }
            var names = buffer[0..<n].split(separator: 0, omittingEmptySubsequences: true).map { Array($0) }
            names.sort { $0.lexicographicallyPrecedes($1) }
            return names
        }
    }

    private static func value(call: String, name: [UInt8], _ get: (UnsafePointer<CChar>, UnsafeMutableRawPointer?, Int) -> Int) throws(SystemError) -> [UInt8] {
        while true {
            let size = withCName(name) { get($0, nil, 0) }
            if size == -1 {
                if errno == EINTR { continue }
                throw SystemError(call, errno: errno, path: describe(name))
            }
            if size == 0 { return [] }
            var buffer = [UInt8](repeating: 0, count: size)
            let n = withCName(name) { n in buffer.withUnsafeMutableBytes { get(n, $0.baseAddress, size) } }
            if n == -1 {
                if errno == ERANGE || errno == EINTR { continue }
                throw SystemError(call, errno: errno, path: describe(name))
            }
            return Array(buffer[0..<n])
        }
    }
}
