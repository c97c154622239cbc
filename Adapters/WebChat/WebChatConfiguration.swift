import Crypto
import Foundation
import HubCore

/// One web chat channel: the site the widget is embedded in, who may call it and how identities are vouched for.
public struct WebChatSite: Sendable, Equatable {
    public var key: String
    /// Origins (`https://shop.example`) allowed to call the visitor API and open its WebSocket.
    /// The hub's own origin is always allowed, so the demo page works without configuration.
    public var allowedOrigins: Set<String>
    /// The HMAC-SHA256 key the host site signs identifiers with; nil disables verified identity.
    public var identitySecret: String?

    public init(key: String, allowedOrigins: Set<String> = [], identitySecret: String? = nil) {
        self.key = key
        self.allowedOrigins = Set(allowedOrigins.map(Self.canonicalOrigin))
        self.identitySecret = identitySecret
    }

    /// Whether a browser request from `origin` to the hub at `host` may proceed.
    ///
    /// No Origin header means no browser made the call (curl, a server): the visitor token alone decides.
    public func allows(origin: String?, host: String?) -> Bool {
        guard let origin, !origin.isEmpty else { return true }
        let canonical = Self.canonicalOrigin(origin)
        if allowedOrigins.contains(canonical) || allowedOrigins.contains("*") { return true }
        guard let host = host?.lowercased() else { return false }
        return canonical == "http://" + host || canonical == "https://" + host
    }

    /// Whether `signature` is the hex HMAC-SHA256 of `identifier` under the site's secret (constant time).
    public func verifies(identifier: String, signature: String) -> Bool {
        guard let identitySecret, !identitySecret.isEmpty else { return false }
        let key = SymmetricKey(data: Data(identitySecret.utf8))
        let expected = HMAC<SHA256>.authenticationCode(for: Data(identifier.utf8), using: key).hexString
        return constantTimeEqual(expected, signature.lowercased())
    }

    static func canonicalOrigin(_ origin: String) -> String {
        var value = origin.lowercased()
        while value.hasSuffix("/") { value.removeLast() }
        return value
    }
}

/// The web chat channel's settings: its sites and the limits that keep one visitor from flooding the hub.
public struct WebChatConfiguration: Sendable {
    public var sites: [String: WebChatSite]
    /// Messages one visitor may send per minute (a burst of as many, refilled evenly).
    public var visitorMessagesPerMinute: Int
    /// Visitor API calls (sessions, messages, typing) one IP address may make per minute.
    public var ipRequestsPerMinute: Int
    /// How long after a visitor's last connection closed they count as gone (and an unanswered chat as abandoned).
    public var abandonAfter: Duration

    public init(sites: [WebChatSite] = [WebChatSite(key: "default")], visitorMessagesPerMinute: Int = 30,
                ipRequestsPerMinute: Int = 300, abandonAfter: Duration = .seconds(60)) {
        self.sites = Dictionary(sites.map { ($0.key, $0) }, uniquingKeysWith: { _, last in last })
        self.visitorMessagesPerMinute = visitorMessagesPerMinute
        self.ipRequestsPerMinute = ipRequestsPerMinute
        self.abandonAfter = abandonAfter
    }

    /// Limits of one visitor message.
    public static let maxTextCharacters = 4000
    public static let maxBodyBytes = 16 * 1024
}
