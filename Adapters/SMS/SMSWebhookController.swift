import CurlTransport
import Foundation
import HTTPTypes
import HubCore
import Hummingbird
import Logging

/// The SMS channel's way in: provider webhooks under `/webhooks/sms/{profile}` (messages) and
/// `/webhooks/sms/{profile}/status` (delivery receipts), each verified by the provider's signature.
/// A message is acknowledged only once stored; a provider's retry stores nothing new.
public struct SMSWebhookController<Context: RequestContext>: Sendable {
    let storage: any HubStorage
    let transport: CurlTransport
    let configuration: SMSConfiguration
    let logger: Logger
    let now: @Sendable () -> Date

    public init(storage: any HubStorage, transport: CurlTransport, configuration: SMSConfiguration, logger: Logger,
                now: @escaping @Sendable () -> Date = Date.init) {
        self.storage = storage
        self.transport = transport
        self.configuration = configuration
        self.logger = logger
        self.now = now
    }

    /// Largest webhook body accepted: Twilio's 1,600 characters plus its fields fit easily.
    static var maxBodyBytes: Int { 64 * 1024 }
    /// Largest MMS media file kept.
    static var maxMediaBytes: Int { 5 * 1024 * 1024 }
    /// How far a signed Vonage timestamp may be from the hub's clock.
    static var maxClockSkew: TimeInterval { 300 }

    /// Adds the webhooks to `group` (mounted at `/webhooks/sms`).
    public func addRoutes(to group: RouterGroup<Context>) {
        for method in [HTTPRequest.Method.get, .post] {
            group.on(":profile", method: method, use: message)
            group.on(":profile/status", method: method, use: status)
        }
    }

    // MARK: Messages

    @Sendable func message(_ request: Request, context: Context) async throws -> Response {
        let profile = try profile(context)
        let webhook = try await Webhook.read(request, maxBytes: Self.maxBodyBytes)
        switch profile.provider {
        case .twilio:
            try verifyTwilio(request, webhook, profile)
            let fields = webhook.fields
            guard let sid = fields["MessageSid"] ?? fields["SmsSid"], let from = fields["From"] else {
                throw ValidationError("MessageSid", "and From are required")
            }
            let message = InboundMessage(
                channel: .sms, from: try Address.phone(from, defaultRegion: configuration.defaultRegion),
                to: fields["To"].flatMap { try? Address.phone($0, defaultRegion: configuration.defaultRegion) } ?? profile.from,
                text: fields["Body"] ?? "", attachments: try await media(fields, profile), externalId: sid, receivedAt: now()
            )
            let result = try await storage.receive(message)
            try await honourKeyword(message.text, result, address: message.from)
            return Response(status: .ok, headers: [.contentType: "text/xml; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "<Response/>")))
        case .vonage:
            let fields = try verifyVonage(webhook, profile)
            guard let id = fields["messageId"], let msisdn = fields["msisdn"] else {
                throw ValidationError("messageId", "and msisdn are required")
            }
            // Vonage sends numbers in international form without the `+`.
            let message = InboundMessage(
                channel: .sms, from: try Address.phone("+" + msisdn, defaultRegion: nil),
                to: fields["to"].flatMap { try? Address.phone("+" + $0, defaultRegion: nil) } ?? profile.from,
                text: fields["text"] ?? "", externalId: id, receivedAt: now()
            )
            let result: IngestResult?
            if fields["concat"] == "true", let ref = fields["concat-ref"] {
                result = try await storage.receive(part: InboundPart(
                    groupKey: "vonage:\(message.from):\(ref)", index: Int(fields["concat-part"] ?? "") ?? 0,
                    total: Int(fields["concat-total"] ?? "") ?? 0, message: message
                ))
            } else {
                result = try await storage.receive(message)
            }
            if let result {
                let text = fields["concat"] == "true" ? try await storage.message(id: result.messageId).text : message.text
                try await honourKeyword(text, result, address: message.from)
            }
            return Response(status: .noContent)
        }
    }

    /// STOP, START and HELP: the message is stored like any other; the ledger records what the
    /// customer said and the configured confirmation goes back. Safe to repeat on a provider's retry.
    func honourKeyword(_ text: String, _ result: IngestResult, address: String) async throws {
        guard let keyword = SMSKeyword.classify(text) else { return }
        let evidence = "\(result.messageId): \(text.trimmingCharacters(in: .whitespacesAndNewlines))"
        let reply: String
        switch keyword {
        case .optOut, .optIn:
            for purpose in configuration.keywordPurposes {
                try await storage.recordConsent(ConsentRecord(
                    customerId: result.customerId, channel: .sms, address: address, purpose: purpose,
                    state: keyword == .optOut ? .optedOut : .optedIn, source: .keyword, evidence: evidence, createdAt: now()
                ))
            }
            reply = keyword == .optOut ? configuration.stopReply : configuration.startReply
        case .help:
            reply = configuration.helpReply
        }
        _ = try await storage.send(OutboundDraft(
            customerId: result.customerId, channel: .sms, text: reply, purpose: .system,
            conversationId: result.conversationId, idempotencyKey: "keyword:\(result.messageId)"
        ))
    }

    /// MMS media: fetched with the account's credentials, kept in the store, at most 5 MiB each.
    private func media(_ fields: [String: String], _ profile: SMSProfile) async throws -> [Attachment] {
        let count = min(Int(fields["NumMedia"] ?? "0") ?? 0, InboundMessage.maxAttachments)
        var attachments: [Attachment] = []
        for index in 0..<count {
            guard let url = fields["MediaUrl\(index)"] else { continue }
            let credentials = Data("\(profile.accountSid ?? ""):\(profile.authToken ?? "")".utf8).base64EncodedString()
            let request = TransportRequest(url: url, headers: [("Authorization", "Basic \(credentials)")], timeout: .seconds(30),
                                           maxResponseBytes: Self.maxMediaBytes, followRedirects: true)
            let response: TransportResponse
            do {
                response = try await transport.perform(request)
            } catch let error as CurlError where !error.isTransient {
                // Too large or refused for good: the message is kept without this file.
                logger.warning("MMS media not kept", metadata: ["sb.url": "\(url)", "sb.error": "\(error)"])
                continue
            }
            guard response.status == 200 else {
                logger.warning("MMS media not kept", metadata: ["sb.url": "\(url)", "sb.status": "\(response.status)"])
                continue
            }
            let contentType = fields["MediaContentType\(index)"] ?? response.header("Content-Type") ?? "application/octet-stream"
            let id = try await storage.storeMedia(response.body, contentType: contentType)
            attachments.append(Attachment(filename: "media-\(index + 1)", contentType: contentType, size: response.body.count, url: "/v1/media/\(id)"))
        }
        return attachments
    }

    // MARK: Delivery receipts

    @Sendable func status(_ request: Request, context: Context) async throws -> Response {
        let profile = try profile(context)
        let webhook = try await Webhook.read(request, maxBytes: Self.maxBodyBytes)
        let messageId: String?
        let report: (state: DeliveryState, error: String?)?
        let providerId: String?
        switch profile.provider {
        case .twilio:
            try verifyTwilio(request, webhook, profile)
            let fields = webhook.fields
            messageId = request.uri.queryParameters.get("message")
            providerId = fields["MessageSid"]
            report = ProviderStatus.twilio(fields["MessageStatus"] ?? fields["SmsStatus"] ?? "", errorCode: fields["ErrorCode"])
        case .vonage:
            let fields = try verifyVonage(webhook, profile)
            messageId = request.uri.queryParameters.get("message") ?? fields["client-ref"]
            providerId = fields["messageId"]
            report = ProviderStatus.vonage(fields["status"] ?? "", errorCode: fields["err-code"])
        }
        guard let messageId, let report else { return Response(status: .noContent) }
        if let message = try await storage.applyReceipt(messageId: messageId, providerMessageId: providerId, state: report.state, error: report.error),
           report.error?.hasPrefix("21610") == true, let to = webhook.fields["To"] {
            let conversation = try await storage.conversation(id: message.conversationId)
            try await SMSSender.recordCarrierOptOut(
                storage: storage, customerId: conversation.customerId, address: try Address.phone(to, defaultRegion: configuration.defaultRegion),
                messageId: message.id, stopBlocksAll: configuration.stopBlocksAll, now: now()
            )
        }
        return Response(status: .noContent)
    }

    // MARK: Verification

    private func profile(_ context: Context) throws -> SMSProfile {
        let name = try context.parameters.require("profile")
        guard let profile = configuration.profiles[name] else { throw HubError.notFound("profile", name) }
        return profile
    }

    /// The URL Twilio signed: the hub's public base, then the path and query as called.
    private func verifyTwilio(_ request: Request, _ webhook: Webhook, _ profile: SMSProfile) throws {
        let url = configuration.publicBaseURL + request.uri.description
        guard let signature = request.headers[HTTPField.Name("X-Twilio-Signature")!], let token = profile.authToken,
              TwilioSignature.verify(signature, authToken: token, url: url, parameters: webhook.form, rawBody: webhook.isJSON ? webhook.body : nil) else {
            throw HubError.forbidden("invalid_signature", "The X-Twilio-Signature does not match this request.")
        }
    }

    /// Checks `sig` and the timestamp's age; returns the fields (the hub's own `message` query parameter removed).
    private func verifyVonage(_ webhook: Webhook, _ profile: SMSProfile) throws -> [String: String] {
        var fields = webhook.fields
        guard let secret = profile.signatureSecret, !secret.isEmpty,
              VonageSignature.verify(fields, secret: secret, method: profile.signatureMethod)
                || VonageSignature.verify(fields.filter { $0.key != "message" }, secret: secret, method: profile.signatureMethod) else {
            throw HubError.forbidden("invalid_signature", "The sig parameter does not match this request.")
        }
        guard let stamp = fields["timestamp"].flatMap(TimeInterval.init), abs(now().timeIntervalSince1970 - stamp) <= Self.maxClockSkew else {
            throw HubError.forbidden("stale_timestamp", "The signed timestamp is missing or more than 5 minutes away.")
        }
        fields.removeValue(forKey: "message")
        return fields
    }
}

/// A provider's delivery status as the hub's delivery state, with the error code when it failed.
enum ProviderStatus {
    static func twilio(_ status: String, errorCode: String?) -> (DeliveryState, String?)? {
        let error = errorCode.flatMap { $0.isEmpty || $0 == "0" ? nil : "\($0): provider error" }
        switch status {
        case "accepted", "scheduled", "queued": return (.queued, nil)
        case "sending": return (.sending, nil)
        case "sent": return (.sent, nil)
        case "delivered", "read", "partially_delivered": return (.delivered, nil)
        case "undelivered": return (.undelivered, error ?? "undelivered")
        case "failed", "canceled": return (.failed, error ?? status)
        default: return nil
        }
    }

    static func vonage(_ status: String, errorCode: String?) -> (DeliveryState, String?)? {
        let error = errorCode.flatMap { $0.isEmpty || $0 == "0" ? nil : "\($0): provider error" }
        switch status {
        case "accepted", "buffered": return (.sent, nil)
        case "delivered": return (.delivered, nil)
        case "expired": return (.undelivered, error ?? "expired")
        case "failed", "rejected": return (.failed, error ?? status)
        default: return nil
        }
    }
}

/// A webhook's parameters, from its query and its body (form or JSON), and the raw body.
struct Webhook {
    /// The body's form parameters, in order (what Twilio signs).
    var form: [(String, String)]
    /// Query and body parameters by name (the body wins).
    var fields: [String: String]
    var body: [UInt8]
    var isJSON: Bool

    static func read(_ request: Request, maxBytes: Int) async throws -> Webhook {
        let buffer = try await request.body.collect(upTo: maxBytes)
        let body = Array(buffer.readableBytesView)
        var fields: [String: String] = [:]
        // Decoded as a form (`+` is a space), as providers encode their GET webhooks.
        for (name, value) in FormEncoding.decode(request.uri.query ?? "") { fields[name] = value }
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        if contentType.hasPrefix("application/json") {
            guard let object = try? JSONDecoder().decode([String: Scalar].self, from: Data(body)) else {
                throw HubError.unprocessable("invalid_body", "The body is not a JSON object of plain values.")
            }
            for (key, value) in object { fields[key] = value.text }
            return Webhook(form: [], fields: fields, body: body, isJSON: true)
        }
        let form = FormEncoding.decode(String(decoding: body, as: UTF8.self))
        for (name, value) in form { fields[name] = value }
        return Webhook(form: form, fields: fields, body: body, isJSON: false)
    }
}

/// A JSON value a webhook field may hold, as the text the signature covers.
private enum Scalar: Decodable {
    case text(String)
    case null

    var text: String? {
        if case .text(let value) = self { return value }
        return nil
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(String.self) { self = .text(value) }
        else if let value = try? container.decode(Bool.self) { self = .text(value ? "true" : "false") }
        else if let value = try? container.decode(Int64.self) { self = .text(String(value)) }
        else { self = .text(String(try container.decode(Double.self))) }
    }
}

/// `application/x-www-form-urlencoded`, both ways.
enum FormEncoding {
    static func decode(_ text: String) -> [(String, String)] {
        text.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func unescape(_ part: Substring?) -> String {
                guard let part else { return "" }
                let spaced = part.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            return (unescape(parts.first), unescape(parts.count > 1 ? parts[1] : nil))
        }
    }

    static func encode(_ fields: [(String, String)]) -> [UInt8] {
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        let text = fields.map { name, value in
            (name.addingPercentEncoding(withAllowedCharacters: allowed) ?? name) + "=" + (value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)
        }.joined(separator: "&")
        return Array(text.utf8)
    }
}
