import Foundation
import HubCore
import Hummingbird

/// `POST /v1/tokens`: admins issue bearer tokens; the secret is shown once and stored hashed.
struct TokensController {
    let storage: any HubStorage

    struct NewToken: Decodable {
        let role: Role
        let agentId: String?
        let name: String?
    }

    struct IssuedToken: ResponseEncodable {
        let id: String
        let role: Role
        let agentId: String?
        let name: String?
        let createdAt: Date
        /// The bearer token itself; it cannot be shown again.
        let token: String
    }

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("tokens") { request, context in
            _ = try context.require(.manageTokens)
            let body = try await context.requestDecoder.decode(NewToken.self, from: request, context: context)
            if let name = body.name, name.count > 200 { throw ValidationError("name", "must be at most 200 characters") }
            let issued = try await Self.issue(storage, role: body.role, agentId: body.agentId, name: body.name)
            return WithStatus.created(issued)
        }
    }

    /// Makes and stores a token; the CLI's `token create` uses the same path.
    static func issue(_ storage: any HubStorage, role: Role, agentId: String?, name: String?) async throws -> IssuedToken {
        if role == .agent && agentId == nil { throw ValidationError("agentId", "is required for the agent role") }
        let token = AccessToken.generate()
        let record = try await storage.createToken(digest: AccessToken.digest(token), role: role, agentId: agentId, name: name)
        return IssuedToken(id: record.id, role: record.role, agentId: record.agentId, name: record.name, createdAt: record.createdAt, token: token)
    }
}

/// Token issuing for the CLI.
public enum TokenIssuer {
    /// Creates a token and returns its secret.
    public static func issue(_ storage: any HubStorage, role: Role, agentId: String?, name: String?) async throws -> String {
        try await TokensController.issue(storage, role: role, agentId: agentId, name: name).token
    }
}
