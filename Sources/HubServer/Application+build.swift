import APIAdapter
import CurlTransport
import EmailAdapter
import HubCore
import HubStore
import Hummingbird
import HummingbirdWebSocket
import Logging
import Prometheus
import ServiceLifecycle
import SMSAdapter
import WebChatAdapter

/// Builds the hub: store, transport, dispatcher and the HTTP routes, ready to `runService()`.
public func buildApplication(
    _ configuration: HubConfiguration,
    registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
    logger: Logger
) async throws -> some ApplicationProtocol {
    let storage = try SQLiteHubStorage(path: configuration.databasePath, logger: logger)
    let transport = CurlTransport(maxConnectionsPerHost: configuration.maxConnectionsPerHost, logger: logger)
    var senders: [any OutboundSender] = [WebChatSender(), EmailSender(configuration: configuration.email, transport: transport, storage: storage)]
    if !configuration.sms.profiles.isEmpty {
        senders.append(SMSSender(configuration: configuration.sms, transport: transport, storage: storage))
    }
    if let url = configuration.apiCallbackURL {
        senders.append(APICallbackSender(url: url, secret: configuration.apiCallbackSecret ?? "", transport: transport))
    }
    // A claimed batch (32) waits its turn at the slowest configured pace; the lease must outlast that twice over,
    // or a row would be claimed again while it waits and sent twice.
    let slowest = (Array(configuration.perSecond.values) + configuration.sms.profiles.values.compactMap(\.perSecond)).min()
    let leaseSeconds = max(configuration.outboxLeaseSeconds, slowest.map { Int((64 / $0).rounded(.up)) } ?? 0)
    let dispatcher = OutboxDispatcher(
        storage: storage, senders: senders, retry: RetryPolicy(maxAttempts: configuration.outboxMaxAttempts),
        lease: .seconds(leaseSeconds), perSecond: configuration.perSecond, logger: logger
    )
    // Load the widget and the demo page now: a broken bundle stops the start, not a request later.
    _ = (WebChatAssets.widget, WebChatAssets.demoPage)
    let routingConfiguration = try configuration.routingConfiguration()
    let routing = RoutingService(storage: storage, configuration: routingConfiguration, logger: logger)
    // Web chat tells visitors when the center is closed: the default queue's opening hours.
    let fanout = VisitorFanout(
        storage: storage, abandonAfter: configuration.webChat.abandonAfter,
        openingHours: routingConfiguration.defaultOpeningHours, logger: logger
    )
    let webChat = WebChatController<AppRequestContext>(storage: storage, fanout: fanout, configuration: configuration.webChat)
    let sockets = Router(context: WebChatSocketContext.self)
    webChat.addSocketRoute(to: sockets)
    let emailIntake = EmailIntake(storage: storage, configuration: configuration.email)
    let campaignRunner = try await CampaignRunner.configured(configuration, storage: storage, logger: logger)
    let campaigns = CampaignsController(storage: storage, catalog: campaignRunner.catalog, runner: campaignRunner,
                                        smsSegmentPrice: configuration.campaigns.smsSegmentPrice, currency: configuration.campaigns.currency)
    var services: [any Service] = [storage, transport, dispatcher, SnoozeTimer(storage: storage, logger: logger), fanout, routing, campaignRunner]
    if configuration.receiptTimeoutSeconds > 0 {
        services.append(ReceiptWatch(storage: storage, timeout: .seconds(configuration.receiptTimeoutSeconds), logger: logger))
    }
    if let mailbox = configuration.email.imap {
        services.append(IMAPPoller(mailbox: mailbox, intake: emailIntake, storage: storage, transport: transport, logger: logger))
    }
    return Application(
        router: buildRouter(
            storage: storage, registry: registry, webChat: webChat, routing: routing,
            sms: SMSWebhookController(storage: storage, transport: transport, configuration: configuration.sms, logger: logger),
            email: EmailWebhookController(intake: emailIntake),
            completeness: ProfileCompleteness(requiredFields: configuration.requiredProfileFields),
            preferencesLink: configuration.preferencesLink, campaigns: campaigns, links: campaignRunner.links
        ),
        server: .http1WebSocketUpgrade(webSocketRouter: sockets),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Switchboard"),
        // Shut down in reverse: the server stops taking requests first, the store commits last.
        services: services,
        logger: logger
    )
}

/// The routes: system endpoints and the demo page without a token, the visitor API behind visitor
/// tokens, the `/v1` API behind bearer authentication.
public func buildRouter(
    storage: any HubStorage, registry: PrometheusCollectorRegistry, webChat: WebChatController<AppRequestContext>,
    routing: RoutingService? = nil, sms: SMSWebhookController<AppRequestContext>? = nil,
    email: EmailWebhookController<AppRequestContext>? = nil, completeness: ProfileCompleteness = ProfileCompleteness(),
    preferencesLink: PreferencesLink? = nil, campaigns: CampaignsController? = nil, links: CampaignLinks? = nil,
    sseHeartbeat: Duration = .seconds(15)
) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: ErrorMiddleware())
    router.add(middleware: MetricsMiddleware())
    SystemController(registry: registry).addRoutes(to: router)
    router.get("/") { _, _ in WebChatAssets.demoPage }
    // CORS wraps the error answers too, so a widget on another origin can read why it was refused.
    webChat.addRoutes(to: router.group("webchat")
        .add(middleware: WebChatCORSMiddleware(configuration: webChat.configuration))
        .add(middleware: ErrorMiddleware()))
    sms?.addRoutes(to: router.group("webhooks/sms"))
    email?.addRoutes(to: router.group("webhooks/email"))
    PreferencesController(storage: storage, link: preferencesLink).addRoutes(to: router)
    if let links { UnsubscribeController(storage: storage, links: links).addRoutes(to: router) }
    let v1 = router.group("v1").add(middleware: AuthMiddleware(storage: storage, cache: PrincipalCache()))
    APIInboundController<AppRequestContext>(sink: storage).addRoutes(to: v1.group().add(middleware: RequirePermission(.ingest)))
    TokensController(storage: storage).addRoutes(to: v1)
    AgentsController(storage: storage).addRoutes(to: v1)
    CustomersController(storage: storage, completeness: completeness, preferencesLink: preferencesLink).addRoutes(to: v1)
    ConversationsController(storage: storage, fanout: webChat.fanout).addRoutes(to: v1)
    EventsController(storage: storage, fanout: webChat.fanout, heartbeat: sseHeartbeat).addRoutes(to: v1)
    QuarantineController(storage: storage).addRoutes(to: v1)
    if let routing { RoutingController(storage: storage, router: routing).addRoutes(to: v1) }
    campaigns?.addRoutes(to: v1)
    return router
}
