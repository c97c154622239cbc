import Configuration
import Logging
import WebChatAdapter

/// Everything `switchboard serve` can be told; each field documents its key and default.
///
/// Keys are read from `--option` flags, then `SWITCHBOARD_*` environment variables
/// (`http.port` → `SWITCHBOARD_HTTP_PORT`), then `switchboard.json`, then these defaults.
public struct HubConfiguration: Sendable {
    /// `http.host`: the address to listen on.
    public var host = "127.0.0.1"
    /// `http.port`: the port to listen on (0 picks a free one).
    public var port = 8080
    /// `database.path`: the SQLite file, created on first start.
    public var databasePath = "switchboard.sqlite"
    /// `api.callbackUrl`: where replies on the `api` channel are POSTed; unset, they fail with that reason.
    public var apiCallbackURL: String?
    /// `api.callbackSecret`: the HMAC-SHA256 key of `X-Switchboard-Signature` on callbacks.
    public var apiCallbackSecret: String?
    /// `outbox.maxAttempts`: attempts before a message is dead-lettered.
    public var outboxMaxAttempts = 8
    /// `webchat.*`: the web chat channel. `webchat.allowedOrigins` (list) and `webchat.identitySecret` configure
    /// the `default` site; more sites are named in `webchat.sites` (list), each with
    /// `webchat.site.NAME.allowedOrigins` and `webchat.site.NAME.identitySecret`. Limits:
    /// `webchat.visitorMessagesPerMinute` (30), `webchat.ipRequestsPerMinute` (300), `webchat.abandonAfterSeconds` (60).
    public var webChat = WebChatConfiguration()
    /// `log.level`: trace, debug, info, notice, warning, error or critical.
    public var logLevel = Logger.Level.info

    public init() {}

    /// Reads every key from `reader`, keeping the default where a key is absent.
    public init(reader: ConfigReader) {
        host = reader.string(forKey: "http.host", default: host)
        port = reader.int(forKey: "http.port", default: port)
        databasePath = reader.string(forKey: "database.path", default: databasePath)
        apiCallbackURL = reader.string(forKey: "api.callbackUrl")
        apiCallbackSecret = reader.string(forKey: "api.callbackSecret", isSecret: true)
        outboxMaxAttempts = reader.int(forKey: "outbox.maxAttempts", default: outboxMaxAttempts)
        webChat = Self.webChat(reader)
        logLevel = reader.string(forKey: "log.level").flatMap(Logger.Level.init(rawValue:)) ?? logLevel
    }

    private static func webChat(_ reader: ConfigReader) -> WebChatConfiguration {
        var sites = [WebChatSite(
            key: "default",
            allowedOrigins: Set(reader.stringArray(forKey: "webchat.allowedOrigins", default: [])),
            identitySecret: reader.string(forKey: "webchat.identitySecret", isSecret: true)
        )]
        for name in reader.stringArray(forKey: "webchat.sites", default: []) where name != "default" {
            sites.append(WebChatSite(
                key: name,
                allowedOrigins: Set(reader.stringArray(forKey: ConfigKey(["webchat", "site", name, "allowedOrigins"]), default: [])),
                identitySecret: reader.string(forKey: ConfigKey(["webchat", "site", name, "identitySecret"]), isSecret: true)
            ))
        }
        let defaults = WebChatConfiguration()
        return WebChatConfiguration(
            sites: sites,
            visitorMessagesPerMinute: reader.int(forKey: "webchat.visitorMessagesPerMinute", default: defaults.visitorMessagesPerMinute),
            ipRequestsPerMinute: reader.int(forKey: "webchat.ipRequestsPerMinute", default: defaults.ipRequestsPerMinute),
            abandonAfter: .seconds(reader.int(forKey: "webchat.abandonAfterSeconds", default: 60))
        )
    }
}
