import Foundation
import HubCore
import Testing

@Suite("AccessToken")
struct AccessTokenTests {
    private static let base64URL = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

    @Test("a token is sb_ and 43 base64url characters, and never repeats")
    func generatedShape() {
        let tokens = (0..<200).map { _ in AccessToken.generate() }
        for token in tokens {
            #expect(token.hasPrefix("sb_"))
            #expect(token.count == 46)
            #expect(token.dropFirst(3).allSatisfy { Self.base64URL.contains($0) }, "\(token)")
        }
        #expect(Set(tokens).count == tokens.count)
    }

    @Test("the digest is the lowercase hex SHA-256 of the token")
    func digest() {
        #expect(AccessToken.digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let token = AccessToken.generate()
        #expect(AccessToken.digest(token) == AccessToken.digest(token))
        #expect(AccessToken.digest(token) != AccessToken.digest(token + "x"))
    }

    @Test("base64url swaps + and / and drops the padding; hex is lowercase")
    func encodings() {
        #expect(Data([0xFB, 0xFF, 0xBF]).base64URLEncoded() == "-_-_")
        #expect(Data([0xFB, 0xFF]).base64URLEncoded() == "-_8")
        #expect([UInt8]([0x00, 0xAB, 0xFF, 0x10]).hexString == "00abff10")
    }
}
