import APIAdapter
import CurlTransport
import HubCore
import HubStore
import Hummingbird
import Logging
import Prometheus

/// Builds the hub: store, transport, dispatcher and the HTTP routes, ready to `runService()`.
public func buildApplication(
    _ configuration: HubConfiguration,
    registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
    logger: Logger
) async throws -> some ApplicationProtocol {
    let storage = try SQLiteHubStorage(path: configuration.databasePath, logger: logger)
    let transport = CurlTransport(logger: logger)
    var senders: [any OutboundSender] = []
    if let url = configuration.apiCallbackURL {
        senders.append(APICallbackSender(url: url, secret: configuration.apiCallbackSecret ?? "", transport: transport))
    }
    let dispatcher = OutboxDispatcher(
        storage: storage, senders: senders, retry: RetryPolicy(maxAttempts: configuration.outboxMaxAttempts), logger: logger
    )
    return Application(
        router: buildRouter(storage: storage, registry: registry),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Switchboard"),
        // Shut down in reverse: the server stops taking requests first, the store commits last.
        services: [storage, transport, dispatcher, SnoozeTimer(storage: storage, logger: logger)],
        logger: logger
    )
}

/// The routes: system endpoints without a token, the `/v1` API behind bearer authentication.
public func buildRouter(storage: any HubStorage, registry: PrometheusCollectorRegistry, sseHeartbeat: Duration = .seconds(15)) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: ErrorMiddleware())
    router.add(middleware: MetricsMiddleware())
    SystemController(registry: registry).addRoutes(to: router)
    let v1 = router.group("v1").add(middleware: AuthMiddleware(storage: storage, cache: PrincipalCache()))
    APIInboundController<AppRequestContext>(sink: storage).addRoutes(to: v1.group().add(middleware: RequirePermission(.ingest)))
    TokensController(storage: storage).addRoutes(to: v1)
    AgentsController(storage: storage).addRoutes(to: v1)
    CustomersController(storage: storage).addRoutes(to: v1)
    ConversationsController(storage: storage).addRoutes(to: v1)
    EventsController(storage: storage, heartbeat: sseHeartbeat).addRoutes(to: v1)
    return router
}
