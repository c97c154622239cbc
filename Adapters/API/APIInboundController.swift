import Foundation
import HubCore
import HTTPTypes
import Hummingbird

/// The generic API channel's way in: `POST /v1/inbound` turns a JSON body into an inbound message.
public struct APIInboundController<Context: RequestContext>: Sendable {
    /// The body any system posts to inject a customer's message.
    public struct Body: Decodable, Sendable {
        public var from: String
        public var text: String?
        public var html: String?
        public var name: String?
        public var externalId: String?
        public var attachments: [Attachment]?
        /// Continue this conversation, when it belongs to the same sender.
        public var conversationId: String?
    }

    /// Where the message lands, as answered to the client (the same on a repeat).
    public struct Accepted: ResponseEncodable, Sendable {
        public var messageId: String
        public var conversationId: String
        public var customerId: String
    }

    let sink: any InboundSink

    public init(sink: any InboundSink) {
        self.sink = sink
    }

    /// Adds `POST inbound` to `group`; the caller puts it behind its authentication.
    public func addRoutes(to group: RouterGroup<Context>) {
        group.post("inbound", use: receive)
    }

    @Sendable func receive(_ request: Request, context: Context) async throws -> Response {
        let body = try await context.requestDecoder.decode(Body.self, from: request, context: context)
        let message = InboundMessage(
            channel: .api, from: body.from, name: body.name, text: body.text ?? "", html: body.html,
            attachments: body.attachments ?? [], externalId: body.externalId,
            threadHints: body.conversationId.map { [$0] } ?? [], receivedAt: Date()
        )
        let result = try await sink.receive(message)
        var response = try context.responseEncoder.encode(
            Accepted(messageId: result.messageId, conversationId: result.conversationId, customerId: result.customerId),
            from: request, context: context
        )
        response.status = .created
        if result.duplicate { response.headers[HTTPField.Name("Idempotent-Replayed")!] = "true" }
        return response
    }
}
