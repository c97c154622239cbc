/// How a mail connection is secured.
public enum MailTLS: String, Sendable, CaseIterable {
    /// Plain text (a relay on loopback, a test server).
    case none
    /// STARTTLS when the server offers it.
    case optional
    /// STARTTLS or an `smtps://`/`imaps://` URL, else the transfer fails.
    case required
}

/// A login for a mail server.
public struct MailCredentials: Sendable {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }
}

/// One message handed to an SMTP relay: the envelope and the RFC 5322 bytes.
public struct MailSubmission: Sendable {
    /// `smtp://host:port` or `smtps://host:port`.
    public var url: String
    public var tls: MailTLS
    public var credentials: MailCredentials?
    /// A PEM file of the certificate authorities to trust instead of the system's (a private relay's CA).
    public var caFile: String?
    /// The envelope sender (`MAIL FROM`), a bare address.
    public var from: String
    /// The envelope recipients (`RCPT TO`), bare addresses.
    public var recipients: [String]
    /// The message as it goes on the wire, CRLF line endings.
    public var message: [UInt8]
    public var timeout: Duration

    public init(url: String, tls: MailTLS, credentials: MailCredentials? = nil, caFile: String? = nil, from: String, recipients: [String],
                message: [UInt8], timeout: Duration = .seconds(60)) {
        self.url = url
        self.tls = tls
        self.credentials = credentials
        self.caFile = caFile
        self.from = from
        self.recipients = recipients
        self.message = message
        self.timeout = timeout
    }
}

/// One IMAP exchange: a URL naming the mailbox (and `;UID=n` to fetch a message), and an optional command.
public struct MailboxRequest: Sendable {
    /// `imap://host:port/MAILBOX` or `imaps://…`; `/MAILBOX/;UID=n` fetches that message.
    public var url: String
    public var tls: MailTLS
    public var credentials: MailCredentials?
    /// A PEM file of the certificate authorities to trust instead of the system's.
    public var caFile: String?
    /// A command run in the mailbox instead of a fetch (`UID SEARCH UID 10:*`, `UID STORE 12 +FLAGS (\Seen)`).
    public var command: String?
    public var timeout: Duration
    /// Larger answers fail the transfer.
    public var maxResponseBytes: Int

    public init(url: String, tls: MailTLS, credentials: MailCredentials? = nil, caFile: String? = nil, command: String? = nil,
                timeout: Duration = .seconds(60), maxResponseBytes: Int = 32 * 1024 * 1024) {
        self.url = url
        self.tls = tls
        self.credentials = credentials
        self.caFile = caFile
        self.command = command
        self.timeout = timeout
        self.maxResponseBytes = maxResponseBytes
    }
}
