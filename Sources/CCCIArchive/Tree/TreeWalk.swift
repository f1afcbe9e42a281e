import CCCICore
import Glibc

/// A node of a tree on disk as the walk hands it over.
struct TreeNode {
    var entry: Entry
    /// Regular files other than hard links: open for reading, closed by the walk after the visit.
    var file: FileDescriptor?
}

/// Walks a tree depth first, parents before children, siblings in byte order of their names: the
/// archive order. Everything is reached relative to an open directory descriptor with
/// O_NOFOLLOW, and each opened node is checked to be the one that was stat'ed. A second name for
/// an inode already seen becomes a hard-link entry; sockets are skipped (and listed), since no
/// archive can hold one.
struct TreeWalk {
    var allowDeviceNodes: Bool
    /// Sockets, by path.
    private(set) var skipped: [[UInt8]] = []
    private var firstNames: [InodeKey: [UInt8]] = [:]

    struct InodeKey: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    init(allowDeviceNodes: Bool) { self.allowDeviceNodes = allowDeviceNodes }

    mutating func walk(_ root: FileDescriptor, _ visit: (TreeNode) throws(ArchiveError) -> Void) throws(ArchiveError) {
        let st: stat
        do throws(SystemError) { st = try root.status() } catch { throw ArchiveError(error) }
        guard st.st_mode & S_IFMT == S_IFDIR else { throw ArchiveError(.system(SystemError("walk", errno: ENOTDIR)), "the tree's root is not a directory") }
        var entry = Self.entry([], type: .directory, st)
        entry.xattrs = try Self.xattrs(of: root, path: [])
        try visit(TreeNode(entry: entry, file: nil))
        try walkDirectory(root, path: [], visit)
    }

    private mutating func walkDirectory(_ dir: FileDescriptor, path: [UInt8], _ visit: (TreeNode) throws(ArchiveError) -> Void) throws(ArchiveError) {
        let names: [[UInt8]]
        do throws(SystemError) { names = try Path.names(in: dir) } catch { throw ArchiveError(error, path: path) }
        for name in names {
            let childPath = path.isEmpty ? name : path + [0x2F] + name
            let st: stat
            do throws(SystemError) { st = try Path.status(name, in: dir) } catch {
                if error.errno == ENOENT { throw ArchiveError(.changed, "removed while being archived", path: ArchiveError.describe(childPath)) }
                throw ArchiveError(error, path: childPath)
            }
            let format = st.st_mode & S_IFMT
            if format != S_IFDIR && st.st_nlink > 1 {
                let key = InodeKey(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
                if let first = firstNames[key] {
                    var entry = Self.entry(childPath, type: .hardLink, st)
                    entry.linkTarget = first
                    entry.size = 0
                    try visit(TreeNode(entry: entry, file: nil))
                    continue
                }
                firstNames[key] = childPath
            }
            switch format {
            case S_IFDIR:
                let sub = try Self.open(name, in: dir, path: childPath, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, expecting: st)
                defer { sub.closeQuietly() }
                var entry = Self.entry(childPath, type: .directory, st)
                entry.xattrs = try Self.xattrs(of: sub, path: childPath)
                try visit(TreeNode(entry: entry, file: nil))
                try walkDirectory(sub, path: childPath, visit)
            case S_IFREG:
                let file = try Self.open(name, in: dir, path: childPath, O_RDONLY | O_NOFOLLOW | FileDescriptor.noAccessTime, expecting: st)
                defer { file.closeQuietly() }
                var entry = Self.entry(childPath, type: .file, st)
                entry.xattrs = try Self.xattrs(of: file, path: childPath)
                if st.st_size > 0 && Int64(st.st_blocks) * 512 < Int64(st.st_size) {
                    // Fewer blocks than bytes: ask the filesystem where the holes are.
                    let regions: [(offset: Int64, length: Int64)]
                    do throws(SystemError) { regions = try file.dataRegions(size: Int64(st.st_size)) } catch { throw ArchiveError(error, path: childPath) }
                    // More regions than a reader accepts (ArchiveReader.maxRegions): stored dense,
                    // same content, so that we can always read what we write.
                    if !(regions.count == 1 && regions[0].offset == 0 && regions[0].length == Int64(st.st_size)) && regions.count <= ArchiveReader.maxRegions {
                        entry.regions = regions.map { Region(offset: $0.offset, length: $0.length) }
                    }
                }
                try visit(TreeNode(entry: entry, file: file))
            case S_IFLNK:
                var entry = Self.entry(childPath, type: .symlink, st)
                do throws(SystemError) { entry.linkTarget = try Path.readLink(name, in: dir) } catch { throw ArchiveError(error, path: childPath) }
                entry.xattrs = try Self.xattrs(ofLink: name, in: dir, path: childPath)
                try visit(TreeNode(entry: entry, file: nil))
            case S_IFIFO, S_IFCHR, S_IFBLK:
                let type: EntryType = format == S_IFIFO ? .fifo : format == S_IFCHR ? .characterDevice : .blockDevice
                if type != .fifo && !allowDeviceNodes {
                    throw ArchiveError(.permission, "device nodes are archived only when running as root", path: ArchiveError.describe(childPath))
                }
                var entry = Self.entry(childPath, type: type, st)
                (entry.deviceMajor, entry.deviceMinor) = type == .fifo ? (0, 0) : Kernel.deviceNumbers(st.st_rdev)
                entry.xattrs = try Self.xattrs(ofLink: name, in: dir, path: childPath)
                try visit(TreeNode(entry: entry, file: nil))
            default:
                skipped.append(childPath)
            }
        }
    }

    static func entry(_ path: [UInt8], type: EntryType, _ st: stat) -> Entry {
        var e = Entry(path: path, type: type)
        e.mode = UInt32(st.st_mode & 0o7777)
        e.uid = st.st_uid
        e.gid = st.st_gid
        e.modified = Timestamp(seconds: Int64(st.st_mtim.tv_sec), nanoseconds: st.st_mtim.tv_nsec)
        e.size = type == .file ? Int64(st.st_size) : 0
        return e
    }

    /// Opens `name` and checks it is still the inode `expected` describes.
    private static func open(_ name: [UInt8], in dir: FileDescriptor, path: [UInt8], _ flags: CInt, expecting expected: stat) throws(ArchiveError) -> FileDescriptor {
        let fd: FileDescriptor
        do throws(SystemError) {
            do throws(SystemError) { fd = try FileDescriptor.open(name, relativeTo: dir, flags) } catch {
                // O_NOATIME is refused (EPERM) on files we do not own without CAP_FOWNER.
                guard error.errno == EPERM, flags & FileDescriptor.noAccessTime != 0 else { throw error }
                fd = try FileDescriptor.open(name, relativeTo: dir, flags & ~FileDescriptor.noAccessTime)
            }
        } catch {
            if error.errno == ENOENT || error.errno == ELOOP || error.errno == ENOTDIR {
                throw ArchiveError(.changed, "replaced while being archived", path: ArchiveError.describe(path))
            }
            throw ArchiveError(error, path: path)
        }
        let st: stat
        do throws(SystemError) { st = try fd.status() } catch {
            fd.closeQuietly()
            throw ArchiveError(error, path: path)
        }
        if st.st_ino != expected.st_ino || st.st_dev != expected.st_dev || st.st_mode & S_IFMT != expected.st_mode & S_IFMT {
            fd.closeQuietly()
            throw ArchiveError(.changed, "replaced while being archived", path: ArchiveError.describe(path))
        }
        return fd
    }

    static func xattrs(of fd: FileDescriptor, path: [UInt8]) throws(ArchiveError) -> [ExtendedAttribute] {
        do throws(SystemError) {
            let names = try ExtendedAttributes.names(of: fd)
            if names.isEmpty { return [] }
            var result: [ExtendedAttribute] = []
            for name in names {
                do throws(SystemError) { result.append(ExtendedAttribute(name: name, value: try ExtendedAttributes.value(name, of: fd))) } catch {
                    if error.errno == ENODATA { continue }  // removed between list and get
                    throw error
                }
            }
            return result
        } catch { throw ArchiveError(error, path: path) }
    }

    static func xattrs(ofLink name: [UInt8], in dir: FileDescriptor, path: [UInt8]) throws(ArchiveError) -> [ExtendedAttribute] {
        do throws(SystemError) {
            let names = try ExtendedAttributes.names(ofLink: name, in: dir)
            if names.isEmpty { return [] }
            var result: [ExtendedAttribute] = []
            for attribute in names {
                do throws(SystemError) {
                    result.append(ExtendedAttribute(name: attribute, value: try ExtendedAttributes.value(attribute, ofLink: name, in: dir)))
                } catch {
                    if error.errno == ENODATA { continue }
                    throw error
                }
            }
            return result
        } catch { throw ArchiveError(error, path: path) }
    }
}
