/// Open tickets ordered by the earliest instant the scheduler may owe them something (an SLA warning or breach,
/// an escalation step, an acknowledgement expiry), so a scheduler pass costs O(tickets due), not O(open tickets).
///
/// Derived state: rebuilt on restore, never in a snapshot, kept exact by `DutyState.apply` for every item a
/// command touched. Setting a deadline costs O(log n + `SortedChunks.chunkCapacity`).
struct DeadlineIndex<ID: Hashable & Comparable & Sendable>: Sendable {
    struct Key: Comparable, Sendable {
        let at: Timestamp
        let id: ID
        static func < (lhs: Key, rhs: Key) -> Bool { (lhs.at, lhs.id) < (rhs.at, rhs.id) }
    }

    /// Every (deadline, item), in order.
    private var keys = SortedChunks<Key>()
    private var deadlineByID: [ID: Timestamp] = [:]

    var count: Int { deadlineByID.count }
    var earliest: Timestamp? { keys.first?.at }

    func deadline(of id: ID) -> Timestamp? { deadlineByID[id] }

    /// Sets (or with nil, removes) the item's deadline.
    mutating func set(_ id: ID, _ at: Timestamp?) {
        let previous = deadlineByID[id]
        guard previous != at else { return }
        if let previous { keys.remove(Key(at: previous, id: id)) }
        deadlineByID[id] = at
        if let at { keys.insert(Key(at: at, id: id)) }
    }

    /// Items whose deadline is at or before `instant`, earliest first.
    func due(until instant: Timestamp) -> [ID] {
        var ids: [ID] = []
        forEachDue(until: instant) { ids.append($0); return true }
        return ids
    }

    /// Calls `body` with the items due by `instant`, earliest first, until it returns false.
    func forEachDue(until instant: Timestamp, _ body: (ID) -> Bool) {
        keys.forEach { key in key.at <= instant && body(key.id) }
    }

    /// Checks the ordering invariants (tests).
    func isConsistent() -> Bool {
        guard keys.isConsistent(), keys.count == deadlineByID.count else { return false }
        var exact = true
        keys.forEach { key in
            exact = deadlineByID[key.id] == key.at
            return exact
        }
        return exact
    }
}
