import HubCore
import Hummingbird

/// The request context of every route: who is calling, once authenticated.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `AuthMiddleware` on authenticated routes.
    public var principal: Principal?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    /// Bodies are JSON documents of messages and profiles: 1 MiB is plenty.
    public var maxUploadSize: Int { 1024 * 1024 }

    /// The caller, if they hold `permission`; otherwise the error to answer.
    func require(_ permission: Permission) throws -> Principal {
        guard let principal else { throw APIError.unauthorized }
        guard principal.can(permission) else { throw APIError.forbidden(permission) }
        return principal
    }
}
