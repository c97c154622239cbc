import Foundation
import HubCore
import Hummingbird
import HummingbirdWebSocket
import NIOWebSocket

/// One visitor's WebSocket: a `hello` frame with the token, then the backlog after the last message
/// the widget has, then live frames from `VisitorFanout`, while the visitor's own frames are handled.
struct VisitorSocket<Context: RemoteAddressRequestContext> {
    let controller: WebChatController<Context>
    /// The caller's IP address, for the per-address rate limit.
    let address: String?

    /// Close codes of the protocol: the application range 4000–4999 (RFC 6455 §7.4.2).
    static var unauthorized: WebSocketErrorCode { .unknown(4401) }
    static var forbidden: WebSocketErrorCode { .unknown(4403) }

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, request: Request) async throws {
        var frames = inbound.messages(maxSize: WebChatConfiguration.maxBodyBytes).makeAsyncIterator()
        // A socket that never says who it is does not stay open.
        let watchdog = Task {
            try await Task.sleep(for: .seconds(10))
            try await outbound.close(Self.unauthorized, reason: "expected a hello frame")
        }
        let first = try await frames.next()
        watchdog.cancel()
        guard case .text(let text) = first, let hello = try? JSONDecoder().decode(ClientFrame.self, from: Data(text.utf8)),
              hello.type == .hello, let token = hello.token,
              let visitor = try await controller.visitor(token: token) else {
            try await outbound.close(Self.unauthorized, reason: "unauthorized")
            return
        }
        let site = controller.configuration.sites[visitor.site] ?? WebChatSite(key: visitor.site)
        guard site.allows(origin: request.headers[.origin], host: request.head.authority) else {
            try await outbound.close(Self.forbidden, reason: "origin_not_allowed")
            return
        }

        let (stream, continuation) = AsyncStream.makeStream(of: Outgoing.self, bufferingPolicy: .bufferingNewest(1024))
        let connection = await controller.fanout.connect(visitor, continuation)
        let availability = await controller.fanout.availability
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                // The only writer of the socket: the backlog first, then live frames, each message once.
                group.addTask {
                    try await outbound.write(.text(ServerFrame.ready(availability).outgoing.json))
                    var sent = Set<String>()
                    var cursor = hello.after
                    while true {
                        let page = try await controller.visibleMessages(visitor, after: cursor)
                        for message in page {
                            try await outbound.write(.text(ServerFrame.message(message).outgoing.json))
                            sent.insert(message.id)
                        }
                        guard page.count == 500, let last = page.last else { break }
                        cursor = last.id
                    }
                    for await frame in stream {
                        if let id = frame.messageId, sent.contains(id) { continue }
                        try await outbound.write(.text(frame.json))
                    }
                }
                while let message = try await frames.next() {
                    guard case .text(let text) = message else {
                        continuation.yield(ServerFrame.error(code: "invalid_frame", message: "Frames are JSON text.").outgoing)
                        continue
                    }
                    if let reply = await answer(text, visitor) { continuation.yield(reply) }
                }
                continuation.finish()
                try await group.waitForAll()
            }
        } catch {
            await controller.fanout.disconnect(visitor, id: connection)
            throw error
        }
        await controller.fanout.disconnect(visitor, id: connection)
    }

    /// What the socket says back to one frame of the visitor's.
    private func answer(_ text: String, _ visitor: Visitor) async -> Outgoing? {
        guard let frame = try? JSONDecoder().decode(ClientFrame.self, from: Data(text.utf8)) else {
            return ServerFrame.error(code: "invalid_frame", message: "The frame is not a known JSON frame.").outgoing
        }
        switch frame.type {
        case .ping:
            return ServerFrame.pong.outgoing
        case .hello:
            return ServerFrame.error(code: "already_authenticated", message: "This socket has said hello already.").outgoing
        case .typing:
            await controller.fanout.visitorTyping(visitor)
            return nil
        case .message:
            do {
                let (message, _) = try await controller.post(frame.text ?? "", clientId: frame.clientId, from: visitor, address: address)
                return ServerFrame.ack(clientId: frame.clientId ?? "", message: message).outgoing
            } catch let error as HubError {
                return ServerFrame.error(code: error.code, message: error.message).outgoing
            } catch let error as ValidationError {
                return ServerFrame.error(code: "invalid_\(error.field)", message: "\(error.field) \(error.reason).").outgoing
            } catch {
                return ServerFrame.error(code: "internal_error", message: "The message could not be stored; send it again.").outgoing
            }
        }
    }
}
