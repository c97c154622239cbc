import Foundation

/// Reads RFC 5322 messages and their MIME structure (RFC 2045–2049): nested multiparts, transfer
/// encodings, charsets, encoded words, attachments and delivery reports. Hostile input is bounded:
/// nesting depth, number of parts and header sizes are capped, and no input crashes or hangs it.
public enum MIMEParser {
    public static let maxBytes = 25 * 1024 * 1024
    static let maxDepth = 20
    static let maxParts = 500

    /// Parses one message; throws when the input is not a message at all.
    public static func parse(_ raw: [UInt8]) throws(MailError) -> ParsedEmail {
        guard !raw.isEmpty else { throw MailError("the message is empty") }
        guard raw.count <= maxBytes else { throw MailError("the message is larger than \(maxBytes) bytes") }
        let (headerBytes, body) = MailHeaders.split(raw[...])
        let headers = MailHeaders.parse(headerBytes)
        guard !headers.fields.isEmpty, headers.raw("From") != nil || headers.raw("Message-ID") != nil || headers.raw("Content-Type") != nil
                || headers.raw("Subject") != nil || headers.raw("Date") != nil else {
            throw MailError("no RFC 5322 header block (From, Subject, Date or Message-ID) was found")
        }
        var collector = Collector()
        collector.walk(headers: headers, body: body, depth: 0, parent: nil)

        let html = collector.html
        let text = collector.text ?? html.map(HTMLText.render) ?? ""
        var report = collector.report
        if report != nil, report?.originalMessageId == nil { report?.originalMessageId = collector.originalMessageId }
        return ParsedEmail(
            headers: headers,
            from: MailAddress.list(headers.raw("From")).first,
            to: MailAddress.list(headers.all("To").joined(separator: ", ")),
            cc: MailAddress.list(headers.all("Cc").joined(separator: ", ")),
            subject: headers.decoded("Subject"),
            messageId: MessageIDs.parse(headers.raw("Message-ID")).first,
            inReplyTo: MessageIDs.parse(headers.raw("In-Reply-To")),
            references: MessageIDs.parse(headers.all("References").joined(separator: " ")),
            date: MailDate.parse(headers.raw("Date")),
            text: text,
            html: html,
            visibleText: QuotedHistory.strip(text),
            attachments: collector.attachments,
            isAutomated: isAutomated(headers) || report != nil,
            deliveryReport: report
        )
    }

    /// Auto-replies and bulk mail (RFC 3834 and the headers real auto-responders set).
    static func isAutomated(_ headers: MailHeaders) -> Bool {
        if let value = headers.raw("Auto-Submitted")?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased(),
           value != "no" { return true }
        if let precedence = headers.raw("Precedence")?.trimmingCharacters(in: .whitespaces).lowercased(),
           ["bulk", "junk", "list", "auto_reply"].contains(precedence) { return true }
        if headers.raw("X-Autoreply") != nil || headers.raw("X-Autorespond") != nil || headers.raw("X-Autoresponder") != nil { return true }
        if let from = MailAddress.list(headers.raw("From")).first?.address.lowercased(),
           from.hasPrefix("mailer-daemon@") || from.hasPrefix("postmaster@") { return true }
        if HeaderValue(headers.raw("Content-Type")).token == "multipart/report" { return true }
        return false
    }

    /// Walks the MIME tree, keeping the first text and HTML bodies, the attachments and any delivery report.
    private struct Collector {
        var text: String?
        var html: String?
        var attachments: [MailAttachment] = []
        var report: DeliveryStatusReport?
        var originalMessageId: String?
        var parts = 0

        mutating func walk(headers: MailHeaders, body: ArraySlice<UInt8>, depth: Int, parent: String?) {
            parts += 1
            guard depth <= maxDepth, parts <= maxParts else { return }
            let type = HeaderValue(headers.raw("Content-Type"))
            let disposition = HeaderValue(headers.raw("Content-Disposition"))
            let mediaType = type.token.isEmpty || !type.token.contains("/") ? (parent == "multipart/digest" ? "message/rfc822" : "text/plain") : type.token
            let filename = disposition.parameters["filename"] ?? type.parameters["name"]

            if mediaType.hasPrefix("multipart/") {
                guard let boundary = type.parameters["boundary"], !boundary.isEmpty, boundary.utf8.count <= 200 else {
                    // A multipart without a boundary is read as text, so nothing is lost.
                    appendText(Charset.decode(body, charset: type.parameters["charset"]), html: false, parent: parent)
                    return
                }
                for part in Self.split(body, boundary: boundary) {
                    let (partHeaders, partBody) = MailHeaders.split(part)
                    walk(headers: MailHeaders.parse(partHeaders), body: partBody, depth: depth + 1, parent: mediaType)
                    if parts > maxParts { return }
                }
                return
            }
            let decoded = Self.decodeBody(body, encoding: headers.raw("Content-Transfer-Encoding"))
            switch mediaType {
            case "message/delivery-status", "message/global-delivery-status":
                report = Self.deliveryReport(decoded)
                return
            case "text/rfc822-headers", "message/rfc822-headers":
                originalMessageId = MessageIDs.parse(MailHeaders.parse(MailHeaders.split(decoded[...]).headers).raw("Message-ID")).first
                return
            case "message/rfc822", "message/global":
                // The bounced or forwarded message: its id is kept, its body never becomes this mail's text.
                let inner = MailHeaders.parse(MailHeaders.split(decoded[...]).headers)
                if parent == "multipart/report" { originalMessageId = MessageIDs.parse(inner.raw("Message-ID")).first }
                let name = filename ?? ((inner.decoded("Subject").map { Self.safeFilename($0) } ?? "message") + ".eml")
                attachments.append(MailAttachment(filename: name, contentType: "message/rfc822", bytes: decoded))
                return
            default:
                break
            }
            let isAttachment = disposition.token == "attachment" || filename != nil || !mediaType.hasPrefix("text/")
                || (mediaType != "text/plain" && mediaType != "text/html")
            if isAttachment {
                let contentId = MessageIDs.parse(headers.raw("Content-ID")).first
                let name = filename.map(Self.safeFilename) ?? "part-\(attachments.count + 1)\(Self.fileExtension(mediaType))"
                attachments.append(MailAttachment(filename: name, contentType: mediaType, bytes: decoded, contentId: contentId,
                                                  inline: disposition.token == "inline" || (disposition.token.isEmpty && contentId != nil)))
                return
            }
            appendText(Charset.decode(decoded, charset: type.parameters["charset"]), html: mediaType == "text/html", parent: parent)
        }

        private mutating func appendText(_ content: String, html isHTML: Bool, parent: String?) {
            let content = content.replacingOccurrences(of: "\r\n", with: "\n")
            if isHTML {
                if html == nil { html = content }
            } else if text == nil {
                text = content
            } else if parent == "multipart/mixed" {
                // Apple Mail splits text around inline attachments into several parts.
                text! += "\n" + content
            }
        }

        /// The parts between `--boundary` lines; an unterminated last part runs to the end.
        static func split(_ body: ArraySlice<UInt8>, boundary: String) -> [ArraySlice<UInt8>] {
            let delimiter = Array(("--" + boundary).utf8)
            var parts: [ArraySlice<UInt8>] = []
            var partStart: Int?
            for line in MailHeaders.lines(body) {
                guard line.count >= delimiter.count, line.starts(with: delimiter) else { continue }
                let rest = line.dropFirst(delimiter.count)
                let isClose = rest.starts(with: [UInt8(ascii: "-"), UInt8(ascii: "-")])
                guard isClose || rest.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) else { continue }
                if let start = partStart {
                    // The line break before a delimiter belongs to the delimiter.
                    var end = line.startIndex
                    if end > start, body[end - 1] == 0x0A { end -= 1 }
                    if end > start, body[end - 1] == 0x0D { end -= 1 }
                    parts.append(body[start..<max(start, end)])
                }
                if isClose { return parts }
                var next = line.endIndex
                if next < body.endIndex, body[next] == 0x0D { next += 1 }
                if next < body.endIndex, body[next] == 0x0A { next += 1 }
                partStart = next
                if parts.count >= maxParts { return parts }
            }
            if let start = partStart, start < body.endIndex { parts.append(body[start...]) }
            return parts
        }

        static func decodeBody(_ body: ArraySlice<UInt8>, encoding: String?) -> [UInt8] {
            switch encoding?.trimmingCharacters(in: .whitespaces).lowercased() {
            case "base64": Base64.decode(body) ?? Array(body)
            case "quoted-printable": QuotedPrintable.decode(Array(body))
            default: Array(body)
            }
        }

        /// The per-recipient groups of a `message/delivery-status` body.
        static func deliveryReport(_ bytes: [UInt8]) -> DeliveryStatusReport {
            var recipients: [DeliveryStatusReport.Recipient] = []
            // Groups are header blocks separated by empty lines; the first is about the message.
            var rest = bytes[...]
            while !rest.isEmpty, recipients.count < 100 {
                let (block, after) = MailHeaders.split(rest)
                let fields = MailHeaders.parse(block)
                if let recipient = fields.raw("Final-Recipient") ?? fields.raw("Original-Recipient") {
                    let address = recipient.split(separator: ";", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? recipient
                    let diagnostic = fields.raw("Diagnostic-Code").map { code in
                        (code.split(separator: ";", maxSplits: 1).last.map(String.init) ?? code).trimmingCharacters(in: .whitespaces)
                    }
                    let status = fields.raw("Status")?.split(whereSeparator: \.isWhitespace).first.map(String.init) ?? ""
                    recipients.append(.init(address: address.trimmingCharacters(in: CharacterSet(charactersIn: "<>")),
                                            action: fields.raw("Action")?.trimmingCharacters(in: .whitespaces).lowercased() ?? "",
                                            status: status, diagnostic: diagnostic))
                }
                guard after.count < rest.count else { break }
                rest = after
                while let first = rest.first, first == 0x0D || first == 0x0A { rest = rest.dropFirst() }
            }
            return DeliveryStatusReport(originalMessageId: nil, recipients: recipients)
        }

        /// A filename without directories or control characters.
        static func safeFilename(_ name: String) -> String {
            var cleaned = String(name.unicodeScalars.filter { $0.value >= 0x20 && $0 != "/" && $0 != "\\" && $0.value != 0x7F }
                .map(Character.init)).trimmingCharacters(in: .whitespaces)
            if cleaned.count > 200 { cleaned = String(cleaned.prefix(200)) }
            return cleaned.isEmpty || cleaned == "." || cleaned == ".." ? "attachment" : cleaned
        }

        static func fileExtension(_ mediaType: String) -> String {
            switch mediaType {
            case "image/png": ".png"
            case "image/jpeg": ".jpg"
            case "image/gif": ".gif"
            case "application/pdf": ".pdf"
            case "text/calendar": ".ics"
            case "text/plain": ".txt"
            case "text/html": ".html"
            default: ".bin"
            }
        }
    }
}
