import Foundation
import Hummingbird
import Prometheus

/// `/healthz`, `/metrics` and `/openapi.json`: what operators and tools read without a token.
struct SystemController {
    let registry: PrometheusCollectorRegistry

    struct Health: ResponseEncodable {
        let status: String
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("healthz") { _, _ in Health(status: "ok") }
        router.get("metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer()))
            )
        }
        let openAPI = Self.openAPIDocument
        router.get("openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: openAPI)))
        }
    }

    /// The OpenAPI 3.1 description of these routes, shipped as a resource.
    static let openAPIDocument: [UInt8] = {
        // The resource is part of the build: its absence is a packaging bug, not a runtime condition.
        let url = Bundle.module.url(forResource: "openapi", withExtension: "json")!
        return Array(try! Data(contentsOf: url))
    }()
}
