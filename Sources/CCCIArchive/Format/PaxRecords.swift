import CCCICore

// pax extended header records (POSIX.1-2001, pax "Extended Header"): each record is
// "<length> <keyword>=<value>\n", where <length> counts the whole record including its own digits
// and the newline. Values are bytes (xattr values are binary); the first '=' ends the keyword.
enum PaxRecords {
    static func encode(_ keyword: [UInt8], _ value: [UInt8]) -> [UInt8] {
        let body = 1 + keyword.count + 1 + value.count + 1  // " keyword=value\n"
        var length = body + 1
        while String(length).utf8.count + body != length { length = String(length).utf8.count + body }
        var out = Array(String(length).utf8)
        out.append(0x20)
        out.append(contentsOf: keyword)
        out.append(0x3D)
        out.append(contentsOf: value)
        out.append(0x0A)
        return out
    }

    static func encode(_ keyword: String, _ value: String) -> [UInt8] { encode(Array(keyword.utf8), Array(value.utf8)) }

    /// Records in order (a keyword may repeat: GNU sparse 0.0 relies on it).
    static func parse(_ data: [UInt8]) throws(ArchiveError) -> [(keyword: [UInt8], value: [UInt8])] {
        var records: [(keyword: [UInt8], value: [UInt8])] = []
        var i = 0
        while i < data.count {
            if data[i] == 0 && data[i...].allSatisfy({ $0 == 0 }) { break }  // NUL padding
            var length = 0
            var j = i
            while j < data.count, data[j] >= 0x30, data[j] <= 0x39, j - i < 12 {
                length = length * 10 + Int(data[j] - 0x30)
                j += 1
            }
            guard j > i, j < data.count, data[j] == 0x20, length > j - i + 1, i + length <= data.count, data[i + length - 1] == 0x0A else {
                throw ArchiveError(.corrupt, "malformed pax record at byte \(i) of an extended header")
            }
            let body = data[(j + 1)..<(i + length - 1)]
            guard let eq = body.firstIndex(of: 0x3D), eq > body.startIndex else {
                throw ArchiveError(.corrupt, "malformed pax record at byte \(i) of an extended header")
            }
            records.append((Array(body[body.startIndex..<eq]), Array(body[(eq + 1)...])))
            i += length
        }
        return records
    }

    /// A pax time: decimal seconds with an optional fraction, possibly negative ("-1.5" is
    /// 1.5 s before the epoch).
    static func parseTime(_ value: [UInt8]) -> Timestamp? {
        var i = 0
        var negative = false
        if i < value.count, value[i] == 0x2D { negative = true; i += 1 }
        var seconds: Int64 = 0
        let start = i
        while i < value.count, value[i] >= 0x30, value[i] <= 0x39 {
            guard seconds < Int64.max / 10 - 10 else { return nil }
            seconds = seconds * 10 + Int64(value[i] - 0x30)
            i += 1
        }
        guard i > start else { return nil }
        var nanos = 0
        if i < value.count, value[i] == 0x2E {
            i += 1
            var digits = 0
            while i < value.count, value[i] >= 0x30, value[i] <= 0x39 {
                if digits < 9 { nanos = nanos * 10 + Int(value[i] - 0x30); digits += 1 }
                i += 1
            }
            while digits < 9 { nanos *= 10; digits += 1 }
        }
        guard i == value.count else { return nil }
        if !negative { return Timestamp(seconds: seconds, nanoseconds: nanos) }
        return nanos == 0 ? Timestamp(seconds: -seconds) : Timestamp(seconds: -seconds - 1, nanoseconds: 1_000_000_000 - nanos)
    }

    /// The inverse of `parseTime`: no fraction when whole, else up to 9 digits without trailing zeros.
    static func formatTime(_ t: Timestamp) -> String {
        var whole = t.seconds
        var nanos = t.nanoseconds
        var sign = ""
        if whole < 0 {
            sign = "-"
            if nanos > 0 { whole = -(whole + 1); nanos = 1_000_000_000 - nanos } else { whole = -whole }
        }
        guard nanos > 0 else { return sign + String(whole) }
        var fraction = String(nanos)
        fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return sign + String(whole) + "." + fraction
    }

    /// A non-negative decimal integer value; nil if malformed or over `limit`.
    static func parseNumber(_ value: [UInt8], limit: Int64 = Int64.max) -> Int64? {
        guard !value.isEmpty, value.count <= 19 else { return nil }
        var n: Int64 = 0
        for c in value {
            guard c >= 0x30, c <= 0x39 else { return nil }
            n = n * 10 + Int64(c - 0x30)
        }
        return n <= limit ? n : nil
    }
}
