// The verification stamp, `<app>/verified.json`: written by `ccci-canon has` after it re-read and
// checked every archive of the snapshot, so that the next `has` on an unchanged snapshot answers
// without re-reading hundreds of megabytes.
//
// What "unchanged" means: the manifest is read and hashed every time (its digest must be the
// record's, as before); every archive is opened as `verify` opens it (a regular file, no symlink
// followed, never waited on) and fstat'ed, and its identity (st_dev, st_ino, st_size, mtime and
// ctime in ns) must be the one it had when it was verified. Any write, truncation, chmod, `touch
// -d`, or another file renamed into its place changes the inode or the ctime, and no user call
// sets a ctime back.
//
// Why a stamp cannot vouch for anything it did not see: it carries an HMAC-SHA256, keyed by
// `<state>/stamp.key` (32 random bytes, 0600, made by the first stamp), over the app, the manifest
// digest, the time of the verification and every archive's identity. Only the MAC is used: `has`
// recomputes it from what is on disk *now* and compares. The other fields are there for people.
// So a stamp written by hand, copied from another app or host, left from another manifest or
// from before a change, never matches, and `has` re-verifies for real. A stamp that is not a
// regular file (a symlink, a FIFO) is not read. A failed verification removes the stamp.
//
// Racy stamps (git's "racily clean" index entries): ctime moves with the kernel's coarse clock,
// so a change in the same tick as the previous change can leave it equal. A stamp is written only
// when every archive's ctime is at least a second older than the moment its identity was taken
// before the full read, and only when the identities taken before and after that read agree.
//
// What a stamp cannot see: bytes that rot on the disk without a write through the kernel. The
// nightly sweep runs `ccci-canon has --full` for that, and a restore always re-verifies.
import CCCICore
import Glibc

/// An archive's identity as fstat(2) reports it.
struct ArchiveIdentity: Equatable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var mtimeNanoseconds: Int64
    var ctimeNanoseconds: Int64

    init(_ st: stat) {
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        size = Int64(st.st_size)
        mtimeNanoseconds = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        ctimeNanoseconds = Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec)
    }

    var text: String { "\(device) \(inode) \(size) \(mtimeNanoseconds) \(ctimeNanoseconds)" }
}

enum VerificationStamp {
    static let file = "verified.json"
    static let keyFile = "stamp.key"
    static let format = "ccci-verify-stamp/1"
    /// How much older than the moment of the first fstat an archive's ctime must be.
    static let racyMargin: Int64 = 1_000_000_000

    /// What the stamp said about the snapshot as it is now.
    enum Finding: String {
        /// It vouches for exactly this manifest and these archives.
        case valid
        case missing
        /// Present but not a regular file, or not a stamp at all.
        case unreadable
        /// A stamp, but not for this snapshot as it is now (changed, forged, another manifest).
        case stale
        /// Not consulted (`--full`).
        case ignored
    }

    /// The identity of every archive of `manifest` below the snapshot directory `snap`, in the
    /// manifest's order; nil when one cannot be opened as `verify` would open it.
    static func identities(of manifest: Manifest, in snap: FileDescriptor) -> [ArchiveIdentity]? {
        var out: [ArchiveIdentity] = []
        for v in manifest.volumes {
            guard let fd = try? SnapshotStore.openArchive(v, in: snap, app: manifest.app) else { return nil }
            defer { fd.closeQuietly() }
            guard let st = try? fd.status() else { return nil }
            out.append(ArchiveIdentity(st))
        }
        return out
    }

    static func mac(key: [UInt8], manifest: Manifest, verifiedAt: String, identities: [ArchiveIdentity]) -> String {
        var text = "\(format)\n\(manifest.app.value)\n\(manifest.digest.hex)\n\(verifiedAt)\n"
        for (v, id) in zip(manifest.volumes, identities) { text += "\(v.archive) \(id.text)\n" }
        return HMAC.sha256(key: key, Array(text.utf8)).hex
    }

    /// Reads the key; nil when there is none usable (missing, not a regular file, wrong size).
    static func key(in root: FileDescriptor) -> [UInt8]? {
        guard let bytes = try? SnapshotStore.readRegular(keyFile, in: root, limit: 64), bytes.count == 32 else { return nil }
        return bytes
    }

    /// Whether the stamp in `appDir` vouches for `manifest` and its archives as they are now, and
    /// when that verification was made.
    static func check(_ manifest: Manifest, appDir: FileDescriptor, snap: FileDescriptor, root: FileDescriptor) -> (Finding, String?) {
        let bytes: [UInt8]?
        do { bytes = try SnapshotStore.readRegular(file, in: appDir, limit: 1 << 20) } catch { return (.unreadable, nil) }
        guard let bytes else { return (.missing, nil) }
        guard let stamp = try? JSON.parse(bytes), stamp["format"]?.string == format,
            let mac = stamp["mac"]?.string, let verifiedAt = stamp["verified_at"]?.string
        else { return (.unreadable, nil) }
        guard let key = key(in: root), let now = identities(of: manifest, in: snap),
            zip(manifest.volumes, now).allSatisfy({ $0.bytes == $1.size }),
            mac == VerificationStamp.mac(key: key, manifest: manifest, verifiedAt: verifiedAt, identities: now)
        else { return (.stale, nil) }
        return (.valid, verifiedAt)
    }

    /// Writes the stamp for `manifest`, verified just now, when `before` (taken at `takenAt`, in
    /// ns since the epoch, before the full read) still holds and is not racy. Returns whether it
    /// was written: stamping is an optimisation, so nothing here fails the answer.
    static func write(
        _ manifest: Manifest, before: [ArchiveIdentity], takenAt: Int64, verifiedAt: String,
        appDir: FileDescriptor, snap: FileDescriptor, root: FileDescriptor
    ) -> Bool {
        guard let after = identities(of: manifest, in: snap), after == before,
            before.allSatisfy({ $0.ctimeNanoseconds <= takenAt - racyMargin })
        else { return false }
        var key = key(in: root)
        if key == nil, let fresh = try? Kernel.randomBytes(32), (try? AtomicFile.write(fresh, to: keyFile, in: root)) != nil {
            key = fresh
        }
        guard let key else { return false }
        let archives: [JSON] = zip(manifest.volumes, before).map { v, id in
            ["archive": .string(v.archive), "dev": JSON(id.device), "ino": JSON(id.inode), "size": JSON(id.size),
             "mtime_ns": JSON(id.mtimeNanoseconds), "ctime_ns": JSON(id.ctimeNanoseconds)]
        }
        let stamp: JSON = [
            "format": .string(format), "app": .string(manifest.app.value), "manifest_digest": .string(manifest.digest.hex),
            "verified_at": .string(verifiedAt), "archives": .array(archives),
            "mac": .string(mac(key: key, manifest: manifest, verifiedAt: verifiedAt, identities: before)),
        ]
        return (try? AtomicFile.write(Array((stamp.text + "\n").utf8), to: file, in: appDir)) != nil
    }

    /// Removes the stamp (after a failed verification).
    static func remove(in appDir: FileDescriptor) {
        try? Path.unlink(file, in: appDir)
    }
}
