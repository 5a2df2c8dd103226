import RaftCore

/// A broken Raft property, with enough context to start debugging from the replayed trace.
public struct Violation: Error, Sendable, CustomStringConvertible {
    public enum Property: String, Sendable {
        case electionSafety = "Election Safety"
        case logMatching = "Log Matching"
        case leaderCompleteness = "Leader Completeness"
        case stateMachineSafety = "State Machine Safety"
        case acknowledgedWriteLost = "acknowledged write lost"
        case staleRead = "stale read"
        case liveness = "liveness"
    }

    public var property: Property
    public var detail: String
    public var tick: Int

    public var description: String { "\(property.rawValue) violated at tick \(tick): \(detail)" }
}

/// Checks the Raft safety properties (paper Figure 3) incrementally, as the simulation runs.
struct SafetyChecker {
    private struct EntryKey: Hashable {
        var index: LogIndex
        var term: Term
    }

    /// Term → the node that led it.
    private var leaders: [Term: NodeID] = [:]
    /// (index, term) → the data and the term of the previous entry, as first persisted anywhere.
    private var persistedEntries: [EntryKey: (data: [UInt8], kind: EntryKind, prevTerm: Term?)] = [:]
    /// The one committed history: committed[i - 1] is the entry at index i.
    private(set) var committed: [(term: Term, kind: EntryKind, data: [UInt8])] = []
    /// Index → value of every write a client saw acknowledged.
    private(set) var acknowledged: [LogIndex: UInt64] = [:]
    private(set) var maxAcknowledgedIndex: LogIndex = 0
    private(set) var checks = 0
    /// Membership according to the committed history, and every node that was ever in it.
    private(set) var committedConf: ConfState
    private(set) var everMembers: Set<NodeID>

    init(initialVoters: [NodeID] = []) {
        committedConf = ConfState(voters: initialVoters)
        everMembers = Set(initialVoters)
    }

    var committedCount: LogIndex { LogIndex(committed.count) }

    // MARK: Election Safety (§5.2): at most one leader per term.

    mutating func observeLeader(_ node: NodeID, term: Term, tick: Int) throws(Violation) {
        checks += 1
        if let existing = leaders[term], existing != node {
            throw Violation(property: .electionSafety, detail: "nodes \(existing) and \(node) both lead term \(term)", tick: tick)
        }
        leaders[term] = node
    }

    // MARK: Log Matching (§5.3): same index and term ⇒ same entry and same history before it.

    mutating func observePersisted(_ entries: [Entry], node: NodeID, storage: SimStorage, tick: Int) throws(Violation) {
        for entry in entries {
            checks += 1
            let key = EntryKey(index: entry.index, term: entry.term)
            let prevTerm = entry.index == 1 ? 0 : storage.term(at: entry.index - 1)
            if let known = persistedEntries[key] {
                if known.data != entry.data || known.kind != entry.kind {
                    throw Violation(property: .logMatching, detail: "node \(node) holds a different entry at index \(entry.index) term \(entry.term)", tick: tick)
                }
                if let knownPrev = known.prevTerm, let prevTerm, knownPrev != prevTerm {
                    throw Violation(property: .logMatching, detail: "node \(node): entry \(entry.index)/t\(entry.term) follows term \(prevTerm), elsewhere term \(knownPrev)", tick: tick)
                }
            } else {
                persistedEntries[key] = (entry.data, entry.kind, prevTerm)
            }
        }
    }

    // MARK: State Machine Safety (§5.4.3): one committed history; every node applies a prefix of it.

    mutating func observeCommitted(index: LogIndex, term: Term, kind: EntryKind, data: [UInt8], node: NodeID, tick: Int) throws(Violation) {
        checks += 1
        precondition(index >= 1)
        if index <= committedCount {
            let known = committed[Int(index - 1)]
            if known.term != term || known.data != data || known.kind != kind {
                throw Violation(property: .stateMachineSafety,
                                detail: "node \(node) commits t\(term) at index \(index); committed history has t\(known.term)", tick: tick)
            }
        } else if index == committedCount + 1 {
            committed.append((term, kind, data))
            if kind == .confChange, let change = ConfChange(encoded: data), let next = change.applied(to: committedConf) {
                committedConf = next
                everMembers.formUnion(next.members)
            }
        } else {
            // Commit learned through a snapshot can run ahead of what we have seen; fill in when the entries show up.
            return
        }
        if let value = acknowledged[index], SimStateMachine.decodeValue(data) != value {
            throw Violation(property: .acknowledgedWriteLost, detail: "acknowledged value \(value) at index \(index) replaced on node \(node)", tick: tick)
        }
    }

    /// A snapshot's state must be exactly the committed history's values up to its index.
    mutating func observeSnapshot(_ snapshot: Snapshot, node: NodeID, tick: Int) throws(Violation) {
        checks += 1
        guard snapshot.index <= committedCount else { return }
        if committed[Int(snapshot.index - 1)].term != snapshot.term {
            throw Violation(property: .stateMachineSafety, detail: "node \(node) installs snapshot \(snapshot.index)/t\(snapshot.term) off the committed history", tick: tick)
        }
        let expected = committed[0..<Int(snapshot.index)].compactMap { $0.kind == .normal ? SimStateMachine.decodeValue($0.data) : nil }
        if SimStateMachine.decodeValues(snapshot.data) != expected {
            throw Violation(property: .stateMachineSafety, detail: "node \(node) snapshot at \(snapshot.index) differs from the committed history", tick: tick)
        }
    }

    // MARK: Leader Completeness (§5.4): a new leader holds every committed entry.

    mutating func observeNewLeader(_ node: RaftNode, tick: Int) throws(Violation) {
        guard committedCount > 0 else { return }
        for index in max(node.snapshotIndex, 1)...committedCount {
            checks += 1
            let expected = committed[Int(index - 1)].term
            if index == node.snapshotIndex { continue }
            guard let held = node.term(at: index) else {
                throw Violation(property: .leaderCompleteness, detail: "leader \(node.id) of term \(node.term) lacks committed index \(index)", tick: tick)
            }
            if held != expected {
                throw Violation(property: .leaderCompleteness, detail: "leader \(node.id) of term \(node.term) has t\(held) at committed index \(index), expected t\(expected)", tick: tick)
            }
        }
    }

    // MARK: Clients

    mutating func observeAcknowledged(index: LogIndex, value: UInt64, tick: Int) throws(Violation) {
        checks += 1
        guard index <= committedCount, SimStateMachine.decodeValue(committed[Int(index - 1)].data) == value else {
            throw Violation(property: .acknowledgedWriteLost, detail: "value \(value) acknowledged at index \(index) is not in the committed history", tick: tick)
        }
        acknowledged[index] = value
        maxAcknowledgedIndex = max(maxAcknowledgedIndex, index)
    }

    /// A linearizable read started when `requiredIndex` was the newest acknowledged write, and saw `servedIndex`.
    mutating func observeRead(node: NodeID, servedIndex: LogIndex, requiredIndex: LogIndex, tick: Int) throws(Violation) {
        checks += 1
        if servedIndex < requiredIndex {
            throw Violation(property: .staleRead, detail: "node \(node) served a read at index \(servedIndex) after a write was acknowledged at \(requiredIndex)", tick: tick)
        }
    }

    /// At the end: every acknowledged value is in a node's final state.
    func checkFinalState(_ values: [UInt64], appliedIndex: LogIndex, node: NodeID, tick: Int) throws(Violation) {
        let present = Set(values)
        for (index, value) in acknowledged where index <= appliedIndex && !present.contains(value) {
            throw Violation(property: .acknowledgedWriteLost, detail: "node \(node) final state lacks acknowledged value \(value) (index \(index))", tick: tick)
        }
        if maxAcknowledgedIndex > appliedIndex {
            throw Violation(property: .liveness, detail: "node \(node) applied only \(appliedIndex) of \(maxAcknowledgedIndex) acknowledged", tick: tick)
        }
    }
}
