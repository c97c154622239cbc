import Crypto
import CurlTransport
import Foundation
import HubCore

/// The generic API channel's way out: each reply is POSTed as JSON to the integration's callback URL,
/// signed so the receiver can tell it came from this hub.
public struct APICallbackSender: OutboundSender {
    public let channel = Channel.api
    let url: String
    let secret: String
    let transport: CurlTransport
    let now: @Sendable () -> Date

    public init(url: String, secret: String, transport: CurlTransport, now: @escaping @Sendable () -> Date = Date.init) {
        self.url = url
        self.secret = secret
        self.transport = transport
        self.now = now
    }

    public func send(_ delivery: OutboundDelivery) async throws -> SendReceipt {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        let body = Array(try encoder.encode(delivery))
        let timestamp = String(Int(now().timeIntervalSince1970))
        let request = TransportRequest(
            method: "POST", url: url,
            headers: [
                ("Content-Type", "application/json"),
                ("Idempotency-Key", delivery.idempotencyKey),
                ("X-Switchboard-Timestamp", timestamp),
                ("X-Switchboard-Signature", CallbackSignature.sign(secret: secret, timestamp: timestamp, body: body)),
            ],
            body: body, timeout: .seconds(15), maxResponseBytes: 64 * 1024
        )
        let response: TransportResponse
        do {
            response = try await transport.perform(request)
        } catch let error as CurlError {
            throw SendFailure(reason: error.description, retryable: true)
        }
        switch response.status {
        case 200..<300:
            return SendReceipt(providerMessageId: response.header("X-Message-Id"))
        case 429, 500...:
            throw SendFailure(reason: "callback answered \(response.status)", retryable: true)
        default:
            let detail = String(decoding: response.body.prefix(200), as: UTF8.self)
            throw SendFailure(reason: "callback answered \(response.status): \(detail)", retryable: false)
        }
    }
}

/// `X-Switchboard-Signature`: `v1=` and the hex HMAC-SHA256 of `timestamp.body` under the shared secret.
public enum CallbackSignature {
    /// The signature header value for this timestamp and body.
    public static func sign(secret: String, timestamp: String, body: [UInt8]) -> String {
        var message = Array(timestamp.utf8)
        message.append(UInt8(ascii: "."))
        message.append(contentsOf: body)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(secret.utf8)))
        return "v1=" + mac.hexString
    }

    /// Whether `signature` is this body's, compared in constant time.
    public static func verify(_ signature: String, secret: String, timestamp: String, body: [UInt8]) -> Bool {
        let expected = Array(sign(secret: secret, timestamp: timestamp, body: body).utf8)
        let given = Array(signature.utf8)
        guard expected.count == given.count else { return false }
        return zip(expected, given).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
