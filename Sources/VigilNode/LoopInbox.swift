import Synchronization

/// The Raft loop's mailbox: producers push from any thread, the loop takes everything pending at once.
///
/// Taking all pending events in one go is what batches proposals: whatever arrived while the loop was
/// waiting for an fsync is proposed as one batch, so one fsync covers many client writes.
final class LoopInbox: Sendable {
    private struct State {
        var events: [LoopEvent] = []
        /// Events queued with a bound (peer messages) since the loop last took them.
        var boundedCount = 0
        var waiter: CheckedContinuation<Void, Never>?
        var closed = false
    }

    private let state = Mutex(State())

    /// Queues `event`; false when the loop has stopped (the caller answers the request itself).
    @discardableResult
    func push(_ event: LoopEvent) -> Bool {
        enqueue(event, boundedBy: nil)
    }

    /// Queues a peer's message unless `limit` of them wait already: a loop that falls behind drops the newest, which
    /// Raft tolerates like any network loss, instead of queueing without bound.
    func push(_ event: LoopEvent, boundedBy limit: Int) -> Bool {
        enqueue(event, boundedBy: limit)
    }

    private func enqueue(_ event: LoopEvent, boundedBy limit: Int?) -> Bool {
        let (accepted, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            guard !state.closed else { return (false, nil) }
            if let limit {
                guard state.boundedCount < limit else { return (false, nil) }
                state.boundedCount += 1
            }
            state.events.append(event)
            let waiter = state.waiter
            state.waiter = nil
            return (true, waiter)
        }
        waiter?.resume()
        return accepted
    }

    /// Everything queued, waiting until there is at least one event.
    func take() async -> [LoopEvent] {
        while true {
            let taken = state.withLock { state -> [LoopEvent]? in
                guard !state.events.isEmpty else { return nil }
                defer {
                    state.events.removeAll(keepingCapacity: true)
                    state.boundedCount = 0
                }
                return state.events
            }
            if let taken { return taken }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    if !state.events.isEmpty || state.closed { return true }
                    state.waiter = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        }
    }

    /// Refuses further events and returns those still queued, so their waiters can be answered.
    func close() -> [LoopEvent] {
        let (rest, waiter) = state.withLock { state -> ([LoopEvent], CheckedContinuation<Void, Never>?) in
            state.closed = true
            defer { state.events.removeAll() ; state.waiter = nil }
            return (state.events, state.waiter)
        }
        waiter?.resume()
        return rest
    }
}
