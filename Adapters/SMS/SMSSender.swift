import CurlTransport
import Foundation
import HubCore

/// The SMS channel's way out: the provider's REST API over `CurlTransport`, through the profile of
/// the number the customer wrote to (the default profile for conversations the center started).
public struct SMSSender: OutboundSender {
    public let channel = Channel.sms
    let configuration: SMSConfiguration
    let transport: CurlTransport
    /// Where a carrier's opt-out (Twilio 21610) is recorded.
    let storage: any HubStorage
    let now: @Sendable () -> Date
    /// Each profile's pace (`perSecond`).
    let pacer: SendPacer

    public init(configuration: SMSConfiguration, transport: CurlTransport, storage: any HubStorage,
                now: @escaping @Sendable () -> Date = Date.init) {
        self.configuration = configuration
        self.transport = transport
        self.storage = storage
        self.now = now
        pacer = SendPacer(perSecond: configuration.profiles.compactMapValues(\.perSecond))
    }

    public func send(_ delivery: OutboundDelivery) async throws -> SendReceipt {
        guard let profile = configuration.profile(sendingFrom: delivery.from) else {
            throw SendFailure(reason: "no SMS profile is configured to send from", retryable: false)
        }
        await pacer.acquire(profile.name)
        switch profile.provider {
        case .twilio: return try await sendTwilio(delivery, profile)
        case .vonage: return try await sendVonage(delivery, profile)
        }
    }

    private func statusURL(_ delivery: OutboundDelivery, _ profile: SMSProfile) -> String {
        configuration.statusCallbackURL(profile: profile.name, messageId: delivery.messageId)
    }

    // MARK: Twilio

    private func sendTwilio(_ delivery: OutboundDelivery, _ profile: SMSProfile) async throws -> SendReceipt {
        let account = profile.accountSid ?? ""
        var fields = [("To", delivery.to), ("Body", delivery.text), ("StatusCallback", statusURL(delivery, profile))]
        if let service = profile.messagingServiceSid {
            fields.append(("MessagingServiceSid", service))
        } else {
            fields.append(("From", profile.from ?? ""))
        }
        let credentials = Data("\(account):\(profile.authToken ?? "")".utf8).base64EncodedString()
        let response = try await perform(TransportRequest(
            method: "POST", url: "\(profile.baseURL)/2010-04-01/Accounts/\(account)/Messages.json",
            headers: [("Authorization", "Basic \(credentials)"), ("Content-Type", "application/x-www-form-urlencoded"),
                      ("Idempotency-Key", delivery.idempotencyKey)],
            body: FormEncoding.encode(fields), timeout: .seconds(30), maxResponseBytes: 256 * 1024
        ))
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        switch response.status {
        case 200..<300:
            return SendReceipt(providerMessageId: json["sid"] as? String)
        case 429, 500...:
            throw SendFailure(reason: "Twilio answered \(response.status)", retryable: true)
        default:
            let code = (json["code"] as? Int).map(String.init) ?? (json["code"] as? String) ?? String(response.status)
            let reason = "\(code): \(json["message"] as? String ?? "Twilio refused the message")"
            if code == "21610" {
                try await Self.recordCarrierOptOut(storage: storage, customerId: delivery.customerId, address: delivery.to,
                                                   messageId: delivery.messageId, stopBlocksAll: configuration.stopBlocksAll, now: now())
            }
            throw SendFailure(reason: reason, retryable: false)
        }
    }

    // MARK: Vonage

    private func sendVonage(_ delivery: OutboundDelivery, _ profile: SMSProfile) async throws -> SendReceipt {
        var fields = [
            ("api_key", profile.apiKey ?? ""), ("api_secret", profile.apiSecret ?? ""),
            ("from", Self.vonageNumber(profile.from ?? "")), ("to", Self.vonageNumber(delivery.to)), ("text", delivery.text),
            ("client-ref", delivery.idempotencyKey), ("callback", statusURL(delivery, profile)),
        ]
        if SMSSegments(delivery.text).encoding == .ucs2 { fields.append(("type", "unicode")) }
        let response = try await perform(TransportRequest(
            method: "POST", url: "\(profile.baseURL)/sms/json",
            headers: [("Content-Type", "application/x-www-form-urlencoded")],
            body: FormEncoding.encode(fields), timeout: .seconds(30), maxResponseBytes: 256 * 1024
        ))
        guard (200..<300).contains(response.status) else {
            throw SendFailure(reason: "Vonage answered \(response.status)", retryable: response.status == 429 || response.status >= 500)
        }
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        let parts = json["messages"] as? [[String: Any]] ?? []
        // A long text goes out in several messages; the first refusal decides.
        guard let first = parts.first else {
            throw SendFailure(reason: "Vonage status ?: no message id returned", retryable: false)
        }
        if let refused = parts.first(where: { ($0["status"] as? String) != "0" }) {
            let status = refused["status"] as? String ?? "?"
            throw SendFailure(reason: "Vonage status \(status): \(refused["error-text"] as? String ?? "no error text")", retryable: status == "1")
        }
        return SendReceipt(providerMessageId: first["message-id"] as? String)
    }

    /// Vonage numbers are international digits without the `+`.
    static func vonageNumber(_ number: String) -> String {
        number.hasPrefix("+") ? String(number.dropFirst()) : number
    }

    private func perform(_ request: TransportRequest) async throws -> TransportResponse {
        do {
            return try await transport.perform(request)
        } catch let error as CurlError {
            throw SendFailure(reason: error.description, retryable: true)
        }
    }

    // MARK: Carrier opt-outs

    /// Twilio error 21610: the carrier says the recipient opted out; the ledger learns it too.
    static func recordCarrierOptOut(storage: any HubStorage, customerId: String, address: String, messageId: String,
                                    stopBlocksAll: Bool, now: Date) async throws {
        for purpose in stopBlocksAll ? ConsentPurpose.allCases : [.marketing] {
            try await storage.recordConsent(ConsentRecord(
                customerId: customerId, channel: .sms, address: address, purpose: purpose, state: .optedOut,
                source: .provider, evidence: "\(messageId): carrier error 21610 (recipient unsubscribed)", createdAt: now
            ))
        }
    }
}
