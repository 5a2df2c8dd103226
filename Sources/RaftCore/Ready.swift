/// Everything the caller must do after feeding the core: the hand-off between the pure core and the world.
///
/// Order of work, and the only order that is safe:
/// 1. `messages` may be sent at once (a leader's replication traffic acknowledges nothing);
/// 2. persist `snapshot` (replacing the whole stored log), then `entries` (first deleting stored entries at
///    or after `entries.first.index`), then `hardState`, in one durable write;
/// 3. send `messagesAfterPersist` (votes and acknowledgements promise what is now on disk);
/// 4. restore the state machine from `snapshot` if present, then apply `committedEntries` in order,
///    and answer `readStates` once the state machine has applied their index. Without a snapshot,
///    `committedEntries` may be applied before step 2: they are durable on a quorum already (a leader counts
///    its own log only after `advance`), as etcd's raft allows;
/// 5. call `advance(_:)` with this value.
public struct Ready: Sendable {
    public var softState: SoftState?
    public var hardState: HardState?
    public var snapshot: Snapshot?
    public var entries: [Entry] = []
    public var messages: [Message] = []
    public var messagesAfterPersist: [Message] = []
    public var committedEntries: [Entry] = []
    public var readStates: [ReadState] = []

    public var needsPersist: Bool { hardState != nil || snapshot != nil || !entries.isEmpty }

    public var isEmpty: Bool {
        softState == nil && !needsPersist && messages.isEmpty && messagesAfterPersist.isEmpty
            && committedEntries.isEmpty && readStates.isEmpty
    }
}

/// Why the core refused a request; the caller decides whether to retry, redirect or give up.
public enum RaftError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Only the leader takes proposals (Vigil redirects at the API layer); `leaderHint` is noNode when unknown.
    case notLeader(leaderHint: NodeID)
    case leadershipTransferInProgress
    /// Back-pressure: too many entries wait for commit.
    case tooManyUncommitted(limit: Int)
    case tooManyPendingReads(limit: Int)
    /// A membership change is still uncommitted (or the leader has not committed its first entry yet).
    case confChangeInProgress
    case invalidConfChange(String)
    case invalidTransferTarget(NodeID)

    public var description: String {
        switch self {
        case .notLeader(let hint): return hint == noNode ? "not the leader; no leader known" : "not the leader; leader is node \(hint)"
        case .leadershipTransferInProgress: return "a leadership transfer is in progress"
        case .tooManyUncommitted(let limit): return "more than \(limit) entries wait for commit"
        case .tooManyPendingReads(let limit): return "more than \(limit) reads are pending"
        case .confChangeInProgress: return "a membership change is still in progress"
        case .invalidConfChange(let why): return "invalid membership change: \(why)"
        case .invalidTransferTarget(let id): return "node \(id) cannot take leadership"
        }
    }
}

/// A proposal's place in the log: it succeeded iff an entry with this index and term is applied.
public struct ProposalID: Sendable, Equatable, Hashable {
    public var index: LogIndex
    public var term: Term
}
