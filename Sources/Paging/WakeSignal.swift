import Synchronization

/// Wakes a sleeping task early (the scheduler when the applied state changed, the Raft ticker when its plan
/// moved); otherwise it sleeps until its deadline.
///
/// Signals that arrive while nobody waits are remembered (one is enough), so a change is never missed. A wait's
/// own timeout wakes only that wait: a late timer must not end a later wait early, or every wait would cut the
/// next one short and the waiter would spin.
public final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
        /// Counts waits, so a timer knows whether the wait it belongs to is still the current one.
        var generation: UInt64 = 0
    }
    private let state = Mutex(State())

    public init() {}

    /// Callable from any thread (the Raft loop calls it after applying entries).
    public func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.pending = true
            return nil
        }
        waiter?.resume()
    }

    /// Returns at the next signal or after `duration`, whichever comes first.
    public func wait(atMost duration: Duration) async {
        let generation = state.withLock { state -> UInt64? in
            if state.pending {
                state.pending = false
                return nil
            }
            state.generation &+= 1
            return state.generation
        }
        guard let generation else { return }
        let timer = Task { [weak self] in
            do { try await Task.sleep(for: duration) } catch { return }
            self?.timeOut(generation)
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state -> Bool in
                if state.pending || state.generation != generation {
                    state.pending = false
                    return true
                }
                state.waiter = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
        timer.cancel()
    }

    private func timeOut(_ generation: UInt64) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.generation == generation, let waiter = state.waiter else {
                // Fired before its wait parked: the wait sees the moved generation and returns at once.
                if state.generation == generation { state.generation &+= 1 }
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }
}
