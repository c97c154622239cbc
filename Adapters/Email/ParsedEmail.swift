import Foundation

/// A mailbox: an address and the name shown with it.
public struct MailAddress: Sendable, Equatable {
    public var address: String
    public var name: String?

    public init(address: String, name: String? = nil) {
        self.address = address
        self.name = name
    }
}

/// A file carried by a mail, with its decoded bytes.
public struct MailAttachment: Sendable, Equatable {
    public var filename: String
    public var contentType: String
    public var bytes: [UInt8]
    /// The id an HTML body refers to it by (`cid:`), for inline images.
    public var contentId: String?
    public var inline: Bool

    public init(filename: String, contentType: String, bytes: [UInt8], contentId: String? = nil, inline: Bool = false) {
        self.filename = filename
        self.contentType = contentType
        self.bytes = bytes
        self.contentId = contentId
        self.inline = inline
    }
}

/// A delivery status notification (RFC 3464): which message it is about and what happened per recipient.
public struct DeliveryStatusReport: Sendable, Equatable {
    /// One recipient's fate.
    public struct Recipient: Sendable, Equatable {
        public var address: String
        /// `failed`, `delayed`, `delivered`, `relayed` or `expanded`.
        public var action: String
        /// The enhanced status code, `5.1.1`.
        public var status: String
        /// The remote server's words.
        public var diagnostic: String?

        /// A failure that trying again will not mend (a 5.x.x status).
        public var isPermanentFailure: Bool { action == "failed" && status.hasPrefix("5") }
    }

    /// The Message-ID of the message that bounced, without angle brackets.
    public var originalMessageId: String?
    public var recipients: [Recipient]
}

/// A parsed RFC 5322 message: what the hub needs of it, decoded to text.
public struct ParsedEmail: Sendable {
    let headers: MailHeaders
    public var from: MailAddress?
    public var to: [MailAddress]
    public var cc: [MailAddress]
    public var subject: String?
    /// Without angle brackets, as are `inReplyTo` and `references`.
    public var messageId: String?
    public var inReplyTo: [String]
    public var references: [String]
    public var date: Date?
    /// The plain-text body, or a text rendering of the HTML when the mail has no text part.
    public var text: String
    public var html: String?
    /// `text` without the quoted history a reply carries below it.
    public var visibleText: String
    public var attachments: [MailAttachment]
    /// An auto-reply, a bulk or list mail, or a delivery report: never answered, never reopens a conversation.
    public var isAutomated: Bool
    public var deliveryReport: DeliveryStatusReport?

    /// A header's first value, its name matched case-insensitively, unfolded and decoded.
    public func header(_ name: String) -> String? { headers.decoded(name) }
}

/// Why a mail could not be read.
public struct MailError: Error, Sendable, CustomStringConvertible {
    public var description: String

    init(_ description: String) { self.description = description }
}
