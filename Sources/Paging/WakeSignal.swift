import Synchronization

/// Wakes a sleeping task early (the scheduler when the applied state changed, the Raft ticker when its plan
/// moved); otherwise it sleeps until its deadline.
///
/// Signals that arrive while nobody waits are remembered (one is enough), so a change is never missed.
///
/// One timer serves every wait: a wait whose deadline is at or after the armed timer's reuses it (the timer
/// sleeps again until the later deadline when it fires), and only a wait that needs an earlier wake-up arms a
/// new one. So a waiter woken by a signal for every applied batch arms no timer and cancels none.
public final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
        /// The deadline of the current wait (parked or about to park).
        var deadline: ContinuousClock.Instant?
        /// When the live timer next fires, and its number: a timer that finds a newer number exits.
        var timerAt: ContinuousClock.Instant?
        var timerNumber: UInt64 = 0
        /// Timers armed since the signal was made (tests and profiles read it).
        var timersArmed = 0
    }
    private let state = Mutex(State())

    public init() {}

    /// How many timers waits have armed so far.
    public var timersArmed: Int { state.withLock { $0.timersArmed } }

    /// Callable from any thread (the Raft loop calls it after applying entries).
    public func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            state.deadline = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns at the next signal or after `duration`, whichever comes first.
    public func wait(atMost duration: Duration) async {
        await wait(until: .now + duration)
    }

    /// Returns at the next signal or at `deadline`, whichever comes first.
    public func wait(until deadline: ContinuousClock.Instant) async {
        let arm = state.withLock { state -> (number: UInt64, at: ContinuousClock.Instant)?? in
            if state.pending {
                state.pending = false
                return .none
            }
            state.deadline = deadline
            if let armed = state.timerAt, armed <= deadline { return .some(nil) }
            state.timerNumber &+= 1
            state.timerAt = deadline
            state.timersArmed += 1
            return (state.timerNumber, deadline)
        }
        guard let arm else { return }
        if let (number, at) = arm {
            Task { await self.runTimer(number, firstAt: at) }
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state -> Bool in
                // A signal, or the timer, may have come between the check above and parking here.
                if state.pending || ContinuousClock.now >= deadline {
                    state.pending = false
                    state.deadline = nil
                    return true
                }
                state.waiter = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Fires at `firstAt`, ends the wait whose deadline has come, and sleeps again while a later wait needs it.
    private func runTimer(_ number: UInt64, firstAt: ContinuousClock.Instant) async {
        var at = firstAt
        while true {
            // An explicit tolerance: without one the runtime uses `dispatch_after`, whose leeway is a tenth of the
            // wait, and a step due in 2 s was paged 38 ms late at the median (70 ms at p99).
            try? await Task.sleep(until: at, tolerance: .milliseconds(1), clock: .continuous)
            let (waiter, next) = state.withLock { state -> (CheckedContinuation<Void, Never>?, ContinuousClock.Instant?) in
                guard state.timerNumber == number else { return (nil, nil) }
                let now = ContinuousClock.now
                var waiter: CheckedContinuation<Void, Never>?
                if let deadline = state.deadline, deadline <= now, let parked = state.waiter {
                    waiter = parked
                    state.waiter = nil
                    state.deadline = nil
                }
                if let deadline = state.deadline, deadline > now {
                    state.timerAt = deadline
                    return (waiter, deadline)
                }
                // A wait not yet parked whose deadline has passed returns by itself when it parks.
                state.timerAt = nil
                return (waiter, nil)
            }
            waiter?.resume()
            guard let next else { return }
            at = next
        }
    }
}
