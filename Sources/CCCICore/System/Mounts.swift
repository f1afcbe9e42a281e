import CSystem
import Glibc

extension Path {
    /// Wraps statx(2) with STATX_MNT_ID (no symlink following): the id of the mount a name is
    /// on. A name whose mount id differs from its directory's is a mount point. 0 where the
    /// kernel cannot tell (before Linux 5.8): then only st_dev tells filesystems apart.
    public static func mountID(_ name: [UInt8], in dir: FileDescriptor) throws(SystemError) -> UInt64 {
        var id: UInt64 = 0
        _ = try retrying("statx", path: describe(name)) { withCName(name) { ccci_mount_id(dir.rawValue, $0, &id) } }
        return id
    }
}

extension FileDescriptor {
    /// Wraps statx(2) with AT_EMPTY_PATH and STATX_MNT_ID: the id of the mount this descriptor is on.
    public func mountID() throws(SystemError) -> UInt64 {
        var id: UInt64 = 0
        _ = try retrying("statx") { ccci_mount_id(rawValue, "", &id) }
        return id
    }
}
