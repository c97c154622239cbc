import CurlTransport
import Foundation
import HubCore

/// The email channel's way out: each message written as MIME and handed to the SMTP relay through
/// `CurlTransport`, threaded onto the customer's mail and carrying a signed reply address.
public struct EmailSender: OutboundSender {
    public let channel = Channel.email
    let configuration: EmailConfiguration
    let transport: CurlTransport
    /// Where attachments the hub keeps are read from.
    let storage: any HubStorage
    let now: @Sendable () -> Date

    public init(configuration: EmailConfiguration, transport: CurlTransport, storage: any HubStorage, now: @escaping @Sendable () -> Date = Date.init) {
        self.configuration = configuration
        self.transport = transport
        self.storage = storage
        self.now = now
    }

    /// The Message-ID of a message the hub sends: its id at the center's domain, fixed when it was queued.
    public static func messageId(for messageId: String, configuration: EmailConfiguration) -> String {
        "\(messageId)@\(configuration.domain)"
    }

    public func send(_ delivery: OutboundDelivery) async throws -> SendReceipt {
        guard let relay = configuration.smtp else {
            throw SendFailure(reason: "no SMTP relay is configured (email.smtp.url)", retryable: false)
        }
        let email = try await compose(delivery)
        do {
            try await transport.send(MailSubmission(
                url: relay.url, tls: relay.tls, credentials: relay.credentials, caFile: relay.caFile, from: configuration.address,
                recipients: [delivery.to], message: MIMEBuilder.build(email)
            ))
        } catch let error as CurlError {
            throw SendFailure(reason: error.description, retryable: error.isTransient)
        }
        return SendReceipt(providerMessageId: "<\(email.messageId)>")
    }

    /// The mail for a delivery: a reply threads onto the customer's last mail (`In-Reply-To`, `References`).
    func compose(_ delivery: OutboundDelivery) async throws -> OutgoingEmail {
        let subject: String
        if let original = delivery.subject, !original.isEmpty {
            subject = delivery.thread.isEmpty || Self.isReplySubject(original) ? original : "Re: \(original)"
        } else {
            subject = configuration.defaultSubject
        }
        // The customer's preferences link closes every mail; marketing mail also offers it as one-click unsubscribe.
        let link = configuration.preferencesLink?.url(customerId: delivery.customerId)
        var text = delivery.text
        var html = delivery.html
        if let link {
            text += "\n\n--\nHow we reach you: \(link)"
            html = html.map { $0 + "<hr><p style=\"font-size:small\"><a href=\"\(Self.escaped(link))\">How we reach you</a></p>" }
        }
        return OutgoingEmail(
            from: MailAddress(address: configuration.address, name: configuration.fromName),
            to: [MailAddress(address: delivery.to)],
            replyTo: ReplyToken.address(conversationId: delivery.conversationId, configuration: configuration).map { MailAddress(address: $0, name: configuration.fromName) },
            subject: subject,
            messageId: Self.messageId(for: delivery.messageId, configuration: configuration),
            inReplyTo: delivery.thread.last.map(Self.bare),
            references: delivery.thread.map(Self.bare),
            date: delivery.createdAt,
            text: text,
            html: html,
            attachments: try await attachments(delivery.attachments),
            listUnsubscribe: delivery.purpose == .marketing ? (delivery.unsubscribeURL ?? link).map { ($0, nil) } : nil,
            autoSubmitted: delivery.purpose == .system ? "auto-generated" : nil
        )
    }

    private static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: "<", with: "&lt;")
    }

    static func isReplySubject(_ subject: String) -> Bool {
        let lower = subject.lowercased()
        return ["re:", "aw:", "sv:", "antw:", "rif:", "回复:", "回复："].contains { lower.hasPrefix($0) }
    }

    /// A stored Message-ID without its angle brackets.
    private static func bare(_ id: String) -> String {
        id.trimmingCharacters(in: CharacterSet(charactersIn: "<> "))
    }

    /// The bytes of each attachment: the hub's own media, or fetched from its HTTPS URL.
    private func attachments(_ attachments: [Attachment]) async throws -> [MailAttachment] {
        var result: [MailAttachment] = []
        for attachment in attachments {
            guard let url = attachment.url else {
                throw SendFailure(reason: "attachment '\(attachment.filename)' has no URL to read it from", retryable: false)
            }
            if url.hasPrefix("/v1/media/") {
                guard let media = try await storage.media(id: String(url.dropFirst("/v1/media/".count))) else {
                    throw SendFailure(reason: "attachment '\(attachment.filename)' is no longer stored", retryable: false)
                }
                result.append(MailAttachment(filename: attachment.filename, contentType: attachment.contentType, bytes: media.bytes))
            } else if url.hasPrefix("https://") || url.hasPrefix("http://") {
                let response = try await transport.perform(TransportRequest(url: url, timeout: .seconds(60), maxResponseBytes: 20 * 1024 * 1024,
                                                                            followRedirects: true))
                guard (200..<300).contains(response.status) else {
                    throw SendFailure(reason: "attachment '\(attachment.filename)': \(url) answered \(response.status)", retryable: response.status >= 500)
                }
                result.append(MailAttachment(filename: attachment.filename, contentType: attachment.contentType, bytes: response.body))
            } else {
                throw SendFailure(reason: "attachment '\(attachment.filename)' has an URL the hub cannot read: \(url)", retryable: false)
            }
        }
        return result
    }
}
