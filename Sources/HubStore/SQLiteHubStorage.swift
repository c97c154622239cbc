import Foundation
import GRDB
import HubCore
import Logging
import ServiceLifecycle

/// The embedded store: SQLite in WAL mode with `synchronous = FULL`, written through group commit.
///
/// A write returns only after the transaction that holds it is committed and fsynced, so an
/// acknowledged write survives `kill -9` and power loss. It is a `Service`: on graceful shutdown
/// it commits what is queued and then refuses new writes.
public final class SQLiteHubStorage: HubStorage, Service {
    let pool: DatabasePool
    let batcher: WriteBatcher
    let signal: EventSignal
    /// One watcher per part of the store a service waits on.
    private let watchers: [ChangeWatcher]
    let now: @Sendable () -> Date
    /// Decides the channel and the earliest send time of the messages the center starts.
    let planner: DeliveryPlanner
    private let logger: Logger
    private let drain: Task<Void, Never>

    /// Opens (creating if needed) and migrates the database at `path`.
    public init(
        path: String, logger: Logger = Logger(label: "switchboard.store"), planner: DeliveryPlanner = DeliveryPlanner(),
        now: @escaping @Sendable () -> Date = Date.init
    ) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            // WAL + FULL: a committed transaction is on disk before the commit returns.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        configuration.busyMode = .timeout(10)
        let pool = try DatabasePool(path: path, configuration: configuration)
        // GRDB turns WAL on for the pool and sets the writer to `synchronous = NORMAL` after `prepareDatabase`
        // ran, which loses the last commits at power loss: the writer is set back to FULL here.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        try Schema.migrator.migrate(pool)
        let latest = try pool.read { db in try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) FROM event") ?? 0 }
        let signal = EventSignal(latest: latest)
        let latestCommitted = LatestEventBox()
        let batcher = WriteBatcher(
            pool: pool,
            afterCommit: { db in latestCommitted.value = try Int64.fetchOne(db.cachedStatement(sql: "SELECT COALESCE(MAX(id), 0) FROM event")) ?? 0 },
            committed: { signal.advance(to: latestCommitted.value) }
        )
        let watchers = WatchedPart.allCases.map(ChangeWatcher.init)
        for watcher in watchers { pool.add(transactionObserver: watcher, extent: .databaseLifetime) }
        self.watchers = watchers
        self.pool = pool
        self.batcher = batcher
        self.signal = signal
        self.now = now
        self.planner = planner
        self.logger = logger
        // Detached: the commit loop must not inherit the caller's actor (the CLI runs on the main actor).
        self.drain = Task.detached { await batcher.run() }
    }

    /// Waits for graceful shutdown, then commits what is queued and stops.
    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }

    /// Commits every queued write, then refuses new ones.
    public func close() async {
        batcher.stop()
        await drain.value
    }

    /// Runs `body` in the next group-commit transaction.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await batcher.write(body)
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await pool.read(body)
    }

    public func waitForEvent(after id: Int64) async {
        await signal.wait(after: id)
    }

    public func latestChange(of part: WatchedPart) -> Int64 {
        watcher(part).signal.latest
    }

    public func waitForChange(of part: WatchedPart, after version: Int64) async {
        await watcher(part).signal.wait(after: version)
    }

    private func watcher(_ part: WatchedPart) -> ChangeWatcher {
        watchers.first { $0.part == part }!
    }
}

/// The newest event id, handed from inside a transaction (the writer queue) to after its commit
/// (the same task, which awaited the write): the two never run at once, so no lock is needed.
final class LatestEventBox: @unchecked Sendable {
    var value: Int64 = 0
}

extension JSONEncoder {
    /// The encoder of the API and the event log: ISO 8601 dates, stable key order.
    static func hub() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

extension JSONDecoder {
    /// The decoder matching `JSONEncoder.hub()`.
    static func hub() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
