import Crypto
import Foundation
import HubCore
import Hummingbird

/// What the hub did with one inbound mail.
public struct EmailIntakeResult: Codable, Sendable, Equatable, ResponseEncodable {
    public enum Outcome: String, Codable, Sendable {
        /// A customer's message, stored.
        case stored
        /// Stored before (same Message-ID): nothing new was written.
        case duplicate
        /// A delivery report about a message the hub sent.
        case bounce
        /// Kept aside with the reason: not a readable message, over a limit, or an auto-reply to nothing.
        case quarantined
    }

    public var outcome: Outcome
    /// The stored message, or for a bounce the outbound message it reports on.
    public var messageId: String?
    public var conversationId: String?
    public var customerId: String?
    public var quarantineId: String?
    public var reason: String?
}

/// The email channel's way in, shared by the IMAP poller and the raw-MIME webhook: parses a mail,
/// threads it (reply token, then In-Reply-To and References against the hub's Message-IDs, always
/// within the sender's own conversations), and stores it, applies it as a bounce, or quarantines it.
public struct EmailIntake: Sendable {
    let storage: any HubStorage
    let configuration: EmailConfiguration
    let now: @Sendable () -> Date

    public init(storage: any HubStorage, configuration: EmailConfiguration, now: @escaping @Sendable () -> Date = Date.init) {
        self.storage = storage
        self.configuration = configuration
        self.now = now
    }

    /// Takes one raw RFC 5322 message; returns once what it did is durable.
    public func take(_ raw: [UInt8]) async throws -> EmailIntakeResult {
        guard raw.count <= configuration.maxMessageBytes else {
            return try await quarantine(raw, "larger than \(configuration.maxMessageBytes) bytes")
        }
        let email: ParsedEmail
        do {
            email = try MIMEParser.parse(raw)
        } catch {
            return try await quarantine(raw, "not a readable message: \(error)")
        }
        if let report = email.deliveryReport { return try await bounce(report, email, raw) }
        guard let from = email.from else { return try await quarantine(raw, "no From address") }
        if from.address.lowercased() == configuration.address.lowercased() {
            return try await quarantine(raw, "sent from the center's own address (a mail loop)")
        }
        guard email.attachments.count < configuration.maxAttachments else {
            return try await quarantine(raw, "more than \(configuration.maxAttachments - 1) attachments")
        }
        let externalId = email.messageId.map { "<\($0)>" } ?? "sha256:" + SHA256.hash(data: raw).map { String(format: "%02x", $0) }.joined()
        // A mail read again (a webhook retry, a mailbox fetched again after a crash) stores no attachment twice.
        if let earlier = try await storage.storedInbound(channel: .email, externalId: externalId) {
            return EmailIntakeResult(outcome: .duplicate, messageId: earlier.messageId, conversationId: earlier.conversationId,
                                     customerId: earlier.customerId)
        }
        var attachments: [Attachment] = []
        for attachment in email.attachments {
            let id = try await storage.storeMedia(attachment.bytes, contentType: attachment.contentType)
            attachments.append(Attachment(filename: attachment.filename, contentType: attachment.contentType, size: attachment.bytes.count, url: "/v1/media/\(id)"))
        }
        // The conversation view shows the reply without its quoted history; the original stays whole.
        let original = try await storage.storeMedia(raw, contentType: "message/rfc822")
        attachments.append(Attachment(filename: "original.eml", contentType: "message/rfc822", size: raw.count, url: "/v1/media/\(original)"))

        let message = InboundMessage(
            channel: .email, from: from.address, to: configuration.address, name: from.name.map { String($0.prefix(200)) },
            text: Self.truncated(email.visibleText.isEmpty ? (email.subject ?? "") : email.visibleText, maxBytes: InboundMessage.maxTextBytes),
            html: email.html.flatMap { $0.utf8.count <= 4 * InboundMessage.maxTextBytes ? $0 : nil },
            attachments: attachments,
            externalId: externalId,
            threadHints: threadHints(email),
            subject: email.subject.map { String($0.prefix(500)) },
            automated: email.isAutomated,
            receivedAt: now()
        )
        do {
            let result = try await storage.receive(message)
            return EmailIntakeResult(outcome: result.duplicate ? .duplicate : .stored, messageId: result.messageId,
                                     conversationId: result.conversationId, customerId: result.customerId)
        } catch let error as HubError where error.code == "automated_without_conversation" {
            return try await quarantine(raw, "an auto-reply that continues no conversation")
        } catch let error as ValidationError {
            return try await quarantine(raw, "not storable: \(error)")
        }
    }

    /// The conversations the mail says it continues: the reply token in a recipient address, then the
    /// hub's Message-IDs in In-Reply-To and References (newest first). The store takes one only if it is
    /// the sender's own.
    func threadHints(_ email: ParsedEmail) -> [String] {
        var hints: [String] = []
        if let secret = configuration.replySecret {
            let recipients = email.to + email.cc + ["Delivered-To", "X-Original-To"].compactMap { email.header($0).map { MailAddress(address: $0) } }
            for recipient in recipients {
                if let token = ReplyToken.token(inRecipient: recipient.address, configuration: configuration),
                   let conversationId = ReplyToken.conversationId(in: token, secret: secret) {
                    hints.append(conversationId)
                }
            }
        }
        for id in email.inReplyTo + email.references.reversed() {
            if let messageId = hubMessageId(id), !hints.contains(messageId) { hints.append(messageId) }
        }
        return Array(hints.prefix(10))
    }

    /// The hub's message id in a Message-ID it wrote (`msg_…@domain`), nil for anyone else's.
    func hubMessageId(_ messageId: String) -> String? {
        guard let at = messageId.lastIndex(of: "@"), messageId[messageId.index(after: at)...].lowercased() == configuration.domain else { return nil }
        let local = String(messageId[..<at])
        return local.hasPrefix("msg_") ? local : nil
    }

    /// A delivery report: the message it names is marked bounced; a permanent failure suppresses the address.
    private func bounce(_ report: DeliveryStatusReport, _ email: ParsedEmail, _ raw: [UInt8]) async throws -> EmailIntakeResult {
        let named = ([report.originalMessageId].compactMap { $0 } + email.inReplyTo + email.references).lazy.compactMap(hubMessageId).first
        guard let messageId = named else { return try await quarantine(raw, "a delivery report about no message the hub sent") }
        guard let failure = report.recipients.first(where: { $0.action == "failed" }) else {
            // Delayed, relayed or delivered: nothing to change yet.
            return EmailIntakeResult(outcome: .bounce, messageId: messageId, reason: report.recipients.first.map { "\($0.action) \($0.status)" })
        }
        let reason = [failure.status, failure.diagnostic].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
        guard let message = try await storage.applyReceipt(messageId: messageId, providerMessageId: nil, state: .bounced, error: reason) else {
            return try await quarantine(raw, "a delivery report about a message the hub does not know (\(messageId))")
        }
        let conversation = try await storage.conversation(id: message.conversationId)
        if failure.isPermanentFailure, let address = try? Address.normalize(failure.address, on: .email) {
            let latest = try await storage.latestConsents(channel: .email, address: address)
            for purpose in ConsentPurpose.allCases where !latest.contains(where: { $0.purpose == purpose && $0.state == .optedOut }) {
                try await storage.recordConsent(ConsentRecord(
                    customerId: conversation.customerId, channel: .email, address: address, purpose: purpose, state: .optedOut,
                    source: .bounce, evidence: "\(messageId): \(reason)", createdAt: now()
                ))
            }
        }
        return EmailIntakeResult(outcome: .bounce, messageId: messageId, conversationId: conversation.id, customerId: conversation.customerId, reason: reason)
    }

    private func quarantine(_ raw: [UInt8], _ reason: String) async throws -> EmailIntakeResult {
        let item = try await storage.quarantine(channel: .email, reason: reason, raw: raw)
        return EmailIntakeResult(outcome: .quarantined, quarantineId: item.id, reason: reason)
    }

    /// At most `maxBytes` of UTF-8, cut between characters.
    static func truncated(_ text: String, maxBytes: Int) -> String {
        guard text.utf8.count > maxBytes else { return text }
        var result = ""
        var size = 0
        for character in text {
            size += character.utf8.count
            if size > maxBytes - 3 { break }
            result.append(character)
        }
        return result + "…"
    }
}
