import Crypto
import Foundation
import HubCore

/// The signed token in a reply address (`support+TOKEN@example.com`): it names the conversation,
/// and only the hub can make one, so a forged address never joins a conversation.
public enum ReplyToken {
    /// `CONVERSATION.SIGNATURE`, the signature a truncated HMAC-SHA256 in base32 (addresses are case-insensitive).
    public static func make(conversationId: String, secret: String) -> String {
        conversationId.lowercased() + "." + signature(conversationId.lowercased(), secret: secret)
    }

    /// The conversation a token names, nil when it is not one the hub signed.
    public static func conversationId(in token: String, secret: String) -> String? {
        let token = token.lowercased()
        guard let dot = token.lastIndex(of: ".") else { return nil }
        let id = String(token[..<dot])
        guard constantTimeEqual(String(token[token.index(after: dot)...]), signature(id, secret: secret)),
              let underscore = id.firstIndex(of: "_") else { return nil }
        // Hub ids are a lowercase prefix and an uppercase ULID; addresses may come back in any case.
        return id[...underscore] + id[id.index(after: underscore)...].uppercased()
    }

    /// The reply address for a conversation: the center's address with the token as its subaddress.
    public static func address(conversationId: String, configuration: EmailConfiguration) -> String? {
        guard let secret = configuration.replySecret, let at = configuration.address.lastIndex(of: "@") else { return nil }
        return configuration.address[..<at] + "+" + make(conversationId: conversationId, secret: secret) + configuration.address[at...]
    }

    /// The token in a recipient address of the center's mailbox (`local+TOKEN@domain`), if any.
    public static func token(inRecipient recipient: String, configuration: EmailConfiguration) -> String? {
        guard let at = configuration.address.lastIndex(of: "@") else { return nil }
        let local = configuration.address[..<at].lowercased()
        let recipient = recipient.lowercased()
        guard recipient.hasSuffix("@" + configuration.domain), recipient.hasPrefix(local + "+") else { return nil }
        let start = recipient.index(recipient.startIndex, offsetBy: local.count + 1)
        guard let end = recipient.lastIndex(of: "@"), start < end else { return nil }
        return String(recipient[start..<end])
    }

    private static func signature(_ id: String, secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(id.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return base32(Array(mac.prefix(10)))
    }

    private static func base32(_ bytes: [UInt8]) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        var output = ""
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
        return output
    }
}
