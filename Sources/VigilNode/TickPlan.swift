import Paging
import Synchronization

/// When the Raft loop next needs a tick: set by the loop after every round, read by its ticker task.
final class TickPlan: Sendable {
    private let instant = Mutex(ContinuousClock.now)
    /// Signalled when the plan moves earlier than the ticker's sleep, or replaces one that fell due (the
    /// ticker has nudged the loop and waits for the next).
    let moved = WakeSignal()

    var wakeAt: ContinuousClock.Instant { instant.withLock { $0 } }

    func plan(_ wakeAt: ContinuousClock.Instant) {
        let wake = instant.withLock { planned in
            defer { planned = wakeAt }
            return wakeAt < planned || (planned <= .now && wakeAt != planned)
        }
        if wake { moved.signal() }
    }
}
