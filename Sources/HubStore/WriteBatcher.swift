import GRDB
import Synchronization

/// Group commit: concurrent writes are queued and run together in one transaction with one fsync.
///
/// Each write runs inside its own savepoint, so one that fails rolls back alone while the others
/// commit. A writer is resumed only after the transaction that holds its write has committed.
final class WriteBatcher: Sendable {
    /// A queued write: `run` does the work inside the transaction and returns what to do after
    /// the commit; `fail` is called instead when the transaction as a whole did not commit.
    private struct Job: Sendable {
        let run: @Sendable (Database) -> @Sendable () -> Void
        let fail: @Sendable (any Error) -> Void
    }

    private struct State {
        var queue: [Job] = []
        var waiter: CheckedContinuation<Void, Never>?
        var stopping = false
    }

    private let pool: DatabasePool
    private let maxBatch: Int
    private let afterCommit: @Sendable (Database) throws -> Void
    private let committed: @Sendable () -> Void
    private let state = Mutex(State())

    /// - Parameters:
    ///   - afterCommit: runs last inside each transaction (reads what the batch wrote).
    ///   - committed: runs after each commit, before the writers are resumed.
    init(pool: DatabasePool, maxBatch: Int = 256, afterCommit: @escaping @Sendable (Database) throws -> Void, committed: @escaping @Sendable () -> Void) {
        self.pool = pool
        self.maxBatch = maxBatch
        self.afterCommit = afterCommit
        self.committed = committed
    }

    /// Runs `body` in the next group transaction and returns its result once that has committed.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job = Job(
                run: { db in
                    do {
                        // Prepared once per connection: statement compilation is the costliest
                        // part of a small write, and every write opens a savepoint.
                        try db.cachedStatement(sql: "SAVEPOINT job").execute()
                        let value: T
                        do {
                            value = try body(db)
                        } catch {
                            try db.cachedStatement(sql: "ROLLBACK TO SAVEPOINT job").execute()
                            try db.cachedStatement(sql: "RELEASE SAVEPOINT job").execute()
                            throw error
                        }
                        try db.cachedStatement(sql: "RELEASE SAVEPOINT job").execute()
                        return { continuation.resume(returning: value) }
                    } catch {
                        return { continuation.resume(throwing: error) }
                    }
                },
                fail: { continuation.resume(throwing: $0) }
            )
            let (accepted, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
                guard !state.stopping else { return (false, nil) }
                state.queue.append(job)
                defer { state.waiter = nil }
                return (true, state.waiter)
            }
            if accepted {
                waiter?.resume()
            } else {
                continuation.resume(throwing: StoreClosedError())
            }
        }
    }

    /// Commits batches until `stop()` is called and the queue is empty.
    func run() async {
        while let batch = await nextBatch() {
            do {
                let completions = try await pool.write { db in
                    let completions = batch.map { $0.run(db) }
                    try self.afterCommit(db)
                    return completions
                }
                committed()
                for complete in completions { complete() }
            } catch {
                for job in batch { job.fail(error) }
            }
        }
    }

    /// Refuses new writes; `run()` returns once those already queued are committed.
    func stop() {
        let waiter = state.withLock { state in
            state.stopping = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    private func nextBatch() async -> [Job]? {
        while true {
            enum Next { case batch([Job]), done, wait }
            let next = state.withLock { state -> Next in
                if !state.queue.isEmpty {
                    let count = min(maxBatch, state.queue.count)
                    let batch = Array(state.queue.prefix(count))
                    state.queue.removeFirst(count)
                    return .batch(batch)
                }
                return state.stopping ? .done : .wait
            }
            switch next {
            case .batch(let batch): return batch
            case .done: return nil
            case .wait:
                await withCheckedContinuation { continuation in
                    let resumeNow = state.withLock { state -> Bool in
                        if !state.queue.isEmpty || state.stopping { return true }
                        state.waiter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            }
        }
    }
}

/// A write arrived after the store began shutting down.
struct StoreClosedError: Error, CustomStringConvertible {
    var description: String { "the store is shutting down" }
}
