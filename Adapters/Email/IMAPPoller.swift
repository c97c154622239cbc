import CurlTransport
import Foundation
import HubCore
import Logging
import ServiceLifecycle

/// Polls an IMAP mailbox over `CurlTransport`: UIDs above the last one stored are fetched one by one,
/// each taken by `EmailIntake`, then flagged `\Seen`, then recorded as done. A crash between the
/// steps fetches the message again, and the intake recognises it by its Message-ID: nothing is
/// imported twice, nothing is flagged before it is stored.
public struct IMAPPoller: Service {
    let mailbox: IMAPMailbox
    let intake: EmailIntake
    let storage: any HubStorage
    let transport: CurlTransport
    let logger: Logger
    /// At most this many messages per poll, so a full mailbox drains in steps.
    static var batchSize: Int { 100 }

    public init(mailbox: IMAPMailbox, intake: EmailIntake, storage: any HubStorage, transport: CurlTransport, logger: Logger) {
        self.mailbox = mailbox
        self.intake = intake
        self.storage = storage
        self.transport = transport
        self.logger = logger
    }

    public func run() async throws {
        do {
            // Stopping mid-poll is safe: whatever was not yet recorded is fetched again next time.
            try await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    var imported = 0
                    do {
                        imported = try await pollOnce()
                    } catch is CancellationError {
                        throw CancellationError()
                    } catch {
                        logger.warning("IMAP poll failed", metadata: ["sb.mailbox": "\(mailbox.url)", "sb.error": "\(error)"])
                    }
                    // A full batch means more are waiting: go on at once.
                    if imported < Self.batchSize { try await Task.sleep(for: mailbox.pollInterval) }
                }
            }
        } catch is CancellationError {
        }
    }

    /// Imports what is new; returns how many messages it took.
    @discardableResult
    public func pollOnce() async throws -> Int {
        let key = "imap:\(mailbox.credentials?.username ?? "")@\(mailbox.url)"
        let validity = try await uidValidity()
        var last: UInt64 = 0
        if let cursor = try await storage.pollCursor(key) {
            let parts = cursor.split(separator: ":")
            // A new UIDVALIDITY renumbers the mailbox: start over (Message-IDs keep it from importing twice).
            if parts.count == 2, parts[0] == Substring(validity), let uid = UInt64(parts[1]) { last = uid }
        }
        let uids = try await search(after: last)
        for uid in uids.prefix(Self.batchSize) {
            let raw: [UInt8]
            do {
                raw = try await transport.mailbox(request(url: "\(mailbox.url)/;UID=\(uid)", maxResponseBytes: intake.configuration.maxMessageBytes))
            } catch let error as CurlError where error.code == 23 {
                // The write callback refused more bytes: the message is over the size cap.
                raw = []
                _ = try await storage.quarantine(channel: .email, reason: "IMAP UID \(uid): larger than \(intake.configuration.maxMessageBytes) bytes", raw: raw)
            }
            if !raw.isEmpty {
                let result = try await intake.take(raw)
                logger.info("mail taken", metadata: ["sb.uid": "\(uid)", "sb.outcome": "\(result.outcome.rawValue)"])
            }
            _ = try await transport.mailbox(request(url: mailbox.url, command: "UID STORE \(uid) +FLAGS (\\Seen)"))
            try await storage.setPollCursor(key, "\(validity):\(uid)")
        }
        return min(uids.count, Self.batchSize)
    }

    /// The mailbox's UIDVALIDITY, from a STATUS command on the server.
    private func uidValidity() async throws -> String {
        guard let slash = mailbox.url.range(of: "/", options: [], range: mailbox.url.range(of: "://")!.upperBound..<mailbox.url.endIndex) else {
            throw CurlError(code: -1, message: "the IMAP URL names no mailbox: \(mailbox.url)")
        }
        let server = String(mailbox.url[..<slash.upperBound])
        let name = String(mailbox.url[slash.upperBound...]).removingPercentEncoding ?? String(mailbox.url[slash.upperBound...])
        let answer = try await transport.mailbox(request(url: server, command: "STATUS \"\(name)\" (UIDVALIDITY)"))
        let text = String(decoding: answer, as: UTF8.self)
        guard let range = text.range(of: "UIDVALIDITY ") else { throw CurlError(code: -1, message: "no UIDVALIDITY in the STATUS answer") }
        return String(text[range.upperBound...].prefix { $0.isNumber })
    }

    /// The UIDs above `last`, ascending. (`n:*` always matches the highest UID, even below n.)
    private func search(after last: UInt64) async throws -> [UInt64] {
        let answer = try await transport.mailbox(request(url: mailbox.url, command: "UID SEARCH UID \(last + 1):*"))
        var uids: [UInt64] = []
        for line in String(decoding: answer, as: UTF8.self).split(whereSeparator: \.isNewline) where line.hasPrefix("* SEARCH") {
            uids += line.dropFirst("* SEARCH".count).split(separator: " ").compactMap { UInt64($0) }
        }
        return uids.filter { $0 > last }.sorted()
    }

    private func request(url: String, command: String? = nil, maxResponseBytes: Int = 1024 * 1024) -> MailboxRequest {
        MailboxRequest(url: url, tls: mailbox.tls, credentials: mailbox.credentials, caFile: mailbox.caFile, command: command,
                       maxResponseBytes: maxResponseBytes)
    }
}
