import Foundation
import HubCore
import Hummingbird
import NIOCore
import ServiceLifecycle
import WebChatAdapter

/// `GET /v1/events`: the event log as Server-Sent Events, resumable with `Last-Event-ID`.
///
/// Each stream keeps its own cursor into the durable log and is woken by commits, so a client
/// that reconnects with the last id it saw gets every event it missed, in order, none twice.
/// Between them come `typing` notices (a web chat visitor typing): live only, without an id.
struct EventsController {
    let storage: any HubStorage
    let fanout: VisitorFanout
    /// A comment line is sent when nothing happened for this long, so proxies keep the stream open.
    let heartbeat: Duration

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("events") { request, context in
            let principal = try context.require(.readEvents)
            let resumeFrom = request.headers[.init("Last-Event-ID")!] ?? request.uri.queryParameters.get("after")
            var cursor: Int64 = 0
            if let resumeFrom {
                guard let value = Int64(resumeFrom), value >= 0 else { throw ValidationError("lastEventId", "must be an event id") }
                cursor = value
            }
            let storage = self.storage
            let fanout = self.fanout
            let heartbeat = self.heartbeat
            let scope = principal.scope
            let start = cursor
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream", .cacheControl: "no-store"],
                body: ResponseBody { writer in
                    var cursor = start
                    var typingCursor = fanout.typingSignal.latest
                    try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
                    streaming: while !Task.isCancelled {
                        let head = try await storage.latestEventId()
                        let events = try await storage.events(after: cursor, scope: scope, limit: 500)
                        if !events.isEmpty {
                            var buffer = ByteBuffer()
                            for event in events { buffer.writeString(Self.frame(event)) }
                            try await writer.write(buffer)
                            cursor = events[events.count - 1].id
                        }
                        // Every event up to `head` is committed and was visible to the query above.
                        if events.count < 500 { cursor = max(cursor, head) } else { continue }
                        switch await Self.waitForEvent(storage, after: cursor, typing: fanout.typingSignal, after: typingCursor, timeout: heartbeat) {
                        case .event: continue
                        case .typing:
                            let notices = await fanout.typingNotices(after: typingCursor)
                            typingCursor = notices.last?.sequence ?? fanout.typingSignal.latest
                            var buffer = ByteBuffer()
                            for notice in notices where scope.allows(assigneeId: notice.assigneeId, teamId: notice.teamId) {
                                buffer.writeString(Self.frame(notice))
                            }
                            if buffer.readableBytes > 0 { try await writer.write(buffer) }
                        case .heartbeat: try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                        case .shutdown: break streaming
                        }
                    }
                    try await writer.finish(nil)
                }
            )
        }
    }

    /// One SSE frame: the event's id, type and JSON.
    static func frame(_ event: HubEvent) -> String {
        var json = "{\"id\":\(event.id),\"type\":\"\(event.type.rawValue)\""
        for (key, value) in [("conversationId", event.conversationId), ("customerId", event.customerId), ("agentId", event.agentId)] {
            if let value { json += ",\"\(key)\":\(jsonString(value))" }
        }
        json += ",\"createdAt\":\"\(event.createdAt.formatted(.iso8601))\",\"data\":\(event.data)}"
        return "id: \(event.id)\nevent: \(event.type.rawValue)\ndata: \(json)\n\n"
    }

    /// A typing frame: no id, so a client's Last-Event-ID stays on the durable log.
    static func frame(_ notice: TypingNotice) -> String {
        "event: typing\ndata: {\"type\":\"typing\",\"from\":\"visitor\",\"conversationId\":\(jsonString(notice.conversationId)),"
            + "\"customerId\":\(jsonString(notice.customerId))}\n\n"
    }

    private static func jsonString(_ value: String) -> String {
        String(decoding: try! JSONEncoder().encode(value), as: UTF8.self)
    }

    private enum Wake: Sendable {
        case event, typing, heartbeat, shutdown
    }

    /// Waits for a newer event, a typing notice, the heartbeat interval, or the server's graceful shutdown.
    private static func waitForEvent(
        _ storage: any HubStorage, after id: Int64, typing: EventSignal, after typingId: Int64, timeout: Duration
    ) async -> Wake {
        await withTaskGroup(of: Wake.self) { group in
            group.addTask {
                await storage.waitForEvent(after: id, timeout: timeout) ? .event : .heartbeat
            }
            group.addTask {
                await typing.wait(after: typingId)
                return Task.isCancelled ? .heartbeat : .typing
            }
            group.addTask {
                // Ends the stream on SIGTERM, so draining the server does not wait for clients.
                do { try await gracefulShutdown() } catch { return .heartbeat }
                return .shutdown
            }
            let first = await group.next() ?? .shutdown
            group.cancelAll()
            return first
        }
    }
}
