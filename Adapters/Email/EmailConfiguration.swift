import CurlTransport
import HubCore

/// An SMTP relay the hub hands its mail to.
public struct SMTPRelay: Sendable {
    /// `smtp://host:port` (STARTTLS as `tls` says) or `smtps://host:port`.
    public var url: String
    public var tls: MailTLS
    public var credentials: MailCredentials?
    /// Certificate authorities to trust instead of the system's (PEM).
    public var caFile: String?

    public init(url: String, tls: MailTLS = .required, credentials: MailCredentials? = nil, caFile: String? = nil) {
        self.url = url
        self.tls = tls
        self.credentials = credentials
        self.caFile = caFile
    }
}

/// A mailbox the hub polls for customers' mail.
public struct IMAPMailbox: Sendable {
    /// `imap://host:port/INBOX` or `imaps://…`.
    public var url: String
    public var tls: MailTLS
    public var credentials: MailCredentials?
    /// Certificate authorities to trust instead of the system's (PEM).
    public var caFile: String?
    public var pollInterval: Duration

    public init(url: String, tls: MailTLS = .required, credentials: MailCredentials? = nil, caFile: String? = nil,
                pollInterval: Duration = .seconds(30)) {
        var url = url
        while url.hasSuffix("/") { url.removeLast() }
        self.url = url
        self.tls = tls
        self.credentials = credentials
        self.caFile = caFile
        self.pollInterval = pollInterval
    }
}

/// The email channel's settings.
public struct EmailConfiguration: Sendable {
    /// The center's mailbox: the From of every mail, and the base of reply addresses (`local+TOKEN@domain`).
    public var address: String
    public var fromName: String?
    /// Signs reply tokens; without it mail carries no Reply-To token and threads by In-Reply-To alone.
    public var replySecret: String?
    /// The shared secret `POST /webhooks/email` requires as a bearer token; without it the endpoint is off.
    public var webhookSecret: String?
    /// The subject of a mail the center starts in a conversation that has none.
    public var defaultSubject: String
    public var smtp: SMTPRelay?
    public var imap: IMAPMailbox?
    /// Larger mail is quarantined unread.
    public var maxMessageBytes: Int
    /// Mail with more attachments is quarantined.
    public var maxAttachments: Int
    /// When set, every mail ends with the customer's preferences link, and marketing mail offers one-click
    /// unsubscribe (RFC 8058) through it.
    public var preferencesLink: PreferencesLink?

    public init(address: String = "support@localhost", fromName: String? = nil, replySecret: String? = nil, webhookSecret: String? = nil,
                defaultSubject: String = "A message from our team", smtp: SMTPRelay? = nil, imap: IMAPMailbox? = nil,
                maxMessageBytes: Int = MIMEParser.maxBytes, maxAttachments: Int = 20, preferencesLink: PreferencesLink? = nil) {
        self.address = address
        self.fromName = fromName
        self.replySecret = replySecret
        self.webhookSecret = webhookSecret
        self.defaultSubject = defaultSubject
        self.smtp = smtp
        self.imap = imap
        self.maxMessageBytes = min(maxMessageBytes, MIMEParser.maxBytes)
        self.maxAttachments = maxAttachments
        self.preferencesLink = preferencesLink
    }

    /// The domain of the center's address: the right side of every Message-ID the hub writes.
    public var domain: String {
        address.split(separator: "@").last.map { $0.lowercased() } ?? "localhost"
    }
}
