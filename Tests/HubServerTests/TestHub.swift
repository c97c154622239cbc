import Foundation
import HTTPTypes
import HubCore
import HubServer
import HubStore
import Hummingbird
import HummingbirdTesting
import Logging
import Prometheus
import WebChatAdapter

/// A hub on a fresh temporary database, with an admin token, for route tests.
struct TestHub {
    let storage: SQLiteHubStorage
    let app: Application<RouterResponder<AppRequestContext>>
    let adminToken: String
    let path: String

    /// The router's and the visitor fan-out's tasks when the hub routes (`routing` given).
    let tasks: [Task<Void, any Error>]

    init(webChat configuration: WebChatConfiguration = WebChatConfiguration(), routing: RoutingConfiguration? = nil) async throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("hub-\(UUID().uuidString).sqlite").path
        let storage = try SQLiteHubStorage(path: path)
        self.storage = storage
        adminToken = try await TokenIssuer.issue(storage, role: .admin, agentId: nil, name: "test admin")
        let fanout = VisitorFanout(storage: storage, abandonAfter: .seconds(60), openingHours: routing?.defaultOpeningHours,
                                   logger: Logger(label: "test"))
        let webChat = WebChatController<AppRequestContext>(storage: storage, fanout: fanout, configuration: configuration)
        let router = routing.map { RoutingService(storage: storage, configuration: $0, logger: Logger(label: "test")) }
        tasks = router.map { router in [Task { try await router.run() }, Task { try await fanout.run() }] } ?? []
        app = Application(router: buildRouter(storage: storage, registry: PrometheusCollectorRegistry(), webChat: webChat, routing: router))
    }

    func token(_ role: Role, agentId: String? = nil) async throws -> String {
        try await TokenIssuer.issue(storage, role: role, agentId: agentId, name: nil)
    }

    func close() async {
        for task in tasks {
            task.cancel()
            _ = await task.result
        }
        await storage.close()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
}

extension TestClientProtocol {
    /// Sends a JSON request with a bearer token.
    @discardableResult
    func send(_ method: HTTPRequest.Method, _ uri: String, token: String?, json: String? = nil, headers extra: HTTPFields = [:]) async throws -> TestResponse {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        if json != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }
}

extension TestResponse {
    /// The body as a JSON object.
    var object: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any] ?? [:]
    }

    /// The `code` of the API's error shape, nil when the body is not that shape.
    var errorCode: String? {
        guard let error = object["error"] as? [String: Any], error["message"] is String else { return nil }
        return error["code"] as? String
    }
}
