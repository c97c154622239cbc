import HubCore
import Hummingbird

/// `GET /v1/quarantine` and `GET /v1/quarantine/{id}/raw`: inbound input the hub set aside, with
/// the reason and the original bytes, for supervisors to review.
struct QuarantineController: Sendable {
    let storage: any HubStorage

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("quarantine") { request, context -> Page<QuarantinedMessage> in
            _ = try context.require(.readQuarantine)
            return try await storage.quarantined(try request.pageRequest())
        }
        group.get("quarantine/:id/raw") { _, context -> Response in
            _ = try context.require(.readQuarantine)
            let id = try context.parameters.require("id")
            guard let raw = try await storage.quarantinedRaw(id: id) else { throw HubError.notFound("quarantine", id) }
            return Response(status: .ok, headers: [.contentType: "message/rfc822"], body: .init(byteBuffer: ByteBuffer(bytes: raw)))
        }
    }
}
