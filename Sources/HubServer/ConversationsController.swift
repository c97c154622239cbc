import Foundation
import HubCore
import Hummingbird
import NIOCore
import WebChatAdapter

/// `/v1/conversations`: the inbox. Agents see their own and their teams' conversations only.
struct ConversationsController {
    let storage: any HubStorage
    /// Carries typing indicators between agents and web chat visitors; they are never stored.
    let fanout: VisitorFanout

    struct Assignment: Decodable {
        let agentId: String?
        let teamId: String?
    }

    struct Snooze: Decodable {
        let until: Date
    }

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("conversations") { request, context in
            let principal = try context.require(.readConversations)
            let filter = ConversationFilter(
                status: try request.query("status", as: ConversationStatus.self),
                assigneeId: request.uri.queryParameters.get("assignee"),
                teamId: request.uri.queryParameters.get("team"),
                channel: try request.query("channel", as: Channel.self),
                tag: request.uri.queryParameters.get("tag"),
                customerId: request.uri.queryParameters.get("customer")
            )
            return try await storage.conversations(filter, scope: principal.scope, try request.pageRequest())
        }
        group.get("conversations/:id") { _, context in
            try await context.visibleConversation(storage, .readConversations)
        }
        group.patch("conversations/:id") { request, context in
            let conversation = try await context.visibleConversation(storage, .writeConversations)
            let patch = try await context.requestDecoder.decode(ConversationPatch.self, from: request, context: context)
            return try await storage.updateConversation(id: conversation.id, patch)
        }
        group.get("conversations/:id/messages") { request, context in
            let conversation = try await context.visibleConversation(storage, .readConversations)
            return try await storage.messages(conversationId: conversation.id, try request.pageRequest())
        }
        group.post("conversations/:id/messages") { request, context in
            let conversation = try await context.visibleConversation(storage, .writeConversations)
            let draft = try await context.requestDecoder.decode(ReplyDraft.self, from: request, context: context)
            let key = request.headers[.init("Idempotency-Key")!]
            if let key, key.isEmpty || key.count > 255 { throw ValidationError("idempotencyKey", "must be 1–255 characters") }
            let message = try await storage.reply(conversationId: conversation.id, draft, authorId: context.principal?.agentId, idempotencyKey: key)
            return WithStatus.accepted(message)
        }
        group.post("conversations/:id/assign") { request, context in
            let conversation = try await context.visibleConversation(storage, .writeConversations)
            let assignment = try await context.requestDecoder.decode(Assignment.self, from: request, context: context)
            guard assignment.agentId != nil || assignment.teamId != nil else {
                throw ValidationError("agentId", "or teamId is required (use /unassign to clear)")
            }
            return try await storage.assign(conversationId: conversation.id, agentId: assignment.agentId, teamId: assignment.teamId)
        }
        group.post("conversations/:id/unassign") { _, context in
            let conversation = try await context.visibleConversation(storage, .writeConversations)
            return try await storage.assign(conversationId: conversation.id, agentId: nil, teamId: nil)
        }
        group.post("conversations/:id/resolve") { _, context in
            let conversation = try await context.visibleConversation(storage, .writeConversations)
            return try await storage.setStatus(conversationId: conversation.id, .resolved, snoozedUntil: nil)
        }
        group.post("conversations/:id/reopen") { _, context in
            let conversation = try await context.visibleConversation(storage, .writeConversations)
            return try await storage.setStatus(conversationId: conversation.id, .open, snoozedUntil: nil)
        }
        group.post("conversations/:id/snooze") { request, context in
            let conversation = try await context.visibleConversation(storage, .writeConversations)
            let snooze = try await context.requestDecoder.decode(Snooze.self, from: request, context: context)
            return try await storage.setStatus(conversationId: conversation.id, .snoozed, snoozedUntil: snooze.until)
        }
        group.post("conversations/:id/typing") { _, context in
            let conversation = try await context.visibleConversation(storage, .writeConversations)
            await fanout.agentTyping(customerId: conversation.customerId)
            return HTTPResponse.Status.noContent
        }
        // A message the center starts: a notice or marketing, refused (422 consent_refused) when the ledger forbids it.
        group.post("outbound") { request, context in
            let principal = try context.require(.writeConversations)
            var draft = try await context.requestDecoder.decode(OutboundDraft.self, from: request, context: context)
            guard draft.purpose != .system else { throw ValidationError("purpose", "must be reply, transactional or marketing") }
            // Agents write in the conversations they may see; starting new ones is for supervisors and admins.
            if principal.scope != .all {
                guard let id = draft.conversationId else { throw ValidationError("conversationId", "is required for an agent's token") }
                let conversation = try await storage.conversation(id: id)
                guard principal.scope.allows(assigneeId: conversation.assigneeId, teamId: conversation.teamId) else {
                    throw HubError.notFound("conversation", id)
                }
            }
            draft.idempotencyKey = request.headers[.init("Idempotency-Key")!]
            return WithStatus.accepted(try await storage.send(draft))
        }
        group.get("media/:id") { _, context -> Response in
            _ = try context.require(.readConversations)
            let id = try context.parameters.require("id")
            guard let media = try await storage.media(id: id) else { throw HubError.notFound("media", id) }
            return Response(
                status: .ok,
                headers: [.contentType: media.contentType, .contentLength: String(media.bytes.count), .cacheControl: "private, max-age=3600"],
                body: .init(byteBuffer: ByteBuffer(bytes: media.bytes))
            )
        }
        group.get("sms/segments") { request, context in
            _ = try context.require(.readConversations)
            return SMSSegments(request.uri.queryParameters.get("text") ?? "")
        }
        group.get("messages/:id") { _, context in
            let principal = try context.require(.readConversations)
            let message = try await storage.message(id: try context.parameters.require("id"))
            let conversation = try await storage.conversation(id: message.conversationId)
            guard principal.scope.allows(assigneeId: conversation.assigneeId, teamId: conversation.teamId) else {
                throw HubError.notFound("message", message.id)
            }
            return message
        }
    }
}

extension AppRequestContext {
    /// The conversation named in the path, if the caller may see it; another team's is "not found".
    func visibleConversation(_ storage: any HubStorage, _ permission: Permission) async throws -> Conversation {
        let principal = try require(permission)
        let id = try parameters.require("id")
        let conversation = try await storage.conversation(id: id)
        guard principal.scope.allows(assigneeId: conversation.assigneeId, teamId: conversation.teamId) else {
            throw HubError.notFound("conversation", id)
        }
        return conversation
    }
}
