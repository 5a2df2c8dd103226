import RaftCore

/// One simulated peer: a Raft core (nil while crashed), its durable storage and its state machine.
final class SimNode {
    let id: NodeID
    /// Probability that a global tick reaches this node (slow or skewed clocks).
    let tickRate: Double
    var core: RaftNode?
    var storage = SimStorage()
    var stateMachine = SimStateMachine()
    /// Removed from the cluster and shut down for good.
    var retired = false
    /// Reads answered by Raft but waiting for the state machine to catch up: context → read index.
    var readsAwaitingApply: [(context: UInt64, index: LogIndex)] = []
    var lastObservedCommit: LogIndex = 0
    var lastObservedLeaderTerm: Term = 0

    /// `bootstrapVoters` is the founding membership for founders, empty for a node that joins later.
    init(id: NodeID, bootstrapVoters: [NodeID], tickRate: Double) {
        self.id = id
        self.tickRate = tickRate
        if !bootstrapVoters.isEmpty {
            let initial = PersistedState.bootstrap(voters: bootstrapVoters)
            storage = SimStorage(hardState: initial.hardState, snapshot: initial.snapshot, entries: initial.entries)
        }
    }

    var isUp: Bool { core != nil }

    func start(options: SimOptions, settings: CoreSettings, seed: UInt64) {
        var config = Config(id: id)
        config.electionTimeoutTicks = options.electionTimeoutTicks
        config.heartbeatIntervalTicks = 1
        config.randomSeed = seed
        config.injectedBug = options.injectedBug
        config.preVote = settings.preVote
        config.checkQuorum = settings.checkQuorum
        config.maxInflightAppends = settings.maxInflightAppends
        config.maxAppendBytes = settings.maxAppendBytes
        // Restarted nodes rebuild their state machine from the stored snapshot, then re-apply the log.
        stateMachine = SimStateMachine()
        if storage.snapshot.index > 0 { stateMachine.restore(storage.snapshot) }
        core = RaftNode(config: config, persisted: storage.persisted)
        lastObservedCommit = core!.commitIndex
        lastObservedLeaderTerm = 0
        readsAwaitingApply = []
    }

    func crash() {
        core = nil
        readsAwaitingApply = []
    }
}

/// The core settings of one simulated run (the same on every node, as an operator would deploy them).
struct CoreSettings: CustomStringConvertible {
    var preVote = true
    var checkQuorum = true
    var maxInflightAppends = 8
    var maxAppendBytes = 4096

    static func random(using rng: inout SplitMix64) -> CoreSettings {
        CoreSettings(preVote: rng.chance(0.7), checkQuorum: rng.chance(0.7),
                     maxInflightAppends: 1 + rng.below(8),
                     // One entry per append exposes commit-counting and follower-commit mistakes.
                     maxAppendBytes: rng.chance(0.3) ? 1 : 4096)
    }

    var description: String {
        "preVote=\(preVote) checkQuorum=\(checkQuorum) inflight=\(maxInflightAppends) appendBytes=\(maxAppendBytes)"
    }
}
