import Crypto
import Foundation

/// An id with a signature only the hub can make, for links and addresses that must not be guessed or forged
/// (a reply address, a customer's preferences link): `id.SIGNATURE`, the signature a truncated HMAC-SHA256 over
/// the purpose and the lowercased id, in base32 so the token survives case-insensitive mail systems.
public enum SignedID {
    public static func sign(_ id: String, purpose: String, secret: String) -> String {
        sign(id, purpose: purpose, key: Array(secret.utf8))
    }

    static func sign(_ id: String, purpose: String, key: [UInt8]) -> String {
        let id = id.lowercased()
        return id + "." + signature(id, purpose: purpose, key: key)
    }

    /// The id in a token the hub signed for `purpose`, in its original case (hub ids are a lowercase prefix and an
    /// uppercase ULID); nil when the token is not one.
    public static func verify(_ token: String, purpose: String, secret: String) -> String? {
        verify(token, purpose: purpose, key: Array(secret.utf8))
    }

    static func verify(_ token: String, purpose: String, key: [UInt8]) -> String? {
        let token = token.lowercased()
        guard let dot = token.lastIndex(of: "."), let underscore = token.firstIndex(of: "_"), underscore < dot else { return nil }
        let id = String(token[..<dot])
        guard constantTimeEqual(String(token[token.index(after: dot)...]), signature(id, purpose: purpose, key: key)) else { return nil }
        return id[...underscore] + id[id.index(after: underscore)...].uppercased()
    }

    private static func signature(_ id: String, purpose: String, key: [UInt8]) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(purpose):\(id)".utf8), using: SymmetricKey(data: key))
        return base32(Array(mac.prefix(10)))
    }

    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)

    private static func base32(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count * 8 + 4) / 5)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                output.append(alphabet[Int((buffer >> UInt32(bits)) & 31)])
            }
        }
        if bits > 0 { output.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return String(decoding: output, as: UTF8.self)
    }
}

/// A link only the hub can make: `BASE/PATH/TOKEN`, the token an id signed for one purpose.
public struct SignedLink: Sendable {
    /// The hub's public URL (`https://hub.example.com`), without a trailing slash.
    public let baseURL: String
    /// The secret's bytes, made once: a campaign signs a link for every message.
    let key: [UInt8]
    let path: String
    let purpose: String

    public init(baseURL: String, secret: String, path: String, purpose: String) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.key = Array(secret.utf8)
        self.path = path
        self.purpose = purpose
    }

    public func url(_ id: String) -> String {
        "\(baseURL)/\(path)/\(SignedID.sign(id, purpose: purpose, key: key))"
    }

    /// The id a link's token names, nil for a token the hub did not sign.
    public func id(token: String) -> String? {
        SignedID.verify(token, purpose: purpose, key: key)
    }
}

/// The link in every mail that lets a customer manage how the center reaches them, without an account: `BASE/p/TOKEN`.
public struct PreferencesLink: Sendable {
    let link: SignedLink

    public init(baseURL: String, secret: String) {
        link = SignedLink(baseURL: baseURL, secret: secret, path: "p", purpose: "preferences")
    }

    public func url(customerId: String) -> String { link.url(customerId) }

    /// The customer a link's token names, nil for a token the hub did not sign.
    public func customerId(token: String) -> String? { link.id(token: token) }
}

/// The one-click unsubscribe link of one campaign message: `BASE/u/TOKEN`, the token a signed message id.
public struct CampaignLinks: Sendable {
    let link: SignedLink

    public init(baseURL: String, secret: String) {
        link = SignedLink(baseURL: baseURL, secret: secret, path: "u", purpose: "unsubscribe")
    }

    public func unsubscribe(messageId: String) -> String { link.url(messageId) }

    /// The message a token names, nil for a token the hub did not sign.
    public func messageId(token: String) -> String? { link.id(token: token) }
}
