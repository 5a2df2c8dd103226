import RaftCore

/// A write that would break a Raft log invariant; the store turns it into `StorageError.invariant`.
struct LogRuleViolation: Error, Equatable {
    var message: String
    init(_ message: String) { self.message = message }
}

/// The Raft invariants every write must keep, checked before any SQL runs so nothing is half-written.
///
/// Each rule is one the consensus core must never break; a violation means a core bug, and storing it
/// would turn that bug into a safety violation that outlives a restart.
enum LogWriteRules {
    /// SQLite integers are signed 64-bit; larger terms or indices would wrap and break ordering.
    static let largestStorable = UInt64(Int64.max)

    /// Checks a `persist` call against the stored shape and returns the shape the log will have after it.
    /// `storedTerm` looks up the term of a stored entry (nil when absent).
    static func checkPersist(
        hardState: HardState?, entries: [Entry], snapshot: Snapshot?, current: LogShape,
        storedTerm: (LogIndex) throws -> Term?
    ) throws -> LogShape {
        var next = current
        if let snapshot {
            try checkFields(of: snapshot)
            guard snapshot.index >= current.snapshotIndex else {
                throw LogRuleViolation("snapshot at index \(snapshot.index) is older than the stored snapshot at \(current.snapshotIndex)")
            }
            // The state machine has applied up to the commit index; a snapshot below it would roll that back.
            guard snapshot.index >= current.hardState.commit else {
                throw LogRuleViolation("snapshot at index \(snapshot.index) is below the commit index \(current.hardState.commit) and would discard committed entries")
            }
            next.snapshotIndex = snapshot.index
            next.snapshotTerm = snapshot.term
            next.lastIndex = snapshot.index
            next.lastTerm = snapshot.term
        }
        if let first = entries.first, let last = entries.last {
            try checkBatchShape(entries)
            guard first.index > next.snapshotIndex else {
                throw LogRuleViolation("entry \(first.index) is at or below the snapshot index \(next.snapshotIndex)")
            }
            guard first.index <= next.lastIndex + 1 else {
                throw LogRuleViolation("entries start at \(first.index) but the log ends at \(next.lastIndex), leaving a gap")
            }
            let previousIndex = first.index - 1
            let previousTerm = previousIndex == next.snapshotIndex ? next.snapshotTerm : try storedTerm(previousIndex)
            guard let previousTerm else {
                throw LogRuleViolation("entry \(previousIndex) before the new entries is missing from the stored log")
            }
            guard first.term >= previousTerm else {
                throw LogRuleViolation("entry \(first.index) has term \(first.term), below term \(previousTerm) of entry \(previousIndex)")
            }
            if snapshot == nil {
                try checkNoCommittedEntryChanges(entries, current: current, storedTerm: storedTerm)
            }
            next.lastIndex = last.index
            next.lastTerm = last.term
        }
        if let hardState {
            try checkTransition(from: current.hardState, to: hardState)
            next.hardState = hardState
        }
        try checkHardStateFits(next)
        return next
    }

    /// Checks compaction to `snapshot` (taken by the application at an applied index) and returns the shape after it.
    static func checkCompaction(to snapshot: Snapshot, current: LogShape, storedTerm: (LogIndex) throws -> Term?) throws -> LogShape {
        try checkFields(of: snapshot)
        guard snapshot.index >= current.snapshotIndex else {
            throw LogRuleViolation("compaction to index \(snapshot.index) is behind the stored snapshot at \(current.snapshotIndex)")
        }
        // Only applied entries may be compacted, and applied never passes commit.
        guard snapshot.index <= current.hardState.commit else {
            throw LogRuleViolation("compaction to index \(snapshot.index) is beyond the commit index \(current.hardState.commit)")
        }
        let termAtIndex = snapshot.index == current.snapshotIndex ? current.snapshotTerm : try storedTerm(snapshot.index)
        guard termAtIndex == snapshot.term else {
            let found = termAtIndex.map { "term \($0)" } ?? "no entry"
            throw LogRuleViolation("snapshot at index \(snapshot.index) claims term \(snapshot.term) but the log has \(found) there")
        }
        var next = current
        next.snapshotIndex = snapshot.index
        next.snapshotTerm = snapshot.term
        if next.lastIndex == snapshot.index { next.lastTerm = snapshot.term }
        return next
    }

    private static func checkFields(of snapshot: Snapshot) throws {
        guard snapshot.index > 0, snapshot.term > 0 else {
            throw LogRuleViolation("snapshot index and term must be positive, got index \(snapshot.index) term \(snapshot.term)")
        }
        guard snapshot.index <= largestStorable, snapshot.term <= largestStorable else {
            throw LogRuleViolation("snapshot index \(snapshot.index) or term \(snapshot.term) exceeds \(largestStorable)")
        }
    }

    private static func checkBatchShape(_ entries: [Entry]) throws {
        var previous: Entry?
        for entry in entries {
            guard entry.term > 0, entry.term <= largestStorable, entry.index <= largestStorable else {
                throw LogRuleViolation("entry \(entry.index) has term \(entry.term); terms must be positive and indices and terms at most \(largestStorable)")
            }
            if let previous {
                guard entry.index == previous.index + 1 else {
                    throw LogRuleViolation("entries are not contiguous: \(entry.index) follows \(previous.index)")
                }
                guard entry.term >= previous.term else {
                    throw LogRuleViolation("entry \(entry.index) has term \(entry.term), below term \(previous.term) of entry \(previous.index)")
                }
            }
            previous = entry
        }
    }

    /// A committed entry may be rewritten (a resent batch) but never replaced by one of another term.
    private static func checkNoCommittedEntryChanges(_ entries: [Entry], current: LogShape, storedTerm: (LogIndex) throws -> Term?) throws {
        let lastCommittedStored = min(current.hardState.commit, current.lastIndex)
        for entry in entries {
            guard entry.index <= lastCommittedStored else { break }
            let stored = try storedTerm(entry.index)
            guard stored == entry.term else {
                let found = stored.map { "term \($0)" } ?? "nothing"
                throw LogRuleViolation("entry \(entry.index) is committed with \(found) and cannot be replaced by term \(entry.term)")
            }
        }
    }

    private static func checkTransition(from old: HardState, to new: HardState) throws {
        guard new.term <= largestStorable, new.commit <= largestStorable else {
            throw LogRuleViolation("hard state term \(new.term) or commit \(new.commit) exceeds \(largestStorable)")
        }
        guard new.term >= old.term else {
            throw LogRuleViolation("hard state term would go back from \(old.term) to \(new.term)")
        }
        // Voting twice in one term is how two leaders get elected for it.
        if new.term == old.term, old.vote != noNode, new.vote != old.vote {
            throw LogRuleViolation("vote in term \(new.term) would change from node \(old.vote) to node \(new.vote)")
        }
        guard new.commit >= old.commit else {
            throw LogRuleViolation("commit index would go back from \(old.commit) to \(new.commit)")
        }
    }

    private static func checkHardStateFits(_ shape: LogShape) throws {
        let hardState = shape.hardState
        guard hardState.commit >= shape.snapshotIndex else {
            throw LogRuleViolation("commit index \(hardState.commit) is below the snapshot index \(shape.snapshotIndex)")
        }
        guard hardState.commit <= shape.lastIndex else {
            throw LogRuleViolation("commit index \(hardState.commit) is beyond the last log index \(shape.lastIndex)")
        }
        // Log terms never decrease, so the last one is the largest; a node only accepts entries up to its own term.
        guard shape.lastTerm <= hardState.term else {
            throw LogRuleViolation("the log holds term \(shape.lastTerm) but the hard state's term is \(hardState.term)")
        }
    }
}
