/// The JSON of `GET /api/v1/cluster`: one node's view of the cluster (also decoded by `vigil status`).
public struct ClusterView: Codable, Sendable, Equatable {
    /// One member as this node sees it; match index and lag are known on the leader only.
    public struct MemberView: Codable, Sendable, Equatable {
        public var id: UInt64
        public var peerAddress: String
        public var httpAddress: String
        public var isSelf: Bool
        public var isVoter: Bool
        public var matchIndex: UInt64?
        public var lag: UInt64?
        /// `self`, `connected`, `connecting` or `backoff` (this node's outbound connection to it).
        public var reachability: String
        /// On the leader: the snapshot transfer to this member under way, or how the last one ended.
        public var snapshotTransfer: SnapshotTransferStatus?
        /// The release the member runs: this node's own, or what the member announced when it last connected here.
        public var version: String?

        enum CodingKeys: String, CodingKey {
            case id, lag, reachability, version
            case snapshotTransfer = "snapshot_transfer"
            case peerAddress = "peer_address"
            case httpAddress = "http_address"
            case isSelf = "self"
            case isVoter = "voter"
            case matchIndex = "match_index"
        }

        public init(id: UInt64, peerAddress: String, httpAddress: String, isSelf: Bool, isVoter: Bool,
                    matchIndex: UInt64?, lag: UInt64?, reachability: String) {
            self.id = id
            self.peerAddress = peerAddress
            self.httpAddress = httpAddress
            self.isSelf = isSelf
            self.isVoter = isVoter
            self.matchIndex = matchIndex
            self.lag = lag
            self.reachability = reachability
        }
    }

    /// Snapshot transfers this node received or is receiving, by sending leader.
    public var incomingSnapshots: [SnapshotTransferStatus]?
    /// When this node's certificate expires (milliseconds since the epoch); re-issue it well before.
    public var certificateExpiresAtMilliseconds: Int64?
    /// The vigil version this node runs (during a rolling upgrade, nodes differ).
    public var version: String?

    public var clusterID: String
    public var nodeID: UInt64
    public var role: String
    public var term: UInt64
    /// 0 when no leader is known.
    public var leader: UInt64
    public var commitIndex: UInt64
    public var appliedIndex: UInt64
    public var lastIndex: UInt64
    public var snapshotIndex: UInt64
    public var settingsRevision: UInt64
    public var members: [MemberView]

    enum CodingKeys: String, CodingKey {
        case role, term, leader, members
        case clusterID = "cluster_id"
        case nodeID = "node_id"
        case commitIndex = "commit_index"
        case appliedIndex = "applied_index"
        case lastIndex = "last_index"
        case snapshotIndex = "snapshot_index"
        case settingsRevision = "settings_revision"
        case incomingSnapshots = "incoming_snapshots"
        case certificateExpiresAtMilliseconds = "certificate_expires_at_ms"
        case version
    }

    public init(clusterID: String, nodeID: UInt64, role: String, term: UInt64, leader: UInt64, commitIndex: UInt64,
                appliedIndex: UInt64, lastIndex: UInt64, snapshotIndex: UInt64, settingsRevision: UInt64, members: [MemberView]) {
        self.clusterID = clusterID
        self.nodeID = nodeID
        self.role = role
        self.term = term
        self.leader = leader
        self.commitIndex = commitIndex
        self.appliedIndex = appliedIndex
        self.lastIndex = lastIndex
        self.snapshotIndex = snapshotIndex
        self.settingsRevision = settingsRevision
        self.members = members
    }
}
