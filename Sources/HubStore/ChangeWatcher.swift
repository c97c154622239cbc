import GRDB
import HubCore

/// Advances a signal after each commit that changed a watched part of the store, so the service
/// acting on that part wakes for it alone. GRDB calls it on the writer's queue, after the commit is
/// visible to readers; statements that touch nothing watched are told apart when they are prepared.
final class ChangeWatcher: TransactionObserver, @unchecked Sendable {
    let part: WatchedPart
    let signal = EventSignal(latest: 0)
    /// Both touched on the writer's queue only.
    private var changed = false
    private var commits: Int64 = 0

    init(_ part: WatchedPart) {
        self.part = part
    }

    func observes(eventsOfKind kind: DatabaseEventKind) -> Bool {
        switch (part, kind) {
        case (.outbox, _):
            kind.tableName == "outbox"
        case (.snoozes, .update(let table, let columns)):
            // A new conversation is never snoozed, and a deleted one leaves the timer nothing to do.
            table == "conversation" && columns.contains("snoozed_until")
        case (.snoozes, _):
            false
        }
    }

    func databaseDidChange() {
        changed = true
    }

    func databaseDidChange(with event: DatabaseEvent) {
        changed = true
        stopObservingDatabaseChangesUntilNextTransaction()
    }

    func databaseDidCommit(_ db: Database) {
        guard changed else { return }
        changed = false
        commits += 1
        signal.advance(to: commits)
    }

    func databaseDidRollback(_ db: Database) {
        changed = false
    }
}
