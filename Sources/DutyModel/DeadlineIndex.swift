/// Items ordered by the earliest instant the scheduler may owe them something, so a scheduler pass costs
/// O(items due), not O(items): open tickets by their next SLA warning or breach, escalation step or
/// acknowledgement expiry; planned outbox rows by when they are due.
///
/// Derived state: rebuilt on restore, never in a snapshot, kept exact by `DutyState.apply` for every item a
/// command touched. An ordered set in sorted chunks of at most `chunkCapacity` keys: insert and remove cost
/// O(log n + chunkCapacity), a walk in deadline order visits only what it returns.
struct DeadlineIndex<ID: Hashable & Comparable & Sendable>: Sendable {
    struct Key: Comparable, Sendable {
        let at: Timestamp
        let id: ID
        static func < (lhs: Key, rhs: Key) -> Bool { (lhs.at, lhs.id) < (rhs.at, rhs.id) }
    }

    static var chunkCapacity: Int { 256 }
    /// Each chunk sorted and non-empty; every key of a chunk precedes every key of the next.
    private var chunks: [[Key]] = []
    private var deadlineByID: [ID: Timestamp] = [:]

    var count: Int { deadlineByID.count }
    var earliest: Timestamp? { chunks.first?.first?.at }

    func deadline(of id: ID) -> Timestamp? { deadlineByID[id] }

    /// Sets (or with nil, removes) the item's deadline.
    mutating func set(_ id: ID, _ at: Timestamp?) {
        let previous = deadlineByID[id]
        guard previous != at else { return }
        if let previous { remove(Key(at: previous, id: id)) }
        deadlineByID[id] = at
        if let at { insert(Key(at: at, id: id)) }
    }

    mutating func removeAll() {
        chunks = []
        deadlineByID = [:]
    }

    /// Items whose deadline is at or before `instant`, earliest first.
    func due(until instant: Timestamp) -> [ID] {
        var ids: [ID] = []
        forEachDue(until: instant) { ids.append($0); return true }
        return ids
    }

    /// Calls `body` with the items due by `instant`, earliest first, until it returns false.
    func forEachDue(until instant: Timestamp, _ body: (ID) -> Bool) {
        for chunk in chunks {
            for key in chunk {
                guard key.at <= instant, body(key.id) else { return }
            }
        }
    }

    /// The first chunk whose last key is not below `key` (the last chunk when every key is below).
    private func chunkIndex(for key: Key) -> Int {
        var low = 0
        var high = chunks.count - 1
        while low < high {
            let middle = (low + high) / 2
            if chunks[middle].last! < key { low = middle + 1 } else { high = middle }
        }
        return low
    }

    private static func position(of key: Key, in chunk: [Key]) -> Int {
        var low = 0
        var high = chunk.count
        while low < high {
            let middle = (low + high) / 2
            if chunk[middle] < key { low = middle + 1 } else { high = middle }
        }
        return low
    }

    private mutating func insert(_ key: Key) {
        guard !chunks.isEmpty else {
            chunks = [[key]]
            return
        }
        let index = chunkIndex(for: key)
        let position = Self.position(of: key, in: chunks[index])
        chunks[index].insert(key, at: position)
        if chunks[index].count > 2 * Self.chunkCapacity {
            let upper = Array(chunks[index][Self.chunkCapacity...])
            chunks[index].removeSubrange(Self.chunkCapacity...)
            chunks.insert(upper, at: index + 1)
        }
    }

    private mutating func remove(_ key: Key) {
        guard !chunks.isEmpty else { preconditionFailure("deadline index: removing \(key) from an empty index") }
        let index = chunkIndex(for: key)
        let position = Self.position(of: key, in: chunks[index])
        precondition(position < chunks[index].count && chunks[index][position] == key, "deadline index: \(key) is not indexed")
        chunks[index].remove(at: position)
        if chunks[index].isEmpty { chunks.remove(at: index) }
    }

    /// Checks the ordering invariants (tests).
    func isConsistent() -> Bool {
        var previous: Key?
        var total = 0
        for chunk in chunks {
            guard !chunk.isEmpty else { return false }
            for key in chunk {
                if let previous, !(previous < key) { return false }
                guard deadlineByID[key.id] == key.at else { return false }
                previous = key
                total += 1
            }
        }
        return total == deadlineByID.count
    }
}
