// The 512-byte tar header, POSIX ustar layout (with GNU's variant for reading):
//
//   offset size field            offset size field
//      0   100 name                 257    6 magic ("ustar\0"; GNU: "ustar ")
//    100     8 mode                 263    2 version ("00"; GNU: " \0")
//    108     8 uid                  265   32 uname
//    116     8 gid                  297   32 gname
//    124    12 size                 329    8 devmajor
//    136    12 mtime                337    8 devminor
//    148     8 chksum               345  155 prefix (ustar only; GNU keeps atime, ctime and
//    156     1 typeflag                       its old sparse map here)
//    157   100 linkname
//
// Numbers are octal text, NUL- or space-terminated; GNU also writes base-256 (first byte has
// the high bit set) for values that do not fit. The checksum is the sum of all 512 bytes with the
// chksum field counted as spaces; some old writers summed signed bytes, so either sum is accepted.

enum Header {
    static let size = 512

    static let regular: UInt8 = 0x30       // '0' ('\0' and '7' read as regular too)
    static let hardLink: UInt8 = 0x31      // '1'
    static let symlink: UInt8 = 0x32       // '2'
    static let characterDevice: UInt8 = 0x33
    static let blockDevice: UInt8 = 0x34
    static let directory: UInt8 = 0x35
    static let fifo: UInt8 = 0x36
    static let contiguous: UInt8 = 0x37
    static let paxLocal: UInt8 = 0x78      // 'x'
    static let paxGlobal: UInt8 = 0x67     // 'g'
    static let gnuLongName: UInt8 = 0x4C   // 'L'
    static let gnuLongLink: UInt8 = 0x4B   // 'K'
    static let gnuSparse: UInt8 = 0x53     // 'S'

    /// Largest values the fixed fields hold as octal: 11 digits for size and mtime, 7 for the rest.
    static let maxOctal11: Int64 = 0o77777777777
    static let maxOctal7: Int64 = 0o7777777

    // MARK: writing

    struct Fields {
        var name: [UInt8] = []
        var mode: UInt32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
        var size: Int64 = 0
        var mtime: Int64 = 0
        var typeflag: UInt8 = regular
        var linkname: [UInt8] = []
        var deviceMajor: UInt32 = 0
        var deviceMinor: UInt32 = 0
    }

    /// A ustar header block. Fields that do not fit are truncated (names) or written as 0
    /// (numbers): the caller has put the true values in a pax header.
    static func encode(_ f: Fields) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: size)
        func put(_ bytes: [UInt8], at offset: Int, width: Int) {
            for (i, byte) in bytes.prefix(width).enumerated() { b[offset + i] = byte }
        }
        func octal(_ value: Int64, at offset: Int, width: Int) {
            let digits = width - 1
            let limit: Int64 = digits >= 21 ? Int64.max : (Int64(1) << (3 * digits)) - 1
            put(octalDigits(value < 0 || value > limit ? 0 : value, count: digits) + [0], at: offset, width: width)
        }
        put(f.name, at: 0, width: 100)
        octal(Int64(f.mode & 0o7777), at: 100, width: 8)
        octal(Int64(f.uid), at: 108, width: 8)
        octal(Int64(f.gid), at: 116, width: 8)
        octal(f.size, at: 124, width: 12)
        octal(f.mtime, at: 136, width: 12)
        b[156] = f.typeflag
        put(f.linkname, at: 157, width: 100)
        put(Array("ustar\u{0}00".utf8), at: 257, width: 8)
        octal(Int64(f.deviceMajor), at: 329, width: 8)
        octal(Int64(f.deviceMinor), at: 337, width: 8)
        var sum = 0
        for (i, byte) in b.enumerated() { sum += (148..<156).contains(i) ? 0x20 : Int(byte) }
        put(octalDigits(Int64(sum), count: 6) + [0, 0x20], at: 148, width: 8)
        return b
    }

    static func octalDigits(_ value: Int64, count: Int) -> [UInt8] {
        var digits = [UInt8](repeating: 0x30, count: count)
        var v = value
        var i = count - 1
        while v > 0 && i >= 0 {
            digits[i] = 0x30 + UInt8(v & 7)
            v >>= 3
            i -= 1
        }
        return digits
    }

    // MARK: reading

    /// Whether all 512 bytes are zero (an end-of-archive block).
    static func isZero(_ block: UnsafeRawBufferPointer) -> Bool {
        block.allSatisfy { $0 == 0 }
    }

    static func checksumMatches(_ block: UnsafeRawBufferPointer) -> Bool {
        guard let stored = number(block, 148, 8) else { return false }
        var unsigned = 0
        var signed = 0
        for i in 0..<size {
            let byte = (148..<156).contains(i) ? 0x20 : block[i]
            unsigned += Int(byte)
            signed += Int(Int8(bitPattern: byte))
        }
        return stored == Int64(unsigned) || stored == Int64(signed)
    }

    enum Magic { case ustar, gnu }

    static func magic(_ block: UnsafeRawBufferPointer) -> Magic? {
        let m = Array(block[257..<265])
        if m == Array("ustar\u{0}00".utf8) { return .ustar }
        if m == Array("ustar  \u{0}".utf8) { return .gnu }
        return nil
    }

    /// A numeric field: octal text (leading spaces, then digits, then NUL/space to the end) or
    /// GNU base-256. nil when malformed. An all-blank field is 0.
    static func number(_ block: UnsafeRawBufferPointer, _ offset: Int, _ width: Int) -> Int64? {
        let field = UnsafeRawBufferPointer(rebasing: block[offset..<offset + width])
        if field[0] & 0x80 != 0 {
            // GNU base-256: big-endian two's complement; in the first byte the top bit marks the
            // form and the next is the sign.
            let negative = field[0] & 0x40 != 0
            var value = Int64(field[0] & 0x3F) - (negative ? 0x40 : 0)
            for byte in field.dropFirst() {
                guard value <= Int64.max >> 8, value >= Int64.min >> 8 else { return nil }
                value = value * 256 + Int64(byte)
            }
            return value
        }
        var i = 0
        while i < width && field[i] == 0x20 { i += 1 }
        var value: Int64 = 0
        while i < width, field[i] >= 0x30, field[i] <= 0x37 {
            if value > (Int64.max >> 3) { return nil }
            value = value << 3 | Int64(field[i] - 0x30)
            i += 1
        }
        while i < width {
            if field[i] != 0 && field[i] != 0x20 { return nil }
            i += 1
        }
        return value
    }

    /// A NUL-terminated (or full-width) text field's bytes.
    static func text(_ block: UnsafeRawBufferPointer, _ offset: Int, _ width: Int) -> [UInt8] {
        Array(block[offset..<offset + width].prefix(while: { $0 != 0 }))
    }
}
