import Testing
@testable import CCCICore

@Suite struct JWTs {
    // RFC 4648 section 10 vectors, in the base64url alphabet without padding.
    @Test(arguments: [("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"), ("foobar", "Zm9vYmFy")])
    func base64URL(_ plain: String, _ encoded: String) throws {
        #expect(JWT.base64URLEncode(Array(plain.utf8)) == encoded)
        #expect(try #require(JWT.base64URLDecode(encoded)) == Array(plain.utf8))
    }

    @Test func urlAlphabetAndPadding() {
        #expect(JWT.base64URLDecode("-_8") == [0xFB, 0xFF])
        #expect(JWT.base64URLEncode([0xFB, 0xFF]) == "-_8")
        #expect(JWT.base64URLDecode("Zm8=") == Array("fo".utf8))
        #expect(JWT.base64URLDecode("+/8") == nil)  // standard alphabet refused
        #expect(JWT.base64URLDecode("Z") == nil)    // a lone 6-bit group
        #expect(JWT.base64URLDecode("Zh") == nil)   // non-zero leftover bits
        #expect(JWT.base64URLDecode("Zg=a") == nil) // data after padding
    }

    @Test func roundTripsEveryByte() throws {
        let bytes = (0...255).map { UInt8($0) }
        for n in [0, 1, 2, 3, 100, 256] {
            #expect(try #require(JWT.base64URLDecode(JWT.base64URLEncode(Array(bytes.prefix(n))))) == Array(bytes.prefix(n)))
        }
    }

    static func token(_ header: String, _ payload: String, signature: String = "c2ln") -> String {
        JWT.base64URLEncode(Array(header.utf8)) + "." + JWT.base64URLEncode(Array(payload.utf8)) + "." + signature
    }

    @Test func decodesClaims() throws {
        let t = Self.token(#"{"alg":"RS256","typ":"JWT"}"#, #"{"iss":"https://sso.example/realms/r-abcdef","azp":"r","preferred_username":"ci","exp":1795426020}"#)
        let (header, claims) = try JWT.decode(t)
        #expect(header["alg"] == "RS256")
        #expect(claims["iss"] == "https://sso.example/realms/r-abcdef")
        #expect(claims["azp"] == "r" && claims["preferred_username"] == "ci")
        #expect(claims["exp"]?.int == 1_795_426_020)
    }

    @Test(arguments: [
        "", "abc", "a.b", "a.b.c.d", "..", "e30.e30.", "e30..c2ln", "e30.e30.+++", "e30.bm90IGpzb24.c2ln", "e30.WzFd.c2ln",
        "not a token at all",
    ])
    func refusesNonJWT(_ t: String) {
        #expect { try JWT.decode(t) } throws: { ($0 as? Failure)?.exit == .badData && ($0 as? Failure)?.code == "not-jwt" }
    }
}
