/// A request the domain refuses: something missing, in conflict, or impossible as asked.
public struct HubError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The family of the refusal; the HTTP layer maps each to a status.
    public enum Category: Sendable, Equatable {
        case notFound, conflict, unprocessable
        /// The caller did not say who they are, or said it with a credential the hub does not know.
        case unauthenticated
        /// The caller is known but may not do this.
        case forbidden
        /// The caller is going too fast; they may try again after this many seconds.
        case rateLimited(retryAfter: Int)
    }

    public let category: Category
    /// A stable snake_case code clients can match on.
    public let code: String
    /// A human sentence.
    public let message: String

    private init(_ category: Category, _ code: String, _ message: String) {
        self.category = category
        self.code = code
        self.message = message
    }

    /// The named thing does not exist (or the caller may not see it).
    public static func notFound(_ what: String, _ id: String) -> HubError {
        HubError(.notFound, "\(what)_not_found", "No \(what) with id '\(id)'.")
    }

    /// The request contradicts the current state.
    public static func conflict(_ code: String, _ message: String) -> HubError {
        HubError(.conflict, code, message)
    }

    /// The request is well-formed but cannot be carried out.
    public static func unprocessable(_ code: String, _ message: String) -> HubError {
        HubError(.unprocessable, code, message)
    }

    /// The credential is missing or unknown.
    public static func unauthenticated(_ message: String) -> HubError {
        HubError(.unauthenticated, "unauthorized", message)
    }

    /// The caller may not do this.
    public static func forbidden(_ code: String, _ message: String) -> HubError {
        HubError(.forbidden, code, message)
    }

    /// Too many requests from one visitor or address; retry after `seconds`.
    public static func rateLimited(retryAfter seconds: Int) -> HubError {
        HubError(.rateLimited(retryAfter: seconds), "rate_limited", "Too many requests; try again in \(seconds) s.")
    }

    public var description: String { "\(code): \(message)" }
}
