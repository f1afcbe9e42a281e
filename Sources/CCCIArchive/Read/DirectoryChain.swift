import CCCICore
import Glibc

/// The open directories down to where the last entry went, reused by the next entry as far as
/// their paths agree (archives list siblings together, so most entries open nothing). Every
/// component is opened relative to its parent with O_DIRECTORY | O_NOFOLLOW: a symlink or a file
/// anywhere on the way is refused, never resolved, so nothing can be reached outside the root.
final class DirectoryChain {
    let root: FileDescriptor
    private var names: [[UInt8]] = []
    private var fds: [FileDescriptor] = []
    /// Directories this chain created because an entry needed them and the archive had not
    /// named them (yet).
    private(set) var created: [[UInt8]] = []

    init(root: FileDescriptor) { self.root = root }

    deinit { close() }

    func close() {
        for fd in fds { fd.closeQuietly() }
        fds = []
        names = []
    }

    /// The directory named by `components` below the root. Missing directories are created
    /// (mode 0755) when `create`; otherwise a missing one is an error.
    func open(_ components: ArraySlice<[UInt8]>, create: Bool, for entry: Entry) throws(ArchiveError) -> FileDescriptor {
        var common = 0
        while common < names.count && common < components.count && names[common] == components[components.startIndex + common] { common += 1 }
        while fds.count > common {
            fds.removeLast().closeQuietly()
            names.removeLast()
        }
        var current = fds.last ?? root
        for name in components.dropFirst(common) {
            let fd = try openComponent(name, in: current, create: create, for: entry)
            names.append(name)
            fds.append(fd)
            current = fd
        }
        return current
    }

    private func openComponent(_ name: [UInt8], in dir: FileDescriptor, create: Bool, for entry: Entry) throws(ArchiveError) -> FileDescriptor {
        var madeIt = false
        while true {
            do throws(SystemError) {
                return try FileDescriptor.open(name, relativeTo: dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
            } catch {
                switch error.errno {
                case ENOENT where create && !madeIt:
                    do throws(SystemError) { try Path.makeDirectory(name, in: dir, mode: 0o755) } catch { throw ArchiveError(error, path: entry.path) }
                    created.append(names.isEmpty ? name : names.joined(separator: [0x2F]) + [0x2F] + name)
                    madeIt = true
                case ENOENT:
                    throw ArchiveError(.hostile, "a directory on the way to '\(ArchiveError.describe(name))' does not exist", path: entry.pathText)
                case ELOOP, ENOTDIR:
                    let what = (try? Path.status(name, in: dir)).map { $0.st_mode & S_IFMT == S_IFLNK } ?? false ? "a symlink" : "a non-directory"
                    throw ArchiveError(.hostile, "path goes through \(what) ('\(ArchiveError.describe(name))')", path: entry.pathText)
                default:
                    throw ArchiveError(error, path: entry.path)
                }
            }
        }
    }
}
