import Synchronization

/// Wakes those waiting for a sequence (the event log, typing notices) to grow: no polling, one wake-up per step.
public final class EventSignal: Sendable {
    private struct State {
        var latest: Int64
        var nextKey = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let state: Mutex<State>

    public init(latest: Int64) {
        state = Mutex(State(latest: latest))
    }

    /// The newest committed event id.
    public var latest: Int64 {
        state.withLock { $0.latest }
    }

    /// Records that events up to `id` are committed and wakes every waiter.
    public func advance(to id: Int64) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard id > state.latest else { return [] }
            state.latest = id
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once an event newer than `id` is committed, or the task is cancelled.
    public func wait(after id: Int64) async {
        let key = state.withLock { state in
            state.nextKey += 1
            return state.nextKey
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if state.latest > id || Task.isCancelled { return true }
                    state.waiters[key] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: key) }?.resume()
        }
    }
}
