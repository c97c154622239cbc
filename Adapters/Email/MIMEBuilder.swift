import Foundation

/// A mail the hub sends, before it is written out.
public struct OutgoingEmail: Sendable {
    public var from: MailAddress
    public var to: [MailAddress]
    public var replyTo: MailAddress?
    public var subject: String
    /// Without angle brackets, as are `inReplyTo` and `references`.
    public var messageId: String
    public var inReplyTo: String?
    public var references: [String]
    public var date: Date
    public var text: String
    public var html: String?
    public var attachments: [MailAttachment]
    /// RFC 8058 one-click unsubscribe for campaign mail: an HTTPS URL, and optionally a mailto.
    public var listUnsubscribe: (url: String, mailto: String?)?
    /// `auto-generated` for notices no one should answer automatically (RFC 3834).
    public var autoSubmitted: String?

    public init(from: MailAddress, to: [MailAddress], replyTo: MailAddress? = nil, subject: String, messageId: String,
                inReplyTo: String? = nil, references: [String] = [], date: Date, text: String, html: String? = nil,
                attachments: [MailAttachment] = [], listUnsubscribe: (url: String, mailto: String?)? = nil, autoSubmitted: String? = nil) {
        self.from = from
        self.to = to
        self.replyTo = replyTo
        self.subject = subject
        self.messageId = messageId
        self.inReplyTo = inReplyTo
        self.references = references
        self.date = date
        self.text = text
        self.html = html
        self.attachments = attachments
        self.listUnsubscribe = listUnsubscribe
        self.autoSubmitted = autoSubmitted
    }
}

/// Writes an `OutgoingEmail` as RFC 5322 bytes: UTF-8 bodies in quoted-printable, `multipart/alternative`
/// for text and HTML, `multipart/mixed` for attachments in base64, encoded words in headers, lines
/// within 78 characters, CRLF line endings.
public enum MIMEBuilder {
    public static func build(_ email: OutgoingEmail, boundarySeed: String = UUID().uuidString) -> [UInt8] {
        var headers: [(String, String)] = [
            ("Date", MailDate.format(email.date)),
            ("From", mailbox(email.from)),
            ("To", email.to.map(mailbox).joined(separator: ",\r\n ")),
        ]
        if let replyTo = email.replyTo { headers.append(("Reply-To", mailbox(replyTo))) }
        headers.append(("Subject", EncodedWord.encode(singleLine(email.subject))))
        headers.append(("Message-ID", "<\(email.messageId)>"))
        if let inReplyTo = email.inReplyTo { headers.append(("In-Reply-To", "<\(inReplyTo)>")) }
        if !email.references.isEmpty { headers.append(("References", email.references.map { "<\($0)>" }.joined(separator: "\r\n "))) }
        if let unsubscribe = email.listUnsubscribe {
            headers.append(("List-Unsubscribe", (["<\(unsubscribe.url)>"] + (unsubscribe.mailto.map { ["<mailto:\($0)>"] } ?? [])).joined(separator: ",\r\n ")))
            headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
        }
        if let autoSubmitted = email.autoSubmitted { headers.append(("Auto-Submitted", autoSubmitted)) }
        headers.append(("MIME-Version", "1.0"))

        var body = textBody(email, boundary: "=_alt_\(boundarySeed)")
        if !email.attachments.isEmpty {
            let boundary = "=_mixed_\(boundarySeed)"
            var parts = [body]
            for attachment in email.attachments { parts.append(attachmentPart(attachment)) }
            body = multipart("mixed", boundary: boundary, parts: parts)
        }
        var output = headers.map { "\($0.0): \($0.1)\r\n" }.joined()
        output += body.headers.map { "\($0.0): \($0.1)\r\n" }.joined()
        output += "\r\n" + body.content
        return Array(output.utf8)
    }

    /// A MIME entity: its own headers and encoded content.
    private struct Entity {
        var headers: [(String, String)]
        var content: String
    }

    private static func textBody(_ email: OutgoingEmail, boundary: String) -> Entity {
        let plain = Entity(headers: [("Content-Type", "text/plain; charset=utf-8"), ("Content-Transfer-Encoding", "quoted-printable")],
                           content: QuotedPrintable.encode(email.text) + "\r\n")
        guard let html = email.html else { return plain }
        let htmlPart = Entity(headers: [("Content-Type", "text/html; charset=utf-8"), ("Content-Transfer-Encoding", "quoted-printable")],
                              content: QuotedPrintable.encode(html) + "\r\n")
        return multipart("alternative", boundary: boundary, parts: [plain, htmlPart])
    }

    private static func attachmentPart(_ attachment: MailAttachment) -> Entity {
        let name = parameterValue(attachment.filename)
        var headers = [("Content-Type", "\(attachment.contentType); name=\(name)"),
                       ("Content-Disposition", "\(attachment.inline ? "inline" : "attachment"); filename=\(name)"),
                       ("Content-Transfer-Encoding", "base64")]
        if let contentId = attachment.contentId { headers.append(("Content-ID", "<\(contentId)>")) }
        return Entity(headers: headers, content: Base64.encodeLines(attachment.bytes))
    }

    private static func multipart(_ subtype: String, boundary: String, parts: [Entity]) -> Entity {
        var content = ""
        for part in parts {
            content += "--\(boundary)\r\n"
            content += part.headers.map { "\($0.0): \($0.1)\r\n" }.joined()
            content += "\r\n" + part.content
        }
        content += "--\(boundary)--\r\n"
        return Entity(headers: [("Content-Type", "multipart/\(subtype); boundary=\"\(boundary)\"")], content: content)
    }

    /// `"Name" <address>`, the name as encoded words when it is not ASCII.
    static func mailbox(_ mailbox: MailAddress) -> String {
        guard let name = mailbox.name.map(singleLine), !name.isEmpty else { return "<\(mailbox.address)>" }
        if EncodedWord.encode(name) == name {
            let escaped = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return "\"\(escaped)\" <\(mailbox.address)>"
        }
        // The address on a line of its own, so no line outgrows 78 characters.
        return EncodedWord.encode(name) + "\r\n <\(mailbox.address)>"
    }

    /// A filename as a parameter: quoted ASCII, or RFC 2047 words (which every client reads) when it is not ASCII.
    private static func parameterValue(_ value: String) -> String {
        let clean = singleLine(value).replacingOccurrences(of: "\"", with: "'").replacingOccurrences(of: "\\", with: "_")
        if clean.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) { return "\"\(clean)\"" }
        return "\"\(EncodedWord.encode(clean))\""
    }

    /// Header text on one line: line breaks would start new headers (header injection).
    private static func singleLine(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 })
    }
}
