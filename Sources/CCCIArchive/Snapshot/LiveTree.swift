// The live side of a restore: checking a volume before anything is written, and removing the
// tree a restore replaced. Both work on names as bytes (a file name need not be UTF-8) and never
// cross into another mount: a bind mount inside a volume (or a volume that is itself a mount
// point, as docker's local driver with bind options makes `_data`) holds data the restore does
// not own. So a live tree with a mount point at or below it is refused before any write, and
// the removal compares every node's filesystem (st_dev) and mount (statx mount id) with the
// tree's root and stops, removing nothing more, at the first one that differs.
import CCCICore
import Glibc

enum LiveTree {
    /// Refuses (66) a live volume path that does not exist or is not a directory, and (74, code
    /// `mount-point`) one that is a mount point or holds one. Writes nothing.
    static func check(_ path: String, volume: Name) throws(Failure) {
        let parentPath = Journal.parent(path)
        let name = Array(Journal.base(path).utf8)
        let parent: FileDescriptor
        do { parent = try FileDescriptor.open(parentPath, O_RDONLY | O_DIRECTORY) } catch {
            throw Failure(.noInput, "missing-volume", "volume '\(volume)': '\(parentPath)': \(error.reason)")
        }
        defer { parent.closeQuietly() }
        do {
            guard let st = try Path.statusIfExists(name, in: parent) else {
                throw Failure(.noInput, "missing-volume", "volume '\(volume)': '\(path)' does not exist")
            }
            guard st.st_mode & S_IFMT == S_IFDIR else {
                throw Failure(.noInput, "missing-volume", "volume '\(volume)': '\(path)' is not a directory")
            }
            let parentStatus = try parent.status()
            let mount = try Path.mountID(name, in: parent)
            let parentMount = try parent.mountID()
            if st.st_dev != parentStatus.st_dev || mount != parentMount {
                throw mountPoint(volume, path, "is a mount point: it cannot be swapped by rename; restore into the directory it mounts instead")
            }
            let root = try FileDescriptor.open(name, relativeTo: parent, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
            defer { root.closeQuietly() }
            if let inner = try firstMount(in: root, device: st.st_dev, mount: mount, path: []) {
                throw mountPoint(volume, path, "holds a mount point at '\(ArchiveError.describe(inner))': unmount it first (a restore would replace what it mounts)")
            }
        } catch let f as Failure {
            throw f
        } catch {
            throw wrap(error, "volume '\(volume)' at '\(path)'")
        }
    }

    static func wrap(_ error: any Error, _ what: String) -> Failure {
        if let s = error as? SystemError { return Failure(s, doing: what) }
        return Failure.from(error)
    }

    static func mountPoint(_ volume: Name, _ path: String, _ why: String) -> Failure {
        Failure(.io, "mount-point", "volume '\(volume)': '\(path)' \(why)")
    }

    /// The path (below the root) of the first node on another filesystem or mount, or nil.
    static func firstMount(in dir: FileDescriptor, device: dev_t, mount: UInt64, path: [UInt8]) throws(SystemError) -> [UInt8]? {
        for name in try Path.names(in: dir) {
            let here = path.isEmpty ? name : path + [0x2F] + name
            let st = try Path.status(name, in: dir)
            let id = try Path.mountID(name, in: dir)
            if st.st_dev != device || id != mount { return here }
            guard st.st_mode & S_IFMT == S_IFDIR else { continue }
            let sub = try FileDescriptor.open(name, relativeTo: dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
            defer { sub.closeQuietly() }
            if let found = try firstMount(in: sub, device: device, mount: mount, path: here) { return found }
        }
        return nil
    }

    /// Removes `name` in `parent` (a tree the restore replaced or staged), never crossing a mount
    /// or filesystem boundary: at one it stops and throws (74, `mount-point`), leaving the
    /// boundary and everything on its way in place.
    static func remove(_ name: [UInt8], in parent: FileDescriptor) throws(Failure) {
        do {
            guard let st = try Path.statusIfExists(name, in: parent) else { return }
            let parentStatus = try parent.status()
            let mount = try parent.mountID()
            try remove(name, in: parent, status: st, device: parentStatus.st_dev, mount: mount, path: name)
        } catch let f as Failure {
            throw f
        } catch {
            throw wrap(error, "removing '\(ArchiveError.describe(name))'")
        }
    }

    private static func remove(_ name: [UInt8], in dir: FileDescriptor, status st: stat, device: dev_t, mount: UInt64, path: [UInt8]) throws {
        let id = try Path.mountID(name, in: dir)
        if st.st_dev != device || id != mount {
            throw Failure(.io, "mount-point", "'\(ArchiveError.describe(path))' is on another mount: not removed (unmount it, then remove the rest by hand)")
        }
        guard st.st_mode & S_IFMT == S_IFDIR else {
            try Path.unlink(name, in: dir)
            return
        }
        let sub = try FileDescriptor.open(name, relativeTo: dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
        defer { sub.closeQuietly() }
        let opened = try sub.status()
        guard opened.st_dev == st.st_dev, opened.st_ino == st.st_ino else {
            throw Failure(.io, "changed", "'\(ArchiveError.describe(path))' changed while being removed")
        }
        for child in try Path.names(in: sub) {
            guard let cst = try Path.statusIfExists(child, in: sub) else { continue }
            try remove(child, in: sub, status: cst, device: device, mount: mount, path: path + [0x2F] + child)
        }
        try Path.removeDirectory(name, in: dir)
    }
}
