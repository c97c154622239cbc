import HubCore
import Hummingbird
import NIOCore

/// The request context of every route: who is calling, once authenticated.
public struct AppRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `AuthMiddleware` on authenticated routes.
    public var principal: Principal?
    /// The caller's address, for the web chat's per-address rate limit.
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
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
