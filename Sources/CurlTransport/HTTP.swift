/// An HTTP request the transport performs.
public struct TransportRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?
    /// The whole transfer's time limit.
    public var timeout: Duration
    /// Larger response bodies fail the transfer.
    public var maxResponseBytes: Int
    /// Follow up to 5 redirects (a provider's media URL redirecting to its storage); an
    /// `Authorization` header is not sent on to another host.
    public var followRedirects: Bool

    public init(method: String = "GET", url: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil,
                timeout: Duration = .seconds(30), maxResponseBytes: Int = 10 * 1024 * 1024, followRedirects: Bool = false) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.maxResponseBytes = maxResponseBytes
        self.followRedirects = followRedirects
    }
}

/// What the server answered.
public struct TransportResponse: Sendable {
    public var status: Int
    /// Header lines of the final response, in order.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    /// The first value of a header, matched case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// A transfer that did not complete: libcurl's code and its error text.
public struct CurlError: Error, Sendable, CustomStringConvertible {
    public var code: Int
    public var message: String
    /// A mail server's last reply code (SMTP 550, IMAP's none), when it answered.
    public var replyCode: Int?
    /// That reply's line, as the server wrote it.
    public var serverReply: String?

    public init(code: Int, message: String) {
        self.code = code
        self.message = message
    }

    /// Time-outs and connection failures: the peer may well answer a later attempt.
    /// A mail server's 4xx is temporary and its 5xx permanent, whatever the curl code.
    public var isTransient: Bool {
        if let replyCode, (400..<600).contains(replyCode) { return replyCode < 500 }
        return [6, 7, 28, 35, 52, 55, 56].contains(code)
    }

    public var description: String {
        "curl error \(code): \(message)" + (serverReply.map { " (server: \($0))" } ?? "")
    }
}
