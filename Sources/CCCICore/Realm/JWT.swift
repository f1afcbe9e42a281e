// The claims of a JSON Web Token (RFC 7519) in compact JWS form: three base64url parts
// `header.payload.signature`. Only decoded, never verified: ccci-realm's check asks whether the
// server issued a token for the right realm, client and user, and a token it has just received
// over the connection it opened itself is not evidence to be doubted. The signature part must
// still be present and base64url, so a non-JWT answer is refused rather than half-read.

public enum JWT {
    /// The token's header and claims; a bad-data failure for anything that is not a compact JWS
    /// whose header and payload are JSON objects.
    public static func decode(_ token: String) throws(Failure) -> (header: JSONObject, claims: JSONObject) {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty, !parts[2].isEmpty else {
            throw Failure.badData("token is not a JWT: expected three base64url parts separated by '.'", code: "not-jwt")
        }
        guard base64URLDecode(parts[2]) != nil else {
            throw Failure.badData("token is not a JWT: the signature part is not base64url", code: "not-jwt")
        }
        func object(_ part: Substring, _ what: String) throws(Failure) -> JSONObject {
            guard let bytes = base64URLDecode(part) else { throw Failure.badData("token is not a JWT: its \(what) is not base64url", code: "not-jwt") }
            guard let value = try? JSON.parse(bytes), let o = value.object else {
                throw Failure.badData("token is not a JWT: its \(what) is not a JSON object", code: "not-jwt")
            }
            return o
        }
        return (try object(parts[0], "header"), try object(parts[1], "payload"))
    }

    /// Base64url without padding (RFC 4648 section 5); padding `=` tolerated; nil on anything else.
    public static func base64URLDecode<S: StringProtocol>(_ text: S) -> [UInt8]? {
        var bits: UInt32 = 0
        var count = 0
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count * 3 / 4)
        var padding = 0
        for c in text.utf8 {
            let v: UInt32
            switch c {
            case 0x41...0x5A: v = UInt32(c - 0x41)
            case 0x61...0x7A: v = UInt32(c - 0x61 + 26)
            case 0x30...0x39: v = UInt32(c - 0x30 + 52)
            case 0x2D: v = 62  // '-'
            case 0x5F: v = 63  // '_'
            case 0x3D: padding += 1; continue  // '='
            default: return nil
            }
            if padding > 0 { return nil }  // data after padding
            bits = (bits << 6) | v
            count += 6
            if count >= 8 {
                count -= 8
                out.append(UInt8((bits >> UInt32(count)) & 0xFF))
            }
        }
        // A lone 6-bit group cannot encode a byte; leftover bits must be zero (canonical form).
        if count >= 6 || bits & ((1 << UInt32(count)) - 1) != 0 || padding > 2 { return nil }
        return out
    }

    /// Base64url without padding, for building tokens in tests.
    public static func base64URLEncode(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let n = min(3, bytes.count - i)
            var chunk = UInt32(bytes[i]) << 16
            if n > 1 { chunk |= UInt32(bytes[i + 1]) << 8 }
            if n > 2 { chunk |= UInt32(bytes[i + 2]) }
            for k in 0...n { out.append(alphabet[Int((chunk >> UInt32(18 - 6 * k)) & 0x3F)]) }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
