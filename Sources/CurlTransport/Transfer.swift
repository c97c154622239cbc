import CCurl
import Foundation

/// One transfer: its easy handle, the buffers libcurl reads and writes, and the waiting caller.
///
/// `@unchecked Sendable`: it is built by the caller, handed to the curl thread through the
/// transport's locked queue, and from then on touched only by the curl thread.
final class Transfer: @unchecked Sendable {
    let easy: UnsafeMutableRawPointer
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var recipientList: UnsafeMutablePointer<curl_slist>?
    /// What an SMTP transfer uploads, and how much of it libcurl has read.
    private var upload: [UInt8] = []
    private var uploaded = 0
    private var isMail = false
    private let errorBuffer: UnsafeMutablePointer<CChar> = {
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        buffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        return buffer
    }()
    private var body: [UInt8] = []
    private var headerLines: [String] = []
    private let maxResponseBytes: Int
    private var overflowed = false
    var continuation: CheckedContinuation<TransportResponse, any Error>?

    /// The options every transfer shares: its buffers, callbacks, signals off and time limits.
    private init(timeout: Duration, maxResponseBytes: Int, url: String, protocols: String) throws {
        guard let easy = curl_easy_init() else { throw CurlError(code: -1, message: "curl_easy_init failed") }
        self.easy = easy
        self.maxResponseBytes = maxResponseBytes
        let context = Unmanaged.passUnretained(self).toOpaque()
        sb_curl_setopt_string(easy, CURLOPT_URL, url)
        sb_curl_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        sb_curl_setopt_long(easy, CURLOPT_TIMEOUT_MS, Int(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000))
        sb_curl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, 10_000)
        sb_curl_setopt_string(easy, CURLOPT_PROTOCOLS_STR, protocols)
        sb_curl_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer)
        sb_curl_setopt_pointer(easy, CURLOPT_WRITEDATA, context)
        sb_curl_setopt_callback(easy, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            guard transfer.body.count + length <= transfer.maxResponseBytes else {
                transfer.overflowed = true
                return 0
            }
            data!.withMemoryRebound(to: UInt8.self, capacity: length) { transfer.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: length)) }
            return length
        }
        // HTTP headers; for SMTP and IMAP, libcurl hands the server's response lines here.
        sb_curl_setopt_pointer(easy, CURLOPT_HEADERDATA, context)
        sb_curl_setopt_callback(easy, CURLOPT_HEADERFUNCTION) { data, size, count, context in
            let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            let line = data!.withMemoryRebound(to: UInt8.self, capacity: length) { String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self) }
            // A new status line (after a 100 Continue or a redirect) starts a new header block.
            if line.hasPrefix("HTTP/") { transfer.headerLines = [] }
            if transfer.headerLines.count < 1_000 { transfer.headerLines.append(line) }
            return length
        }
    }

    /// An HTTP request.
    convenience init(_ request: TransportRequest) throws {
        try self.init(timeout: request.timeout, maxResponseBytes: request.maxResponseBytes, url: request.url, protocols: "http,https")
        if request.followRedirects {
            sb_curl_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 1)
            sb_curl_setopt_long(easy, CURLOPT_MAXREDIRS, 5)
            sb_curl_setopt_string(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        }
        for header in request.headers {
            headerList = curl_slist_append(headerList, "\(header.name): \(header.value)")
        }
        if request.body != nil && !request.headers.contains(where: { $0.name.lowercased() == "expect" }) {
            headerList = curl_slist_append(headerList, "Expect:")
        }
        sb_curl_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList)
        switch (request.method.uppercased(), request.body) {
        case ("GET", nil):
            sb_curl_setopt_long(easy, CURLOPT_HTTPGET, 1)
        case ("HEAD", _):
            sb_curl_setopt_long(easy, CURLOPT_NOBODY, 1)
        case (let method, let body):
            let bytes = body ?? []
            sb_curl_setopt_offset(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count))
            _ = bytes.withUnsafeBytes { raw in
                // COPYPOSTFIELDS copies the bytes: nothing of the caller's must outlive this call.
                sb_curl_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!))
            }
            if method != "POST" { sb_curl_setopt_string(easy, CURLOPT_CUSTOMREQUEST, method) }
        }
    }

    /// An SMTP submission: the envelope, then the message uploaded from memory.
    convenience init(_ mail: MailSubmission) throws {
        try self.init(timeout: mail.timeout, maxResponseBytes: 64 * 1024, url: mail.url, protocols: "smtp,smtps")
        configure(tls: mail.tls, credentials: mail.credentials, caFile: mail.caFile)
        sb_curl_setopt_string(easy, CURLOPT_MAIL_FROM, "<\(mail.from)>")
        for recipient in mail.recipients {
            recipientList = curl_slist_append(recipientList, "<\(recipient)>")
        }
        sb_curl_setopt_slist(easy, CURLOPT_MAIL_RCPT, recipientList)
        upload = mail.message
        sb_curl_setopt_long(easy, CURLOPT_UPLOAD, 1)
        sb_curl_setopt_offset(easy, CURLOPT_INFILESIZE_LARGE, curl_off_t(mail.message.count))
        sb_curl_setopt_pointer(easy, CURLOPT_READDATA, Unmanaged.passUnretained(self).toOpaque())
        sb_curl_setopt_callback(easy, CURLOPT_READFUNCTION) { buffer, size, count, context in
            let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
            let length = min(size * count, transfer.upload.count - transfer.uploaded)
            guard length > 0 else { return 0 }
            transfer.upload.withUnsafeBytes { source in
                UnsafeMutableRawPointer(buffer!).copyMemory(from: source.baseAddress! + transfer.uploaded, byteCount: length)
            }
            transfer.uploaded += length
            return length
        }
    }

    /// An IMAP fetch (the URL names the message) or a command run in the URL's mailbox.
    convenience init(_ request: MailboxRequest) throws {
        try self.init(timeout: request.timeout, maxResponseBytes: request.maxResponseBytes, url: request.url, protocols: "imap,imaps")
        configure(tls: request.tls, credentials: request.credentials, caFile: request.caFile)
        if let command = request.command { sb_curl_setopt_string(easy, CURLOPT_CUSTOMREQUEST, command) }
    }

    private func configure(tls: MailTLS, credentials: MailCredentials?, caFile: String?) {
        isMail = true
        if let caFile { sb_curl_setopt_string(easy, CURLOPT_CAINFO, caFile) }
        switch tls {
        case .none: sb_curl_setopt_long(easy, CURLOPT_USE_SSL, Int(CURLUSESSL_NONE.rawValue))
        case .optional: sb_curl_setopt_long(easy, CURLOPT_USE_SSL, Int(CURLUSESSL_TRY.rawValue))
        case .required: sb_curl_setopt_long(easy, CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue))
        }
        if let credentials {
            sb_curl_setopt_string(easy, CURLOPT_USERNAME, credentials.username)
            sb_curl_setopt_string(easy, CURLOPT_PASSWORD, credentials.password)
        }
    }

    deinit {
        curl_easy_cleanup(easy)
        curl_slist_free_all(headerList)
        curl_slist_free_all(recipientList)
        errorBuffer.deallocate()
    }

    func response() -> TransportResponse {
        var headers: [(name: String, value: String)] = []
        for line in headerLines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        return TransportResponse(status: sb_curl_response_code(easy), headers: headers, body: body)
    }

    func error(_ code: CURLcode) -> CurlError {
        if overflowed { return CurlError(code: Int(code.rawValue), message: "response larger than \(maxResponseBytes) bytes") }
        let detail = String(validatingCString: errorBuffer) ?? ""
        var error = CurlError(code: Int(code.rawValue), message: detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail)
        if isMail {
            // The mail server's own words when it refused (its last reply, 4xx or 5xx); a transfer that failed on
            // our side (TLS, a timeout) keeps curl's words alone.
            let code = sb_curl_response_code(easy)
            if code >= 400 {
                error.replyCode = code
                error.serverReply = headerLines.last { Int($0.prefix(3)) == code }?.trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        return error
    }

    func finish(_ result: Result<TransportResponse, any Error>) {
        continuation?.resume(with: result)
        continuation = nil
    }
}
