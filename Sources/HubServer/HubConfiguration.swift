import Foundation
import Configuration
import CurlTransport
import EmailAdapter
import HubCore
import Logging
import SMSAdapter
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
    /// `outbox.leaseSeconds` (60): how long a dispatcher holds a message it is sending; after a crash, messages
    /// in flight are sent again once their lease runs out (the customer may get those twice).
    public var outboxLeaseSeconds = 60
    /// `outbox.receiptTimeoutSeconds` (0, off): an SMS with no delivery report this long after it was sent goes
    /// once more on the customer's next channel, as if undelivered.
    public var receiptTimeoutSeconds = 0
    /// `webchat.*`: the web chat channel. `webchat.allowedOrigins` (list) and `webchat.identitySecret` configure
    /// the `default` site; more sites are named in `webchat.sites` (list), each with
    /// `webchat.site.NAME.allowedOrigins` and `webchat.site.NAME.identitySecret`. Limits:
    /// `webchat.visitorMessagesPerMinute` (30), `webchat.ipRequestsPerMinute` (300), `webchat.abandonAfterSeconds` (60).
    public var webChat = WebChatConfiguration()
    /// `sms.*`: the SMS channel. `sms.profiles` (list) names the numbers, each configured under
    /// `sms.profile.NAME.*` (`provider` twilio|vonage, `from`, `accountSid`, `authToken`, `messagingServiceSid`,
    /// `apiKey`, `apiSecret`, `signatureSecret`, `signatureMethod`, `baseUrl`, `perSecond`: the number's sending limit);
    /// `sms.defaultProfile` sends replies;
    /// `sms.publicBaseUrl` is the hub's URL as providers call it; `sms.defaultRegion`; `sms.optOutPolicy`
    /// (`all` or `marketing`); `sms.stopReply`, `sms.startReply`, `sms.helpReply`.
    public var sms = SMSConfiguration()
    /// `email.*`: the email channel. `email.address` (the center's mailbox, `support@localhost`), `email.fromName`,
    /// `email.replySecret` (signs reply addresses), `email.webhookSecret` (turns on `POST /webhooks/email`),
    /// `email.defaultSubject`, `email.maxMessageBytes` (25 MiB), `email.maxAttachments` (20);
    /// `email.smtp.url` (`smtp://host:587` or `smtps://host:465`), `email.smtp.tls` (none|optional|required, default
    /// required), `email.smtp.username`, `email.smtp.password`, `email.smtp.caFile`; `email.imap.url` (`imap://host:143/INBOX`
    /// or `imaps://…`), `email.imap.tls`, `email.imap.username`, `email.imap.password`, `email.imap.caFile`,
    /// `email.imap.pollSeconds` (30).
    public var email = EmailConfiguration()
    /// `transport.maxConnectionsPerHost` (16): connections open at once to one SMTP relay or provider API.
    public var maxConnectionsPerHost = 16
    /// `routing.file`: a JSON file of routing rules, queues and calendars, used until `PUT /v1/routing/configuration`
    /// stores one; unset, one general queue with the standard service levels.
    public var routingFile: String?
    /// `customers.requiredFields` (list): what a complete profile has (`name`, `email`, `phone`, `timeZone`, `locale`,
    /// `tags`, `accountManager`, or an attribute's name); default name, email, phone, timeZone, locale.
    public var requiredProfileFields = ProfileCompleteness.defaultFields
    /// `http.publicBaseUrl`: the hub's URL as customers reach it (default `http://HOST:PORT`), for preferences links.
    public var publicBaseURL = "http://127.0.0.1:8080"
    /// `customers.preferencesSecret`: signs customers' preferences links; unset, mail carries no link.
    public var preferencesSecret: String?
    /// `templates.directory` (`Templates`, or `--templates DIR`): the shipped message templates, read at start.
    public var templatesDirectory = "Templates"
    /// `campaigns.*`: `campaigns.batchSize` (500 recipients planned per transaction), `campaigns.defaultTimeZone`
    /// (UTC, for customers without one), `campaigns.linkSecret` (signs unsubscribe links; unset, a secret the hub
    /// makes once and keeps in its database), `campaigns.smsSegmentPrice` (0.0079) and `campaigns.currency` (USD)
    /// for the cost estimate of a preview.
    public var campaigns = CampaignSettings()
    /// `center.name`: the center's name in templates (`{{center.name}}`); default `email.fromName`, else "Switchboard".
    public var centerName = "Switchboard"
    /// `outbox.perSecond.email`, `.sms`, `.webchat` (unset: no limit): the most messages the dispatcher sends per
    /// second on a channel, whatever sends them — the providers' rate, shared by every campaign and reply.
    public var perSecond: [Channel: Double] = [:]
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
        outboxLeaseSeconds = min(max(reader.int(forKey: "outbox.leaseSeconds", default: outboxLeaseSeconds), 5), 3_600)
        receiptTimeoutSeconds = max(0, reader.int(forKey: "outbox.receiptTimeoutSeconds", default: receiptTimeoutSeconds))
        webChat = Self.webChat(reader)
        sms = Self.sms(reader, host: host, port: port)
        email = Self.email(reader)
        maxConnectionsPerHost = reader.int(forKey: "transport.maxConnectionsPerHost", default: maxConnectionsPerHost)
        routingFile = reader.string(forKey: "routing.file")
        requiredProfileFields = reader.stringArray(forKey: "customers.requiredFields", default: requiredProfileFields)
        publicBaseURL = reader.string(forKey: "http.publicBaseUrl", default: "http://\(host):\(port)")
        preferencesSecret = reader.string(forKey: "customers.preferencesSecret", isSecret: true)
        email.preferencesLink = preferencesLink
        logLevel = reader.string(forKey: "log.level").flatMap(Logger.Level.init(rawValue:)) ?? logLevel
        templatesDirectory = reader.string(forKey: "templates.directory", default: templatesDirectory)
        campaigns = CampaignSettings(
            batchSize: min(max(reader.int(forKey: "campaigns.batchSize", default: campaigns.batchSize), 1), 5_000),
            defaultTimeZone: reader.string(forKey: "campaigns.defaultTimeZone").flatMap(TimeZone.init(identifier:)) ?? .gmt,
            linkSecret: reader.string(forKey: "campaigns.linkSecret", isSecret: true),
            smsSegmentPrice: reader.double(forKey: "campaigns.smsSegmentPrice", default: campaigns.smsSegmentPrice),
            currency: reader.string(forKey: "campaigns.currency", default: campaigns.currency)
        )
        centerName = reader.string(forKey: "center.name") ?? email.fromName ?? centerName
        for channel in Channel.allCases {
            if let rate = reader.double(forKey: ConfigKey(["outbox", "perSecond", channel.rawValue])), rate > 0 { perSecond[channel] = rate }
        }
    }

    /// The customers' preferences links, when `customers.preferencesSecret` is set.
    public var preferencesLink: PreferencesLink? {
        preferencesSecret.map { PreferencesLink(baseURL: publicBaseURL, secret: $0) }
    }

    /// The routing configuration of `routing.file`, checked; the standard one when no file is set.
    public func routingConfiguration() throws -> RoutingConfiguration {
        guard let routingFile else { return .standard }
        let data = try Data(contentsOf: URL(fileURLWithPath: routingFile))
        return try JSONDecoder().decode(RoutingConfiguration.self, from: data).validated()
    }

    private static func email(_ reader: ConfigReader) -> EmailConfiguration {
        func credentials(_ prefix: String) -> MailCredentials? {
            guard let username = reader.string(forKey: ConfigKey(["email", prefix, "username"])) else { return nil }
            return MailCredentials(username: username, password: reader.string(forKey: ConfigKey(["email", prefix, "password"]), isSecret: true) ?? "")
        }
        func tls(_ prefix: String) -> MailTLS {
            reader.string(forKey: ConfigKey(["email", prefix, "tls"])).flatMap(MailTLS.init(rawValue:)) ?? .required
        }
        let defaults = EmailConfiguration()
        return EmailConfiguration(
            address: reader.string(forKey: "email.address", default: defaults.address),
            fromName: reader.string(forKey: "email.fromName"),
            replySecret: reader.string(forKey: "email.replySecret", isSecret: true),
            webhookSecret: reader.string(forKey: "email.webhookSecret", isSecret: true),
            defaultSubject: reader.string(forKey: "email.defaultSubject", default: defaults.defaultSubject),
            smtp: reader.string(forKey: "email.smtp.url").map {
                SMTPRelay(url: $0, tls: tls("smtp"), credentials: credentials("smtp"), caFile: reader.string(forKey: "email.smtp.caFile"))
            },
            imap: reader.string(forKey: "email.imap.url").map {
                IMAPMailbox(url: $0, tls: tls("imap"), credentials: credentials("imap"), caFile: reader.string(forKey: "email.imap.caFile"),
                            pollInterval: .seconds(max(1, reader.int(forKey: "email.imap.pollSeconds", default: 30))))
            },
            maxMessageBytes: reader.int(forKey: "email.maxMessageBytes", default: defaults.maxMessageBytes),
            maxAttachments: reader.int(forKey: "email.maxAttachments", default: defaults.maxAttachments)
        )
    }

    private static func sms(_ reader: ConfigReader, host: String, port: Int) -> SMSConfiguration {
        var profiles: [SMSProfile] = []
        for name in reader.stringArray(forKey: "sms.profiles", default: []) {
            func value(_ key: String, secret: Bool = false) -> String? {
                reader.string(forKey: ConfigKey(["sms", "profile", name, key]), isSecret: secret)
            }
            guard let provider = value("provider").flatMap(SMSProvider.init(rawValue:)) else { continue }
            profiles.append(SMSProfile(
                name: name, provider: provider, from: value("from"), messagingServiceSid: value("messagingServiceSid"),
                accountSid: value("accountSid"), authToken: value("authToken", secret: true), apiKey: value("apiKey"),
                apiSecret: value("apiSecret", secret: true), signatureSecret: value("signatureSecret", secret: true),
                signatureMethod: value("signatureMethod").flatMap(VonageSignature.Method.init(rawValue:)) ?? .md5hash,
                baseURL: value("baseUrl"), perSecond: reader.double(forKey: ConfigKey(["sms", "profile", name, "perSecond"])).flatMap { $0 > 0 ? $0 : nil }
            ))
        }
        let defaults = SMSConfiguration()
        return SMSConfiguration(
            profiles: profiles,
            defaultProfile: reader.string(forKey: "sms.defaultProfile"),
            publicBaseURL: reader.string(forKey: "sms.publicBaseUrl", default: "http://\(host):\(port)"),
            defaultRegion: reader.string(forKey: "sms.defaultRegion"),
            stopBlocksAll: reader.string(forKey: "sms.optOutPolicy", default: "all") != "marketing",
            stopReply: reader.string(forKey: "sms.stopReply", default: defaults.stopReply),
            startReply: reader.string(forKey: "sms.startReply", default: defaults.startReply),
            helpReply: reader.string(forKey: "sms.helpReply", default: defaults.helpReply)
        )
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

/// How campaigns are planned and previewed (`campaigns.*`).
public struct CampaignSettings: Sendable {
    public var batchSize = 500
    public var defaultTimeZone = TimeZone.gmt
    public var linkSecret: String?
    public var smsSegmentPrice = 0.0079
    public var currency = "USD"

    public init(batchSize: Int = 500, defaultTimeZone: TimeZone = .gmt, linkSecret: String? = nil, smsSegmentPrice: Double = 0.0079, currency: String = "USD") {
        self.batchSize = batchSize
        self.defaultTimeZone = defaultTimeZone
        self.linkSecret = linkSecret
        self.smsSegmentPrice = smsSegmentPrice
        self.currency = currency
    }
}
