/// The in-memory log: a snapshot followed by contiguous entries, with the boundary of what storage already holds.
struct RaftLog {
    private(set) var snapshot: Snapshot
    private(set) var entries: [Entry]
    private(set) var commitIndex: LogIndex
    /// The first index not yet handed to storage; entries before it are durable (or being made durable).
    private(set) var unstableFrom: LogIndex
    /// A snapshot received from the leader that storage has not been given yet.
    private(set) var pendingSnapshot: Snapshot?
    /// Bytes of entry data held in `entries`: what compaction frees.
    private(set) var entryBytes = 0

    init(persisted: PersistedState) {
        snapshot = persisted.snapshot
        entries = persisted.entries
        commitIndex = max(persisted.hardState.commit, persisted.snapshot.index)
        unstableFrom = persisted.snapshot.index + LogIndex(persisted.entries.count) + 1
        pendingSnapshot = nil
        entryBytes = Self.bytes(of: entries[...])
        for (offset, entry) in entries.enumerated() {
            precondition(entry.index == snapshot.index + 1 + LogIndex(offset), "stored entries are not contiguous after the snapshot")
            precondition(entry.term >= (offset == 0 ? snapshot.term : entries[offset - 1].term), "stored entry terms decrease")
        }
        precondition(commitIndex <= lastIndex, "stored commit index \(commitIndex) is beyond the stored log (\(lastIndex))")
    }

    @inline(__always) var firstIndex: LogIndex { snapshot.index + 1 }
    @inline(__always) var lastIndex: LogIndex { snapshot.index + LogIndex(entries.count) }
    var lastTerm: Term { entries.last?.term ?? snapshot.term }

    /// The term of the entry at `index`, or nil when it is compacted away or not yet written.
    func term(at index: LogIndex) -> Term? {
        if index == snapshot.index { return snapshot.term }
        guard index > snapshot.index, index <= lastIndex else { return nil }
        return entries[Int(index - snapshot.index - 1)].term
    }

    func entry(at index: LogIndex) -> Entry? {
        guard index > snapshot.index, index <= lastIndex else { return nil }
        return entries[Int(index - snapshot.index - 1)]
    }

    func matchTerm(_ index: LogIndex, _ term: Term) -> Bool {
        self.term(at: index) == term
    }

    /// §5.4.1: a candidate's log is at least as up to date as ours.
    func isUpToDate(lastIndex candidateIndex: LogIndex, lastTerm candidateTerm: Term) -> Bool {
        candidateTerm > lastTerm || (candidateTerm == lastTerm && candidateIndex >= lastIndex)
    }

    /// Entries in [from, through], stopping once `maxBytes` is exceeded (always at least one entry).
    func slice(from: LogIndex, through: LogIndex, maxBytes: Int) -> [Entry] {
        guard from <= through, from > snapshot.index, through <= lastIndex else { return [] }
        var result: [Entry] = []
        var bytes = 0
        var index = from
        while index <= through {
            let entry = entries[Int(index - snapshot.index - 1)]
            bytes += entry.sizeBytes
            if !result.isEmpty && bytes > maxBytes { break }
            result.append(entry)
            index += 1
        }
        return result
    }

    /// The last index at or below `index` whose term is at most `term`: both sides of the conflict hint (§5.3),
    /// so a leader skips a whole diverging term per round trip instead of one entry.
    func lastIndex(ofTermAtMost term: Term, atOrBelow index: LogIndex) -> LogIndex? {
        var candidate = min(index, lastIndex)
        while candidate >= snapshot.index {
            guard let found = self.term(at: candidate) else { return nil }
            if found <= term { return candidate }
            if candidate == 0 { return nil }
            candidate -= 1
        }
        return nil
    }

    mutating func append(_ newEntries: [Entry]) {
        guard let first = newEntries.first else { return }
        precondition(first.index == lastIndex + 1, "append must continue the log")
        entries.append(contentsOf: newEntries)
        entryBytes += Self.bytes(of: newEntries[...])
    }

    private static func bytes(of entries: ArraySlice<Entry>) -> Int { entries.reduce(0) { $0 + $1.data.count } }

    /// Follower side of AppendEntries: drops our entries that conflict with `newEntries`, appends the rest.
    /// Returns the index of the last entry now known to match the leader.
    mutating func merge(after prevIndex: LogIndex, _ newEntries: [Entry]) -> LogIndex {
        var conflictOffset: Int? = nil
        for (offset, entry) in newEntries.enumerated() where !matchTerm(entry.index, entry.term) {
            conflictOffset = offset
            break
        }
        if let offset = conflictOffset {
            let conflictIndex = newEntries[offset].index
            // A committed entry can never be replaced; if it is, the log is corrupt and continuing would spread it.
            precondition(conflictIndex > commitIndex, "conflict at committed index \(conflictIndex) (commit \(commitIndex))")
            if conflictIndex <= lastIndex {
                let dropped = Int(lastIndex - conflictIndex + 1)
                entryBytes -= Self.bytes(of: entries.suffix(dropped))
                entries.removeLast(dropped)
            }
            entries.append(contentsOf: newEntries[offset...])
            entryBytes += Self.bytes(of: newEntries[offset...])
            unstableFrom = min(unstableFrom, conflictIndex)
        }
        return prevIndex + LogIndex(newEntries.count)
    }

    mutating func commit(to index: LogIndex) {
        precondition(index <= lastIndex, "commit \(index) beyond last index \(lastIndex)")
        if index > commitIndex { commitIndex = index }
    }

    /// Replaces the whole log with a snapshot from the leader (§7).
    mutating func restore(_ newSnapshot: Snapshot) {
        precondition(newSnapshot.index > commitIndex, "restoring a snapshot behind the commit index")
        snapshot = newSnapshot
        entries = []
        entryBytes = 0
        commitIndex = newSnapshot.index
        unstableFrom = newSnapshot.index + 1
        pendingSnapshot = newSnapshot
    }

    /// What storage must write next: a snapshot and/or entries (it truncates from the first entry's index).
    func unstable() -> (snapshot: Snapshot?, entries: [Entry]) {
        let from = max(unstableFrom, firstIndex)
        let pending = from <= lastIndex ? Array(entries[Int(from - snapshot.index - 1)...]) : []
        return (pendingSnapshot, pending)
    }

    /// Storage now holds everything up to `index` (and the pending snapshot, if it was handed over).
    mutating func stabilized(through index: LogIndex, snapshotIndex: LogIndex?) {
        if let snapshotIndex, pendingSnapshot?.index == snapshotIndex { pendingSnapshot = nil }
        // Entries may have been replaced since they were handed over; only advance over what is still there.
        if index >= unstableFrom, index <= lastIndex { unstableFrom = index + 1 }
    }

    /// The application took a snapshot at `index`: drop entries up to it from memory.
    mutating func compact(to newSnapshot: Snapshot) {
        precondition(newSnapshot.index > snapshot.index && newSnapshot.index <= commitIndex, "compaction index out of range")
        precondition(newSnapshot.index < unstableFrom, "compacting entries storage does not hold yet")
        precondition(term(at: newSnapshot.index) == newSnapshot.term, "snapshot term does not match the log")
        let dropped = Int(newSnapshot.index - snapshot.index)
        entryBytes -= Self.bytes(of: entries.prefix(dropped))
        entries.removeFirst(dropped)
        snapshot = newSnapshot
    }

    /// Size of the log held in memory, for flow control and metrics.
    var entryCount: Int { entries.count }

    @inline(__always) var hasUnstable: Bool { pendingSnapshot != nil || max(unstableFrom, firstIndex) <= lastIndex }

    /// The last index known to be on disk and part of the current log (a leader's own vote in commits).
    /// While a received snapshot is not yet stored, nothing of the new log is durable.
    var lastStableIndex: LogIndex {
        pendingSnapshot != nil ? 0 : min(unstableFrom - 1, lastIndex)
    }
}
