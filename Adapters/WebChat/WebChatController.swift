import Foundation
import HTTPTypes
import HubCore
import Hummingbird
import HummingbirdWebSocket
import NIOCore

/// The request context of the visitor WebSocket's upgrade: it knows the caller's address for rate limits.
public struct WebChatSocketContext: WebSocketRequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        remoteAddress = source.channel.remoteAddress
    }
}

/// The web chat channel's way in: the visitor API under `/webchat` (sessions, messages, typing,
/// contact, leave, a long poll) and its WebSocket. Visitors authenticate with their session token;
/// the hub stores only its digest.
public struct WebChatController<Context: RemoteAddressRequestContext>: Sendable {
    let storage: any HubStorage
    public let fanout: VisitorFanout
    public let configuration: WebChatConfiguration
    let limits: VisitorLimits

    public init(storage: any HubStorage, fanout: VisitorFanout, configuration: WebChatConfiguration) {
        self.storage = storage
        self.fanout = fanout
        self.configuration = configuration
        self.limits = VisitorLimits(configuration)
    }

    // MARK: Wire types

    struct SessionRequest: Decodable {
        var site: String?
        var name: String?
        var email: String?
        var identifier: String?
        var signature: String?
    }

    /// A visitor session as the widget learns it; `token` only in the answer that created it.
    struct SessionInfo: ResponseEncodable {
        var token: String?
        var visitorId: String
        var site: String
        var name: String?
        var email: String?
        /// The host site vouched for who the visitor is (a signed identifier).
        var verified: Bool
        var agentsOnline: Bool
        /// Outside opening hours, with when the center opens again.
        var closed: Bool
        var opensAt: Date?
    }

    struct PostMessage: Decodable {
        var text: String
        var clientId: String?
    }

    struct Identify: Decodable {
        var identifier: String
        var signature: String
    }

    struct Contact: Decodable {
        var email: String
    }

    struct Transcript: ResponseEncodable {
        var items: [VisitorMessage]
    }

    // MARK: Routes

    /// Adds the widget and the visitor API to `group` (mounted at `/webchat`).
    public func addRoutes(to group: RouterGroup<Context>) {
        group.get("widget.js") { _, _ in WebChatAssets.widget }
        for path in ["v1/sessions", "v1/session", "v1/messages", "v1/typing", "v1/contact", "v1/identify", "v1/leave"] {
            group.on(RouterPath(path), method: .options) { request, _ in try preflight(request) }
        }
        group.post("v1/sessions", use: startSession)
        group.get("v1/session") { request, context in
            let visitor = try await authenticate(request, context)
            return await info(visitor, token: nil)
        }
        group.get("v1/messages", use: transcript)
        group.post("v1/messages") { request, context in
            var request = request
            let visitor = try await authenticate(request, context)
            let body = try await decode(PostMessage.self, &request, context)
            let (message, duplicate) = try await post(body.text, clientId: body.clientId, from: visitor, address: context.remoteAddress?.ipAddress)
            var response = try context.responseEncoder.encode(message, from: request, context: context)
            response.status = .created
            if duplicate { response.headers[HTTPField.Name("Idempotent-Replayed")!] = "true" }
            return response
        }
        group.post("v1/typing") { request, context in
            let visitor = try await authenticate(request, context)
            try limits.request(from: context.remoteAddress?.ipAddress)
            await fanout.visitorTyping(visitor)
            return HTTPResponse.Status.noContent
        }
        group.post("v1/contact") { request, context in
            var request = request
            let visitor = try await authenticate(request, context)
            try limits.request(from: context.remoteAddress?.ipAddress)
            let body = try await decode(Contact.self, &request, context)
            _ = try await storage.setVisitorEmail(visitorId: visitor.id, email: body.email)
            return HTTPResponse.Status.noContent
        }
        // The visitor signed in on the host site after the chat began.
        group.post("v1/identify") { request, context in
            var request = request
            let visitor = try await authenticate(request, context)
            try limits.request(from: context.remoteAddress?.ipAddress)
            let body = try await decode(Identify.self, &request, context)
            guard configuration.sites[visitor.site]?.verifies(identifier: body.identifier, signature: body.signature) == true else {
                throw HubError.forbidden("invalid_signature", "The identifier's signature does not match this site's secret.")
            }
            return await info(try await storage.identifyVisitor(visitorId: visitor.id, identifier: body.identifier), token: nil)
        }
        group.post("v1/leave") { request, context in
            let visitor = try await authenticate(request, context)
            try await fanout.leave(visitor)
            return HTTPResponse.Status.noContent
        }
        // Without an Upgrade header the socket's path says why no socket was opened.
        group.get("v1/ws") { request, _ -> Response in
            guard allowsAnySite(request) else { throw HubError.forbidden("origin_not_allowed", "This origin may not use the web chat.") }
            throw HTTPError(.upgradeRequired, headers: [.upgrade: "websocket"], message: "Open this path as a WebSocket.")
        }
    }

    @Sendable func startSession(_ request: Request, context: Context) async throws -> Response {
        var request = request
        try limits.request(from: context.remoteAddress?.ipAddress)
        let body = try await decode(SessionRequest.self, &request, context)
        let key = body.site ?? "default"
        guard let site = configuration.sites[key] else { throw HubError.notFound("site", key) }
        try checkOrigin(request, site)
        var verified: String?
        if let identifier = body.identifier {
            guard let signature = body.signature, site.verifies(identifier: identifier, signature: signature) else {
                throw HubError.forbidden("invalid_signature", "The identifier's signature does not match this site's secret.")
            }
            verified = identifier
        }
        let token = AccessToken.generate(prefix: "vt_")
        let visitor = try await storage.createVisitor(
            VisitorDraft(site: key, name: body.name, email: body.email, verifiedIdentifier: verified), tokenDigest: AccessToken.digest(token)
        )
        var response = try context.responseEncoder.encode(await info(visitor, token: token), from: request, context: context)
        response.status = .created
        return response
    }

    /// The transcript after `?after=`; with `?wait=` (up to 25 s) it waits for the next message: the long poll.
    @Sendable func transcript(_ request: Request, context: Context) async throws -> Transcript {
        let visitor = try await authenticate(request, context)
        let after = request.uri.queryParameters.get("after")
        let wait = min(max(Int(request.uri.queryParameters.get("wait") ?? "0") ?? 0, 0), 25)
        var items = try await visibleMessages(visitor, after: after)
        guard items.isEmpty, wait > 0 else { return Transcript(items: items) }
        // Register before looking again, so a message stored in between is not missed.
        let (stream, continuation) = AsyncStream.makeStream(of: Outgoing.self, bufferingPolicy: .bufferingNewest(16))
        let connection = await fanout.connect(visitor, continuation)
        do {
            items = try await visibleMessages(visitor, after: after)
            if items.isEmpty {
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { for await frame in stream where frame.messageId != nil { return } }
                    group.addTask { try? await Task.sleep(for: .seconds(wait)) }
                    await group.next()
                    group.cancelAll()
                }
                items = try await visibleMessages(visitor, after: after)
            }
        } catch {
            await fanout.disconnect(visitor, id: connection)
            throw error
        }
        await fanout.disconnect(visitor, id: connection)
        return Transcript(items: items)
    }

    // MARK: WebSocket

    /// Adds `GET /webchat/v1/ws` to the router of WebSocket upgrades.
    public func addSocketRoute(to router: Router<WebChatSocketContext>) {
        router.ws("webchat/v1/ws") { request, context in
            guard allowsAnySite(request) else { throw HubError.forbidden("origin_not_allowed", "This origin may not use the web chat.") }
            try limits.request(from: context.remoteAddress?.ipAddress)
            return .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            try await VisitorSocket(controller: self, address: context.requestContext.remoteAddress?.ipAddress)
                .run(inbound: inbound, outbound: outbound, request: context.request)
        }
    }

    // MARK: Shared steps

    /// Stores a visitor's message once per client id and returns it as the widget shows it.
    func post(_ text: String, clientId: String?, from visitor: Visitor, address: String?) async throws -> (VisitorMessage, duplicate: Bool) {
        if let clientId, !ClientID.isValid(clientId) {
            throw ValidationError("clientId", "must be 1–64 letters, digits, '_' or '-'")
        }
        if text.count > WebChatConfiguration.maxTextCharacters {
            throw ValidationError("text", "must be at most \(WebChatConfiguration.maxTextCharacters) characters")
        }
        try limits.request(from: address)
        try limits.message(from: visitor.id)
        let result = try await storage.receive(InboundMessage(
            channel: .webchat, from: visitor.id, name: visitor.name, text: text,
            externalId: clientId.map { ClientID.externalId(visitorId: visitor.id, clientId: $0) }, receivedAt: Date()
        ))
        guard let message = VisitorMessage(try await storage.message(id: result.messageId)) else {
            throw HubError.conflict("client_id_taken", "This client id was used for another message.")
        }
        return (message, result.duplicate)
    }

    func visibleMessages(_ visitor: Visitor, after: String?) async throws -> [VisitorMessage] {
        try await storage.visitorTranscript(customerId: visitor.customerId, after: after, limit: 500).compactMap(VisitorMessage.init)
    }

    func info(_ visitor: Visitor, token: String?) async -> SessionInfo {
        let availability = await fanout.availability
        return SessionInfo(token: token, visitorId: visitor.id, site: visitor.site, name: visitor.name, email: visitor.email,
                           verified: visitor.verified, agentsOnline: availability.agentsOnline, closed: availability.closed, opensAt: availability.opensAt)
    }

    /// The visitor behind the bearer token, calling from an origin their site allows.
    func authenticate(_ request: Request, _ context: Context) async throws -> Visitor {
        // The scheme name is case-insensitive (RFC 9110 §11.1).
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer "),
              let visitor = try await visitor(token: String(header.dropFirst(7))) else {
            throw HubError.unauthenticated("A valid visitor token is required; start a session first.")
        }
        try checkOrigin(request, configuration.sites[visitor.site] ?? WebChatSite(key: visitor.site))
        return visitor
    }

    func visitor(token: String) async throws -> Visitor? {
        guard token.hasPrefix("vt_"), token.utf8.count < 128 else { return nil }
        return try await storage.visitor(tokenDigest: AccessToken.digest(token))
    }

    func checkOrigin(_ request: Request, _ site: WebChatSite) throws {
        guard site.allows(origin: request.headers[.origin], host: request.head.authority) else {
            throw HubError.forbidden("origin_not_allowed", "This origin may not use this site's web chat.")
        }
    }

    func allowsAnySite(_ request: Request) -> Bool {
        configuration.sites.values.contains { $0.allows(origin: request.headers[.origin], host: request.head.authority) }
    }

    /// Decodes a JSON body of at most `WebChatConfiguration.maxBodyBytes`.
    private func decode<T: Decodable>(_ type: T.Type, _ request: inout Request, _ context: Context) async throws -> T {
        _ = try await request.collectBody(upTo: WebChatConfiguration.maxBodyBytes)
        return try await context.requestDecoder.decode(type, from: request, context: context)
    }

    /// Answers a CORS preflight: the allowed origin may call with a token and a JSON body.
    private func preflight(_ request: Request) throws -> Response {
        guard allowsAnySite(request) else { throw HubError.forbidden("origin_not_allowed", "This origin may not use the web chat.") }
        return Response(status: .noContent, headers: [
            .accessControlAllowMethods: "GET, POST, OPTIONS",
            .accessControlAllowHeaders: "Authorization, Content-Type",
            .accessControlMaxAge: "600",
        ])
    }
}

/// Adds `Access-Control-Allow-Origin` for origins a web chat site allows, on answers and errors alike.
public struct WebChatCORSMiddleware<Context: RequestContext>: RouterMiddleware {
    let configuration: WebChatConfiguration

    public init(configuration: WebChatConfiguration) {
        self.configuration = configuration
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        if let origin = request.headers[.origin],
           configuration.sites.values.contains(where: { $0.allows(origin: origin, host: request.head.authority) }) {
            response.headers[.accessControlAllowOrigin] = origin
            response.headers[.vary] = "Origin"
            response.headers[.accessControlExposeHeaders] = "Retry-After, Idempotent-Replayed"
        }
        return response
    }
}
