import Foundation
import HubCore
import Hummingbird

/// `POST /webhooks/email`: one raw RFC 5322 message, as a postfix pipe or a provider's inbound route
/// delivers it, authenticated by the shared secret as a bearer token. Answered once what the hub did
/// with it is durable; a repeat is recognised by its Message-ID.
public struct EmailWebhookController<Context: RequestContext>: Sendable {
    let intake: EmailIntake

    public init(intake: EmailIntake) {
        self.intake = intake
    }

    /// Adds the webhook to `group` (mounted at `/webhooks/email`).
    public func addRoutes(to group: RouterGroup<Context>) {
        group.post(use: receive)
    }

    @Sendable func receive(_ request: Request, context: Context) async throws -> EmailIntakeResult {
        guard let secret = intake.configuration.webhookSecret else {
            throw HubError.forbidden("webhook_disabled", "The email webhook is off: set email.webhookSecret to use it.")
        }
        let given = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil } ?? ""
        guard constantTimeEqual(given, secret) else {
            throw HubError.unauthenticated("The email webhook needs `Authorization: Bearer <email.webhookSecret>`.")
        }
        let body = try await request.body.collect(upTo: intake.configuration.maxMessageBytes)
        guard body.readableBytes > 0 else { throw ValidationError("body", "must be one RFC 5322 message") }
        return try await intake.take(Array(body.readableBytesView))
    }
}
