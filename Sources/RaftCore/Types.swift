/// A member's identity in the cluster; 0 is reserved for "nobody".
public typealias NodeID = UInt64

/// Log positions and terms are counted from 1; 0 means "before the first entry".
public typealias LogIndex = UInt64
public typealias Term = UInt64

/// The reserved "no node" value (no vote cast, no known leader).
public let noNode: NodeID = 0

/// What an entry carries: application data (empty for a leader's term-start no-op), a membership change,
/// or the whole initial membership (only at index 1 of a bootstrapped cluster).
public enum EntryKind: UInt8, Sendable, Hashable {
    case normal = 0
    case confChange = 1
    case bootstrap = 2
}

/// One replicated log entry.
public struct Entry: Sendable, Hashable {
    public var term: Term
    public var index: LogIndex
    public var kind: EntryKind
    public var data: [UInt8]

    public init(term: Term, index: LogIndex, kind: EntryKind = .normal, data: [UInt8] = []) {
        self.term = term
        self.index = index
        self.kind = kind
        self.data = data
    }

    /// Size used for flow control; the fixed part approximates the wire header.
    public var sizeBytes: Int { data.count + 24 }
}

/// The state that must be on stable storage before any message that depends on it is sent.
public struct HardState: Sendable, Hashable {
    public var term: Term
    public var vote: NodeID
    public var commit: LogIndex

    public init(term: Term = 0, vote: NodeID = noNode, commit: LogIndex = 0) {
        self.term = term
        self.vote = vote
        self.commit = commit
    }
}

/// The cluster membership: voters decide elections and commits, learners only receive the log.
public struct ConfState: Sendable, Hashable {
    public var voters: [NodeID]
    public var learners: [NodeID]

    public init(voters: [NodeID] = [], learners: [NodeID] = []) {
        precondition(ConfState.isValid(voters: voters, learners: learners), "members must be distinct, non-zero node ids")
        self.voters = voters.sorted()
        self.learners = learners.sorted()
    }

    /// For decoders of untrusted input: nil instead of a crash when ids repeat, overlap or are zero.
    public init?(validating voters: [NodeID], learners: [NodeID]) {
        guard ConfState.isValid(voters: voters, learners: learners) else { return nil }
        self.init(voters: voters, learners: learners)
    }

    private static func isValid(voters: [NodeID], learners: [NodeID]) -> Bool {
        let all = voters + learners
        return !all.contains(noNode) && Set(all).count == all.count
    }

    public func isVoter(_ id: NodeID) -> Bool { voters.contains(id) }
    public func isLearner(_ id: NodeID) -> Bool { learners.contains(id) }
    public func isMember(_ id: NodeID) -> Bool { isVoter(id) || isLearner(id) }
    public var members: [NodeID] { (voters + learners).sorted() }
    public var quorum: Int { voters.count / 2 + 1 }

    /// Voter count, voters, learner count, learners; all big-endian UInt64.
    public var encoded: [UInt8] {
        var bytes: [UInt8] = []
        for value in [UInt64(voters.count)] + voters + [UInt64(learners.count)] + learners {
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
        }
        return bytes
    }

    public init?(encoded bytes: [UInt8]) {
        guard bytes.count % 8 == 0, bytes.count >= 16 else { return nil }
        let words = stride(from: 0, to: bytes.count, by: 8).map { start in
            bytes[start..<start + 8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        }
        guard words[0] < UInt64(words.count) else { return nil }
        let voterCount = Int(words[0])
        guard words.count >= 2 + voterCount, words[1 + voterCount] == UInt64(words.count - 2 - voterCount) else { return nil }
        let voters = Array(words[1..<1 + voterCount])
        let learners = Array(words[(2 + voterCount)...])
        guard !voters.isEmpty else { return nil }
        self.init(validating: voters, learners: learners)
    }
}

/// A single-server membership change (Raft thesis §4.1): one at a time, effective once committed.
public struct ConfChange: Sendable, Equatable {
    public enum Action: UInt8, Sendable, Equatable {
        /// Adds a new learner, or is refused if the node is already a member.
        case addLearner = 0
        /// Promotes a caught-up learner to voter.
        case promoteLearner = 1
        /// Removes a voter or learner (the leader may remove itself).
        case remove = 2
    }

    public var action: Action
    public var node: NodeID

    public init(_ action: Action, node: NodeID) {
        self.action = action
        self.node = node
    }

    /// Encodes as 9 bytes: action, then the node id big-endian.
    public var encoded: [UInt8] {
        var bytes: [UInt8] = [action.rawValue]
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: node >> UInt64(shift))) }
        return bytes
    }

    public init?(encoded bytes: [UInt8]) {
        guard bytes.count == 9, let action = Action(rawValue: bytes[0]) else { return nil }
        var node: UInt64 = 0
        for byte in bytes[1...] { node = node << 8 | UInt64(byte) }
        guard node != noNode else { return nil }
        self.init(action, node: node)
    }

    /// The membership after this change, or nil when the change does not apply to `conf`.
    public func applied(to conf: ConfState) -> ConfState? {
        switch action {
        case .addLearner:
            guard !conf.isMember(node) else { return nil }
            return ConfState(voters: conf.voters, learners: conf.learners + [node])
        case .promoteLearner:
            guard conf.isLearner(node) else { return nil }
            return ConfState(voters: conf.voters + [node], learners: conf.learners.filter { $0 != node })
        case .remove:
            guard conf.isMember(node) else { return nil }
            let voters = conf.voters.filter { $0 != node }
            // Removing the last voter would leave a cluster that can never elect a leader.
            guard !voters.isEmpty else { return nil }
            return ConfState(voters: voters, learners: conf.learners.filter { $0 != node })
        }
    }
}

/// A point-in-time image of the applied state plus what Raft needs to resume after it.
public struct Snapshot: Sendable, Hashable {
    public var index: LogIndex
    public var term: Term
    public var conf: ConfState
    public var data: [UInt8]

    public init(index: LogIndex = 0, term: Term = 0, conf: ConfState = ConfState(), data: [UInt8] = []) {
        self.index = index
        self.term = term
        self.conf = conf
        self.data = data
    }
}

/// A node's role; pre-candidates run the pre-vote round (thesis §9.6) before disturbing anyone.
public enum Role: String, Sendable, Equatable {
    case follower, preCandidate, candidate, leader
}

/// A linearizable read becomes a ReadState once the leader confirmed its leadership (thesis §6.4).
public struct ReadState: Sendable, Equatable {
    /// The caller's token passed to `readIndex(context:)`.
    public var context: UInt64
    /// Serve the read once the local state machine has applied at least this index.
    public var index: LogIndex

    public init(context: UInt64, index: LogIndex) {
        self.context = context
        self.index = index
    }
}

/// Role, leader and term as seen by this node; changes are reported in `Ready`.
public struct SoftState: Sendable, Equatable {
    public var role: Role
    public var leader: NodeID
    public var term: Term

    public init(role: Role, leader: NodeID, term: Term) {
        self.role = role
        self.leader = leader
        self.term = term
    }
}
