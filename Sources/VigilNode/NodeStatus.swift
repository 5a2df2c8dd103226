import RaftCore

/// What the Raft loop publishes after each round for HTTP handlers, health checks and metrics.
public struct NodeStatus: Sendable, Equatable {
    /// The leader's replication view of one member.
    public struct Progress: Sendable, Equatable {
        public var match: LogIndex
        public var next: LogIndex
        public var recentlyActive: Bool
    }

    public var nodeID: NodeID
    public var role: Role = .follower
    public var term: Term = 0
    public var leader: NodeID = noNode
    public var commitIndex: LogIndex = 0
    public var appliedIndex: LogIndex = 0
    public var lastIndex: LogIndex = 0
    public var snapshotIndex: LogIndex = 0
    public var voters: [NodeID] = []
    public var learners: [NodeID] = []
    /// Filled on the leader only.
    public var progress: [NodeID: Progress] = [:]
    public var stopping = false
    /// On a leader: the index at or after its term's no-op. Once `appliedIndex` reaches it, the state holds
    /// everything earlier leaders committed, so acting on it (paging) cannot repeat their work from stale state.
    public var leaderStateIndex: LogIndex?
    /// On a leader: snapshot transfers to followers (in progress, or how the last one ended), by follower.
    public var snapshotsOut: [NodeID: SnapshotTransferStatus] = [:]
    /// Snapshot transfers this node received or is receiving, by sending leader.
    public var snapshotsIn: [NodeID: SnapshotTransferStatus] = [:]

    public var counters = Counters()

    /// A change of the leader this node knows, for the console's cluster page.
    public struct LeaderChange: Sendable, Equatable {
        public var term: Term
        /// `noNode` while an election runs.
        public var leader: NodeID
        public var atMilliseconds: Int64
    }

    /// The last `maximumRecentLeaders` changes of the known leader, oldest first.
    public var recentLeaders: [LeaderChange] = []
    public static let maximumRecentLeaders = 10

    /// Monotonic counters since start, for `/metrics`.
    public struct Counters: Sendable, Equatable {
        public var proposalsApplied: UInt64 = 0
        public var proposalsFailed: UInt64 = 0
        public var proposalBatches: UInt64 = 0
        /// Client writes this follower handed to the leader over the peer connection.
        public var forwardedSent: UInt64 = 0
        public var forwardedResent: UInt64 = 0
        /// Writes sent again that this leader had proposed already (ignored).
        public var forwardedDuplicates: UInt64 = 0
        /// Writes followers forwarded that this leader proposed, and those it dropped (not leader of their term).
        public var forwardedProposed: UInt64 = 0
        public var forwardedDropped: UInt64 = 0
        public var readsServed: UInt64 = 0
        public var readsFailed: UInt64 = 0
        /// Campaigns this node started (it became candidate).
        public var elections: UInt64 = 0
        public var leaderChanges: UInt64 = 0
        public var snapshotsTaken: UInt64 = 0
        public var snapshotsInstalled: UInt64 = 0
        /// Snapshot files that could not be written (a full disk, say); the log keeps growing meanwhile.
        public var snapshotsFailed: UInt64 = 0
        public var persistLatency = LatencyHistogram()
        /// From the copy of the state to the compacted log, off the loop.
        public var snapshotBuildLatency = LatencyHistogram()
        /// One round of the Raft loop: a long one delays heartbeats and can cost leadership.
        public var loopRoundLatency = LatencyHistogram()
        public var loopRoundLongest: Duration = .zero
    }

    public init(nodeID: NodeID) {
        self.nodeID = nodeID
    }

    /// Ready to serve: a leader is known and everything committed that this node saw is applied.
    public var isReady: Bool { leader != noNode && appliedIndex >= commitIndex && !stopping }
}
