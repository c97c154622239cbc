import Foundation
import HubCore
import Hummingbird
import Synchronization

/// Resolves `Authorization: Bearer …` to a principal; routes behind it answer 401 without one.
///
/// Principals are cached by token digest for a few seconds, so ingestion at thousands of
/// requests a second does not read the token table for each one.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let storage: any HubStorage
    let cache: PrincipalCache

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], let token = Self.bearerToken(header) else {
            throw APIError.unauthorized
        }
        let digest = AccessToken.digest(token)
        let principal: Principal
        if let cached = cache.lookup(digest) {
            principal = cached
        } else {
            guard let found = try await storage.principal(forTokenDigest: digest) else { throw APIError.unauthorized }
            cache.store(found, for: digest)
            principal = found
        }
        var context = context
        context.principal = principal
        context.logger[metadataKey: "sb.token"] = .string(principal.tokenId)
        return try await next(request, context)
    }

    /// The token of an `Authorization: Bearer …` value (the scheme in any case, blanks around the
    /// token ignored), or nil.
    static func bearerToken(_ header: String) -> String? {
        guard header.utf8.count > 7, header.prefix(7).lowercased() == "bearer " else { return nil }
        let token = header.dropFirst(7).trimmingWhitespace()
        return token.isEmpty || token.count > 200 ? nil : token
    }
}

/// A short-lived cache of principals by token digest.
final class PrincipalCache: Sendable {
    private let entries = Mutex<[String: (principal: Principal, expires: ContinuousClock.Instant)]>([:])
    private let lifetime: Duration

    init(lifetime: Duration = .seconds(5)) {
        self.lifetime = lifetime
    }

    func lookup(_ digest: String) -> Principal? {
        entries.withLock { entries in
            guard let entry = entries[digest], entry.expires > .now else { return nil }
            return entry.principal
        }
    }

    func store(_ principal: Principal, for digest: String) {
        entries.withLock { entries in
            if entries.count > 10_000 { entries.removeAll() }
            entries[digest] = (principal, .now + lifetime)
        }
    }
}

/// Lets a request through only when its principal holds the permission (for routes an adapter defines).
struct RequirePermission: RouterMiddleware {
    typealias Context = AppRequestContext
    let permission: Permission

    init(_ permission: Permission) {
        self.permission = permission
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        _ = try context.require(permission)
        return try await next(request, context)
    }
}
