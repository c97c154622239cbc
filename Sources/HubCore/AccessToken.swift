import Crypto
import Foundation

/// Bearer tokens: shown once, stored only as a SHA-256 digest.
public enum AccessToken {
    /// A new random token (`prefix` and 43 base64url characters, 256 bits).
    public static func generate(prefix: String = "sb_") -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return prefix + Data(bytes).base64URLEncoded()
    }

    /// The digest under which a token is stored and looked up.
    public static func digest(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).hexString
    }
}

/// A stored token, without its secret.
public struct TokenRecord: Codable, Sendable, Equatable {
    public var id: String
    public var role: Role
    public var agentId: String?
    public var name: String?
    public var createdAt: Date

    public init(id: String, role: Role, agentId: String?, name: String?, createdAt: Date) {
        self.id = id
        self.role = role
        self.agentId = agentId
        self.name = name
        self.createdAt = createdAt
    }
}

extension Data {
    /// Base64url without padding (RFC 4648 §5).
    public func base64URLEncoded() -> String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

extension Sequence where Element == UInt8 {
    /// Lowercase hexadecimal.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
