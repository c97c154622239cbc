import CCurl
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The hub's one outbound transport: libcurl's multi interface driven by a thread of its own.
///
/// Blocking curl calls never run on Swift's cooperative pool: requests are queued under a lock,
/// the curl thread is woken with `curl_multi_wakeup`, drives every transfer with
/// `curl_multi_poll`, and resumes each caller's continuation when its transfer is done.
/// Connections are reused across requests by the multi handle's connection cache.
public final class CurlTransport: Service, Sendable {
    private struct State {
        var queued: [Transfer] = []
        var cancelled: [ObjectIdentifier] = []
        var stopping = false
    }

    private let state = Mutex(State())
    /// Set once before the thread starts and never changed; curl_multi_wakeup is thread-safe.
    private let multi: MultiHandle
    private let logger: Logger
    private let finished = Mutex<CheckedContinuation<Void, Never>?>(nil)
    private let done = Mutex(false)

    /// `maxConnectionsPerHost` caps the connections to any one host (an SMTP relay, a provider's API);
    /// transfers beyond it wait for a connection to come free.
    public init(maxConnectionsPerHost: Int = 16, logger: Logger = Logger(label: "switchboard.curl")) {
        Self.globalInit
        self.multi = MultiHandle(maxConnectionsPerHost: maxConnectionsPerHost)
        self.logger = logger
        let thread = Thread { [self] in self.loop() }
        thread.name = "switchboard-curl"
        thread.start()
    }

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_ALL)) }()

    /// Performs an HTTP request; throws `CurlError` when the transfer fails (not on 4xx/5xx).
    public func perform(_ request: TransportRequest) async throws -> TransportResponse {
        try await run(Transfer(request))
    }

    /// Hands a message to an SMTP relay; throws `CurlError` (with the server's reply) when it is refused.
    public func send(_ mail: MailSubmission) async throws {
        _ = try await run(Transfer(mail))
    }

    /// Runs an IMAP fetch or command and returns what the server sent: the message, or the command's untagged answers.
    public func mailbox(_ request: MailboxRequest) async throws -> [UInt8] {
        try await run(Transfer(request)).body
    }

    private func run(_ transfer: Transfer) async throws -> TransportResponse {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                transfer.continuation = continuation
                let accepted = state.withLock { state -> Bool in
                    guard !state.stopping else { return false }
                    state.queued.append(transfer)
                    return true
                }
                if accepted {
                    curl_multi_wakeup(multi.handle)
                } else {
                    transfer.finish(.failure(CurlError(code: -1, message: "the transport is shut down")))
                }
            }
        } onCancel: {
            state.withLock { $0.cancelled.append(ObjectIdentifier(transfer)) }
            curl_multi_wakeup(multi.handle)
        }
    }

    /// Runs until graceful shutdown, then fails what is in flight and stops the curl thread.
    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }

    /// Stops the curl thread; transfers still in flight fail.
    public func shutdown() async {
        state.withLock { $0.stopping = true }
        curl_multi_wakeup(multi.handle)
        await withCheckedContinuation { continuation in
            let alreadyDone = done.withLock { done -> Bool in
                if !done { finished.withLock { $0 = continuation } }
                return done
            }
            if alreadyDone { continuation.resume() }
        }
    }

    // MARK: The curl thread

    private func loop() {
        var active: [UnsafeMutableRawPointer: Transfer] = [:]
        while true {
            let (queued, cancelled, stopping) = state.withLock { state in
                defer {
                    state.queued = []
                    state.cancelled = []
                }
                return (state.queued, state.cancelled, state.stopping)
            }
            for transfer in queued {
                curl_multi_add_handle(multi.handle, transfer.easy)
                active[transfer.easy] = transfer
            }
            for id in cancelled {
                if let (easy, transfer) = active.first(where: { ObjectIdentifier($0.value) == id }) {
                    curl_multi_remove_handle(multi.handle, easy)
                    active[easy] = nil
                    transfer.finish(.failure(CancellationError()))
                }
            }
            if stopping {
                for (easy, transfer) in active {
                    curl_multi_remove_handle(multi.handle, easy)
                    transfer.finish(.failure(CurlError(code: -1, message: "the transport shut down")))
                }
                break
            }
            var running: Int32 = 0
            curl_multi_perform(multi.handle, &running)
            var remaining: Int32 = 0
            while let message = curl_multi_info_read(multi.handle, &remaining) {
                guard sb_curl_message_is_done(message) != 0, let easy = message.pointee.easy_handle,
                      let transfer = active.removeValue(forKey: easy) else { continue }
                let result = sb_curl_message_result(message)
                curl_multi_remove_handle(multi.handle, easy)
                if result == CURLE_OK {
                    transfer.finish(Result<TransportResponse, any Error>.success(transfer.response()))
                } else {
                    transfer.finish(Result<TransportResponse, any Error>.failure(transfer.error(result)))
                }
            }
            curl_multi_poll(multi.handle, nil, 0, 1000, nil)
        }
        let continuation = done.withLock { done in
            done = true
            return finished.withLock { $0 }
        }
        continuation?.resume()
    }
}

/// Owns the multi handle for the transport's lifetime.
private final class MultiHandle: Sendable {
    /// Written once in init; every later use is a thread-safe libcurl call or on the curl thread.
    nonisolated(unsafe) let handle: UnsafeMutableRawPointer

    init(maxConnectionsPerHost: Int) {
        handle = curl_multi_init()
        sb_curl_multi_setopt_long(handle, CURLMOPT_MAXCONNECTS, max(64, maxConnectionsPerHost * 4))
        sb_curl_multi_setopt_long(handle, CURLMOPT_MAX_HOST_CONNECTIONS, maxConnectionsPerHost)
    }

    deinit { curl_multi_cleanup(handle) }
}
