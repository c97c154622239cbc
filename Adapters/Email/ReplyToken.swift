import Foundation
import HubCore

/// The signed token in a reply address (`support+TOKEN@example.com`): it names the conversation, and only the
/// hub can make one, so a forged address never joins a conversation.
public enum ReplyToken {
    public static func make(conversationId: String, secret: String) -> String {
        SignedID.sign(conversationId, purpose: "reply", secret: secret)
    }

    /// The conversation a token names, nil when it is not one the hub signed.
    public static func conversationId(in token: String, secret: String) -> String? {
        SignedID.verify(token, purpose: "reply", secret: secret)
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
}
