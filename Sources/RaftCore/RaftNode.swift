/// One Raft peer as a deterministic state machine: no I/O, no clock, no threads.
///
/// Inputs are `tick()`, `step(_:)`, `propose(_:)`, `readIndex(context:)`, `transferLeadership(to:)` and
/// `proposeConfChange(_:)`; output is collected with `ready()` and acknowledged with `advance(_:)`.
/// Proposals on a follower are refused with `RaftError.notLeader(leaderHint:)`: the API layer forwards
/// them, so the core never holds a client's request across a leader change. ReadIndex requests on a
/// follower are forwarded to the leader by the core itself.
///
/// A reference to a `RaftMachine`: each call below is one access to it, and the rules run inside the value.
public final class RaftNode {
    private var machine: RaftMachine

    /// Starts (or restarts) a node from what storage holds.
    public init(config: Config, persisted: PersistedState = PersistedState()) {
        machine = RaftMachine(config: config, persisted: persisted)
    }

    public var id: NodeID { machine.id }
    public var term: Term { machine.term }
    public var vote: NodeID { machine.vote }
    public var role: Role { machine.role }
    public var leader: NodeID { machine.leader }
    public var conf: ConfState { machine.conf }
    public var appliedIndex: LogIndex { machine.appliedIndex }
    public var softState: SoftState { machine.softState }
    public var hardState: HardState { machine.hardState }
    public var commitIndex: LogIndex { machine.commitIndex }
    public var lastIndex: LogIndex { machine.lastIndex }
    public var lastTerm: Term { machine.lastTerm }
    public var snapshotIndex: LogIndex { machine.snapshotIndex }
    public var isLeader: Bool { machine.isLeader }
    /// Bytes of entry data the log holds in memory since the snapshot (what compacting frees).
    public var logEntryBytes: Int { machine.logEntryBytes }
    /// Whether `ready()` has anything to hand over.
    public var hasReady: Bool { machine.hasReady }
    /// How many calls of `tick()` from now the next one can change anything (a heartbeat, an election, a
    /// quorum check, a snapshot given up); ≥ 1. Every earlier tick only counts, so a host that sleeps that long
    /// and then ticks the elapsed count behaves exactly like one that woke for every tick.
    public var ticksUntilNextTimeout: Int { machine.ticksUntilNextTimeout }

    /// The leader's replication view of each member (nil on followers).
    public func memberProgress() -> [NodeID: (match: LogIndex, next: LogIndex, recentlyActive: Bool)]? {
        machine.memberProgress()
    }

    /// A learner this leader may promote now (thesis §4.2.1): its log reaches the commit index, the same test
    /// `proposeConfChange` applies to a promotion. Nil on a follower, or when no learner has caught up.
    public func caughtUpLearner() -> NodeID? { machine.caughtUpLearner() }

    /// The term of the entry at `index` if it is still in memory.
    public func term(at index: LogIndex) -> Term? { machine.term(at: index) }

    /// A stored entry (for tests and tools), nil when compacted or absent.
    public func entry(at index: LogIndex) -> Entry? { machine.entry(at: index) }

    /// Advances logical time by one tick.
    public func tick() { machine.tick() }

    /// Appends one proposal to the leader's log; returns where it landed.
    @discardableResult
    public func propose(_ data: [UInt8]) -> Result<ProposalID, RaftError> { machine.propose(data) }

    /// Appends several proposals as one batch (one broadcast); returns where each landed.
    public func propose(batch: [[UInt8]]) -> Result<[ProposalID], RaftError> { machine.propose(batch: batch) }

    /// Proposes a single-server membership change (thesis §4.1), effective once committed.
    public func proposeConfChange(_ change: ConfChange) -> Result<ProposalID, RaftError> {
        machine.proposeConfChange(change)
    }

    /// Starts a linearizable read; its `ReadState` appears in a later `Ready`.
    public func readIndex(context: UInt64) -> Result<Void, RaftError> { machine.readIndex(context: context) }

    /// Hands leadership to `target` once its log is up to date (thesis §3.10).
    public func transferLeadership(to target: NodeID) -> Result<Void, RaftError> {
        machine.transferLeadership(to: target)
    }

    /// The transport could not reach `peer`: stop pipelining to it until it answers again.
    public func reportUnreachable(_ peer: NodeID) { machine.reportUnreachable(peer) }

    /// Feeds one message from a peer. Malformed, stale or misaddressed messages are dropped or answered.
    public func step(_ message: Message) { machine.step(message) }

    /// The application captured its state at `index` (≤ applied): drop the log up to it. Returns the
    /// snapshot to store; the caller then deletes stored entries up to `index`.
    public func compact(through index: LogIndex, data: [UInt8]) -> Snapshot? {
        machine.compact(through: index, data: data)
    }

    /// Collects the work for the caller; call `advance(_:)` when it is done.
    public func ready() -> Ready { machine.ready() }

    /// Acknowledges that everything in `ready` was done in the documented order.
    public func advance(_ ready: Ready) { machine.advance(ready) }
}
