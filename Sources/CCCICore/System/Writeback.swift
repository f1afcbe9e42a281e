import CSystem
import Glibc

// Durability without an fsync per file: start the kernel's writeback of what was just written
// (sync_file_range SYNC_FILE_RANGE_WRITE, which returns at once), let it overlap with producing
// more, wait for it on ranges written a while ago so dirty memory stays bounded, and finish with a
// single syncfs(2) or fsync(2) that then has little left to do.
extension FileDescriptor {
    /// Wraps sync_file_range(2) with SYNC_FILE_RANGE_WRITE: starts writeback of the range and
    /// returns without waiting. `count` 0 means to the end of the file.
    public func startWriteback(offset: Int64, count: Int64) throws(SystemError) {
        let flags = ccci_sync_file_range_write()
        _ = try retrying("sync_file_range") { ccci_sync_file_range(rawValue, offset, count, flags) }
    }

    /// Wraps sync_file_range(2) with WAIT_BEFORE | WRITE | WAIT_AFTER: returns once the range's
    /// data has reached the device (not its metadata: a later fsync or syncfs does that).
    public func awaitWriteback(offset: Int64, count: Int64) throws(SystemError) {
        let flags = ccci_sync_file_range_wait_before() | ccci_sync_file_range_write() | ccci_sync_file_range_wait_after()
        _ = try retrying("sync_file_range") { ccci_sync_file_range(rawValue, offset, count, flags) }
    }

    /// Wraps posix_fadvise(2) with POSIX_FADV_SEQUENTIAL. Advice only: failures are ignored.
    public func adviseSequential() {
        _ = ccci_posix_fadvise(rawValue, 0, 0, ccci_fadv_sequential())
    }

    /// Wraps syncfs(2): flushes the whole filesystem holding this descriptor, data and metadata.
    public func syncFileSystem() throws(SystemError) {
        _ = try retrying("syncfs") { ccci_syncfs(rawValue) }
    }
}
