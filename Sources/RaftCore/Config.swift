/// How a leader answers ReadIndex requests (thesis §6.4).
public enum ReadMode: Sendable, Equatable {
    /// Confirm leadership with a heartbeat round to a quorum before answering (the default).
    case safe
    /// Trust the check-quorum lease: answer at once. Correct only while clocks drift less than the
    /// election timeout; requires `checkQuorum`.
    case leaseBased
}

/// Bugs that can be switched on deliberately so tests can prove the simulator's checkers catch them.
/// The real node never sets one.
public enum InjectedBug: String, Sendable, CaseIterable {
    /// The vote is kept in memory but never handed to storage, so a restart may vote twice in one term.
    case forgetVotePersist = "forget-vote-persist"
    /// Entries from earlier terms are committed by counting replicas (the Figure 8 mistake).
    case commitOldTermByCounting = "commit-old-term"
    /// Votes are granted without the candidate-log-up-to-date check of §5.4.1.
    case skipLogUpToDateCheck = "skip-log-check"
    /// A follower acknowledges appended entries before its disk has them.
    case ackBeforePersist = "ack-before-persist"
    /// ReadIndex answers at once without confirming leadership (and without the lease).
    case readWithoutQuorum = "read-without-quorum"
}

/// Settings of one Raft node; times are counted in ticks of the caller's clock.
public struct Config: Sendable {
    public var id: NodeID
    /// Followers campaign after a random timeout in [electionTimeoutTicks, 2 × electionTimeoutTicks).
    public var electionTimeoutTicks: Int = 10
    public var heartbeatIntervalTicks: Int = 1
    public var preVote: Bool = true
    public var checkQuorum: Bool = true
    public var readMode: ReadMode = .safe
    /// Flow control: appends in flight to one follower, and bytes of entries in one append.
    public var maxInflightAppends: Int = 256
    public var maxAppendBytes: Int = 1 << 20
    /// Proposals are refused while this many entries wait for commit (back-pressure on clients).
    public var maxUncommittedEntries: Int = 10_000
    /// Committed entries handed out in one `Ready`, by size.
    public var maxCommittedBytesPerReady: Int = 4 << 20
    /// Pending ReadIndex requests a leader keeps; more are refused.
    public var maxPendingReads: Int = 10_000
    /// Seeds the election-timeout randomisation so a simulation replays exactly.
    public var randomSeed: UInt64 = 0
    /// The state machine's applied index at restart when it is newer than the snapshot (nil: the snapshot's).
    public var appliedIndex: LogIndex? = nil
    /// Test-only: deliberately broken behaviour (see `InjectedBug`).
    public var injectedBug: InjectedBug? = nil

    public init(id: NodeID) {
        self.id = id
    }

    func validate() {
        precondition(id != noNode, "node id 0 is reserved")
        precondition(heartbeatIntervalTicks >= 1, "heartbeat interval must be at least one tick")
        precondition(electionTimeoutTicks > heartbeatIntervalTicks, "election timeout must exceed the heartbeat interval")
        precondition(maxInflightAppends >= 1 && maxAppendBytes >= 1, "flow-control limits must be positive")
        precondition(readMode == .safe || checkQuorum, "lease-based reads need check-quorum")
    }
}

/// The durable state a node restarts from.
public struct PersistedState: Sendable, Equatable {
    public var hardState: HardState
    public var snapshot: Snapshot
    /// Entries after `snapshot.index`, contiguous.
    public var entries: [Entry]

    public init(hardState: HardState = HardState(), snapshot: Snapshot = Snapshot(), entries: [Entry] = []) {
        self.hardState = hardState
        self.snapshot = snapshot
        self.entries = entries
    }

    /// The first durable state of every founding member of a new cluster: the membership as a committed
    /// entry at index 1, term 1, so that nodes added later learn it from the log like any other change.
    /// A node that joins an existing cluster starts from an empty `PersistedState()` instead.
    public static func bootstrap(voters: [NodeID]) -> PersistedState {
        let membership = ConfState(voters: voters)
        precondition(!membership.voters.isEmpty && !membership.voters.contains(noNode), "bootstrap needs voters")
        return PersistedState(hardState: HardState(term: 1, vote: noNode, commit: 1),
                              entries: [Entry(term: 1, index: 1, kind: .bootstrap, data: membership.encoded)])
    }
}
