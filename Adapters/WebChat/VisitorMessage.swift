import Foundation
import HubCore

/// A message as the widget sees it: who wrote it (the visitor or the center) and its plain text.
public struct VisitorMessage: Codable, Sendable, Equatable {
    public enum Author: String, Codable, Sendable {
        case visitor, agent
    }

    public var id: String
    public var conversationId: String
    public var from: Author
    /// Plain text: the widget renders it as text, never as HTML.
    public var text: String
    public var createdAt: Date
    /// The widget's own id for a message it sent, so it can match the stored message to its draft.
    public var clientId: String?

    /// The widget's view of `message`, or nil when the customer must not see it (notes, activities, other channels).
    public init?(_ message: Message) {
        guard message.kind == .message, message.channel == .webchat else { return nil }
        id = message.id
        conversationId = message.conversationId
        from = message.direction == .inbound ? .visitor : .agent
        text = message.text
        createdAt = message.createdAt
        clientId = message.direction == .inbound ? message.externalId.flatMap(ClientID.parse) : nil
    }
}

/// The widget's id for a message it sends: stored as the message's external id, scoped to the visitor,
/// so a resend after a lost answer stores the message once and two visitors never collide.
enum ClientID {
    /// Whether `value` is a usable client id: 1–64 of `A-Z a-z 0-9 _ -`.
    static func isValid(_ value: String) -> Bool {
        (1...64).contains(value.utf8.count) && value.utf8.allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x5F
        }
    }

    static func externalId(visitorId: String, clientId: String) -> String {
        visitorId + ":" + clientId
    }

    static func parse(_ externalId: String) -> String? {
        externalId.split(separator: ":", maxSplits: 1).dropFirst().first.map(String.init)
    }
}

/// What the server sends on a visitor's WebSocket (and what the long poll answers with).
enum ServerFrame: Encodable {
    case ready(ChatAvailability)
    case message(VisitorMessage)
    case ack(clientId: String, message: VisitorMessage)
    case typing
    case agents(ChatAvailability)
    case pong
    case error(code: String, message: String)

    private enum Keys: String, CodingKey {
        case type, agentsOnline, message, clientId, from, online, closed, opensAt, error
    }

    private struct ErrorDetail: Encodable {
        let code: String
        let message: String
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        switch self {
        case .ready(let availability):
            try container.encode("ready", forKey: .type)
            try container.encode(availability.agentsOnline, forKey: .agentsOnline)
            try container.encode(availability.closed, forKey: .closed)
            try container.encodeIfPresent(availability.opensAt, forKey: .opensAt)
        case .message(let message):
            try container.encode("message", forKey: .type)
            try container.encode(message, forKey: .message)
        case .ack(let clientId, let message):
            try container.encode("ack", forKey: .type)
            try container.encode(clientId, forKey: .clientId)
            try container.encode(message, forKey: .message)
        case .typing:
            try container.encode("typing", forKey: .type)
            try container.encode("agent", forKey: .from)
        case .agents(let availability):
            try container.encode("agents", forKey: .type)
            try container.encode(availability.agentsOnline, forKey: .online)
            try container.encode(availability.closed, forKey: .closed)
            try container.encodeIfPresent(availability.opensAt, forKey: .opensAt)
        case .pong:
            try container.encode("pong", forKey: .type)
        case .error(let code, let message):
            try container.encode("error", forKey: .type)
            try container.encode(ErrorDetail(code: code, message: message), forKey: .error)
        }
    }

    /// The frame as JSON text, with the id of the message it carries (for de-duplication).
    var outgoing: Outgoing {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? #"{"type":"error"}"#
        if case .message(let message) = self { return Outgoing(messageId: message.id, json: json) }
        return Outgoing(messageId: nil, json: json)
    }
}

/// An encoded frame on its way to one visitor connection.
struct Outgoing: Sendable {
    /// The message the frame carries, if any: a connection sends each message once.
    let messageId: String?
    let json: String
}

/// What a visitor's WebSocket sends.
struct ClientFrame: Decodable {
    enum Kind: String, Decodable {
        case hello, message, typing, ping
    }

    let type: Kind
    let token: String?
    let after: String?
    let text: String?
    let clientId: String?
}
