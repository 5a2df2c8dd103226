/// One page as the drill's webhook sink received it (`pages.jsonl`):
/// `{"arrived_ns": 5120000000, "key": "…", "level": 1, "node": 2, "person": "drill-l1", "step": 1, "ticket": 17}`.
/// `node` is the node that sent it (null when the sink could not tell).
public struct PageRecord: Sendable, Equatable, Codable {
    public var arrivedNanoseconds: UInt64
    public var node: Int?
    public var ticket: Int
    public var step: Int
    public var level: Int
    public var person: String
    public var key: String

    enum CodingKeys: String, CodingKey {
        case node, ticket, step, level, person, key
        case arrivedNanoseconds = "arrived_ns"
    }

    public init(arrivedNanoseconds: UInt64, node: Int?, ticket: Int, step: Int, level: Int, person: String, key: String) {
        self.arrivedNanoseconds = arrivedNanoseconds
        self.node = node
        self.ticket = ticket
        self.step = step
        self.level = level
        self.person = person
        self.key = key
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(arrivedNanoseconds, forKey: .arrivedNanoseconds)
        try container.encode(node, forKey: .node)
        try container.encode(ticket, forKey: .ticket)
        try container.encode(step, forKey: .step)
        try container.encode(level, forKey: .level)
        try container.encode(person, forKey: .person)
        try container.encode(key, forKey: .key)
    }
}

/// One alert the drill sent and what it is owed (`alerts.jsonl`):
/// `{"accepted_ns": 2000000000, "acknowledged_ns": null, "dedup_key": "drill-7", "deadlines_ns": [2001000000, 4001000000], "ticket": 17}`.
/// `accepted_ns` is when the intake answered 202 (null: it did not, so nothing is owed); `ticket` is the ticket
/// found for it at the end (null: none, which for an accepted alert is a lost write); `deadlines_ns[L]` is when
/// level L falls due, from the ticket's registration and the policy.
public struct AlertRecord: Sendable, Equatable, Codable {
    public var dedupKey: String
    public var acceptedNanoseconds: UInt64?
    public var ticket: Int?
    public var deadlinesNanoseconds: [UInt64]
    public var acknowledgedNanoseconds: UInt64?

    enum CodingKeys: String, CodingKey {
        case ticket
        case dedupKey = "dedup_key", acceptedNanoseconds = "accepted_ns", deadlinesNanoseconds = "deadlines_ns"
        case acknowledgedNanoseconds = "acknowledged_ns"
    }

    public init(dedupKey: String, acceptedNanoseconds: UInt64?, ticket: Int?, deadlinesNanoseconds: [UInt64], acknowledgedNanoseconds: UInt64?) {
        self.dedupKey = dedupKey
        self.acceptedNanoseconds = acceptedNanoseconds
        self.ticket = ticket
        self.deadlinesNanoseconds = deadlinesNanoseconds
        self.acknowledgedNanoseconds = acknowledgedNanoseconds
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(dedupKey, forKey: .dedupKey)
        try container.encode(acceptedNanoseconds, forKey: .acceptedNanoseconds)
        try container.encode(ticket, forKey: .ticket)
        try container.encode(deadlinesNanoseconds, forKey: .deadlinesNanoseconds)
        try container.encode(acknowledgedNanoseconds, forKey: .acknowledgedNanoseconds)
    }
}

/// One injected fault or heal (`faults.jsonl`):
/// `{"action": "isolate", "at_ns": 9000000000, "detail": "node 2 cut from 10.213.0.1 10.213.0.3", "minority": [2], "nodes": [2]}`.
/// `minority` is every node that cannot reach a majority of its peers from this line until the next one.
public struct FaultRecord: Sendable, Equatable, Codable {
    public var atNanoseconds: UInt64
    public var action: String
    public var nodes: [Int]
    public var minority: [Int]
    public var detail: String

    enum CodingKeys: String, CodingKey {
        case action, nodes, minority, detail
        case atNanoseconds = "at_ns"
    }

    public init(atNanoseconds: UInt64, action: String, nodes: [Int], minority: [Int], detail: String) {
        self.atNanoseconds = atNanoseconds
        self.action = action
        self.nodes = nodes
        self.minority = minority
        self.detail = detail
    }
}

/// What the paging checker needs beside the records (`drill.json` holds them with the drill's other settings).
public struct PagingCheckParameters: Sendable, Equatable, Codable {
    /// How late past its deadline a level may be paged: the drill's failover allowance.
    public var allowanceNanoseconds: UInt64
    /// A node cut off from the majority for less than this may still deliver a page whose intent committed
    /// just before the cut (a send is not instantaneous); longer, and it must send nothing.
    public var minorityGraceNanoseconds: UInt64
    /// When the sink stopped listening: a level whose deadline plus allowance is later is not owed yet.
    public var observedUntilNanoseconds: UInt64

    enum CodingKeys: String, CodingKey {
        case allowanceNanoseconds = "allowance_ns", minorityGraceNanoseconds = "minority_grace_ns"
        case observedUntilNanoseconds = "observed_until_ns"
    }

    public init(allowanceNanoseconds: UInt64, minorityGraceNanoseconds: UInt64, observedUntilNanoseconds: UInt64) {
        self.allowanceNanoseconds = allowanceNanoseconds
        self.minorityGraceNanoseconds = minorityGraceNanoseconds
        self.observedUntilNanoseconds = observedUntilNanoseconds
    }
}

/// What the drill's leader watcher saw, one line per change (`leaders.jsonl`):
/// `{"at_ns": 9556000000, "claimants": [3], "deniers": [1, 2], "leader": 3}`. `leader` is the leader a majority
/// of the nodes names, itself among them (null: none); `claimants` are the nodes that named themselves leader
/// (a node leads only once a majority elected it, though an old leader may not know yet that it was deposed);
/// `deniers` answered and named another node or none. A node in neither did not answer.
public struct LeaderRecord: Sendable, Equatable, Codable {
    public var atNanoseconds: UInt64
    public var leader: Int?
    public var claimants: [Int]
    public var deniers: [Int]

    enum CodingKeys: String, CodingKey {
        case leader, claimants, deniers
        case atNanoseconds = "at_ns"
    }

    public init(atNanoseconds: UInt64, leader: Int?, claimants: [Int] = [], deniers: [Int] = []) {
        self.atNanoseconds = atNanoseconds
        self.leader = leader
        self.claimants = claimants
        self.deniers = deniers
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        atNanoseconds = try container.decode(UInt64.self, forKey: .atNanoseconds)
        leader = try container.decodeIfPresent(Int.self, forKey: .leader)
        claimants = try container.decodeIfPresent([Int].self, forKey: .claimants) ?? []
        deniers = try container.decodeIfPresent([Int].self, forKey: .deniers) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(atNanoseconds, forKey: .atNanoseconds)
        try container.encode(leader, forKey: .leader)
        try container.encode(claimants, forKey: .claimants)
        try container.encode(deniers, forKey: .deniers)
    }
}
