import CSystem
import Glibc

extension FileDescriptor {
    /// Wraps lseek(2) with SEEK_DATA: the first offset at or after `offset` that holds data, or nil
    /// when only a hole (or the end) follows (ENXIO).
    public func nextData(from offset: Int64) throws(SystemError) -> Int64? {
        let r = lseek(rawValue, off_t(offset), ccci_seek_data())
        if r == -1 {
            if errno == ENXIO { return nil }
            throw SystemError("lseek", errno: errno)
        }
        return Int64(r)
    }

    /// Wraps lseek(2) with SEEK_HOLE: the first offset at or after `offset` in a hole (the end of
    /// file counts as one).
    public func nextHole(from offset: Int64) throws(SystemError) -> Int64 {
        let r = lseek(rawValue, off_t(offset), ccci_seek_hole())
        if r == -1 { throw SystemError("lseek", errno: errno) }
        return Int64(r)
    }

    /// The data regions of a file of `size` bytes as (offset, length) pairs, from SEEK_DATA and
    /// SEEK_HOLE. A filesystem without hole reporting answers one region covering the file.
    public func dataRegions(size: Int64) throws(SystemError) -> [(offset: Int64, length: Int64)] {
        var regions: [(offset: Int64, length: Int64)] = []
        var offset: Int64 = 0
        while offset < size {
            guard let start = try nextData(from: offset), start < size else { break }
            let end = min(try nextHole(from: start), size)
            regions.append((start, end - start))
            offset = end
        }
        return regions
    }
}
