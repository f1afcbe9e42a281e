/// HMAC-SHA256 (RFC 2104, FIPS 198-1): a keyed digest that only a holder of the key can produce.
public enum HMAC {
    public static func sha256(key: [UInt8], _ message: [UInt8]) -> SHA256Digest {
        var block = key.count > 64 ? SHA256.hash(key).bytes : key
        block += [UInt8](repeating: 0, count: 64 - block.count)
        var inner = SHA256()
        inner.update(block.map { $0 ^ 0x36 })
        inner.update(message)
        var outer = SHA256()
        outer.update(block.map { $0 ^ 0x5C })
        outer.update(inner.finalize().bytes)
        return outer.finalize()
    }
}
