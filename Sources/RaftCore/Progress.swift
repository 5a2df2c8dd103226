/// The leader's view of one follower's replication (etcd's `tracker.Progress`).
struct Progress {
    enum State: Equatable {
        /// Unsure where the follower's log matches: one append at a time.
        case probe
        /// Matching: pipeline appends up to the in-flight limit.
        case replicate
        /// Sent a snapshot at this index; wait for the follower to install it.
        case snapshot(pendingIndex: LogIndex)
    }

    var match: LogIndex = 0
    var next: LogIndex
    var state: State = .probe
    /// In probe state, set after an append until a response or heartbeat response arrives.
    var probeSent = false
    var inflight: Inflights
    /// Heard from since the last check-quorum round.
    var recentActive = false
    var isLearner: Bool
    /// Ticks spent waiting in snapshot state; a lost snapshot is resent after a timeout.
    var snapshotWaitTicks = 0

    init(next: LogIndex, isLearner: Bool, maxInflight: Int) {
        self.next = next
        self.isLearner = isLearner
        self.inflight = Inflights(capacity: maxInflight)
    }

    var isPaused: Bool {
        switch state {
        case .probe: return probeSent
        case .replicate: return inflight.isFull
        case .snapshot: return true
        }
    }

    mutating func becomeProbe() {
        // After a snapshot, continue right after it; otherwise restart just after the last known match.
        if case .snapshot(let pendingIndex) = state {
            next = max(match + 1, pendingIndex + 1)
        } else {
            next = match + 1
        }
        state = .probe
        probeSent = false
        inflight.reset()
    }

    mutating func becomeReplicate() {
        state = .replicate
        next = match + 1
        probeSent = false
        inflight.reset()
    }

    mutating func becomeSnapshot(_ index: LogIndex) {
        state = .snapshot(pendingIndex: index)
        probeSent = false
        snapshotWaitTicks = 0
        inflight.reset()
    }

    /// Records a successful acknowledgement; returns false when it tells us nothing new.
    mutating func maybeUpdate(_ index: LogIndex) -> Bool {
        var updated = false
        if index > match {
            match = index
            updated = true
            probeSent = false
        }
        next = max(next, index + 1)
        return updated
    }

    /// Handles a rejection of the append whose previous index was `rejected`; `probeHint` is the index the
    /// leader believes may match. Returns false for a stale rejection.
    mutating func maybeDecrease(rejected: LogIndex, probeHint: LogIndex) -> Bool {
        if state == .replicate {
            // Appends are pipelined, so rejections of older appends arrive late: only one above match is news.
            guard rejected > match else { return false }
            next = match + 1
            return true
        }
        guard next > 0, next - 1 == rejected else { return false }
        next = max(min(rejected, probeHint + 1), match + 1)
        probeSent = false
        return true
    }
}

/// A bounded window of appends in flight to one follower, by count and bytes (flow control).
struct Inflights {
    private var lastIndexes: [LogIndex] = []
    private var head = 0
    let capacity: Int

    init(capacity: Int) {
        precondition(capacity >= 1)
        self.capacity = capacity
    }

    var count: Int { lastIndexes.count - head }
    var isFull: Bool { count >= capacity }

    mutating func add(_ lastIndex: LogIndex) {
        precondition(!isFull, "in-flight window overflow")
        precondition(count == 0 || lastIndexes[lastIndexes.count - 1] < lastIndex, "in-flight appends out of order")
        lastIndexes.append(lastIndex)
    }

    /// Frees every append acknowledged by a match at `index`.
    mutating func free(through index: LogIndex) {
        while head < lastIndexes.count, lastIndexes[head] <= index { head += 1 }
        if head > 64 && head * 2 > lastIndexes.count {
            lastIndexes.removeFirst(head)
            head = 0
        }
    }

    mutating func freeFirst() {
        if head < lastIndexes.count { head += 1 }
    }

    mutating func reset() {
        lastIndexes.removeAll(keepingCapacity: true)
        head = 0
    }
}
