import RaftCore

/// What one simulated run does: cluster size, fault rates, workload and its bounds.
public struct SimOptions: Sendable {
    public var nodeCount: Int = 3
    public var seed: UInt64 = 1
    /// Ticks of the fault phase; then faults stop and liveness is checked.
    public var faultTicks: Int = 400
    /// After faults stop: a leader must exist and every pending proposal commit within this many ticks.
    public var livenessBoundTicks: Int = 300
    public var electionTimeoutTicks: Int = 10
    /// Each tick is this many network steps, so delays can be shorter than a tick.
    public var stepsPerTick: Int = 4
    public var maxDelaySteps: Int = 6
    public var dropRate: Double = 0.05
    public var duplicateRate: Double = 0.02
    /// Per tick: chance that a partition starts (when none is active), and that it heals.
    public var partitionRate: Double = 0.01
    public var healRate: Double = 0.03
    /// Per node per tick: chance of a crash; a crashed node restarts with `restartRate` per tick.
    public var crashRate: Double = 0.002
    public var restartRate: Double = 0.05
    /// Per tick: chance that whoever leads crashes (the moment Figure 8 and failover bugs need).
    public var leaderCrashRate: Double = 0.005
    /// Faults aimed at leader changes with partial replication (where Figure 8's mistake shows): per tick, the
    /// leader crashes while its last entry is on a minority of the voters; and a leader whose commit index just
    /// moved crashes before its followers hear of it.
    public var minorityTailCrashRate: Double = 0
    public var crashAfterCommitRate: Double = 0
    /// Chance to crash in the middle of handling one Ready (between sending, persisting and applying).
    public var crashInReadyRate: Double = 0.0005
    /// Some nodes tick slower: their tick happens with this probability (drawn per node in [min, 1]).
    public var minTickRate: Double = 0.6
    public var clientCount: Int = 3
    /// Per client per tick: chance to start an operation when idle; reads are this fraction of operations.
    public var operationRate: Double = 0.5
    public var readFraction: Double = 0.3
    public var clientTimeoutTicks: Int = 30
    public var membershipChanges: Bool = true
    public var maxMembershipChanges: Int = 6
    public var leadershipTransfers: Bool = true
    /// Entries applied after which a node snapshots and compacts its log.
    public var compactEveryEntries: Int = 40
    /// Vary the core's settings per seed (pre-vote, check-quorum, one entry per append, in-flight window),
    /// so every combination an operator may choose is exercised.
    public var randomizeCoreSettings: Bool = true
    /// Share of client operations sent to a random node instead of the last known leader.
    public var randomTargetFraction: Double = 0.2
    public var injectedBug: InjectedBug? = nil
    public var trace: Bool = false
    public var traceMessages: Bool = false

    public init() {}

    /// A preset used for catching injected bugs quickly: more crashes and partitions, fewer distractions.
    public static func aggressive(nodes: Int, seed: UInt64, bug: InjectedBug?) -> SimOptions {
        var options = SimOptions()
        options.nodeCount = nodes
        options.seed = seed
        options.injectedBug = bug
        options.crashRate = 0.01
        options.crashInReadyRate = 0.002
        options.partitionRate = 0.03
        options.healRate = 0.025
        options.leaderCrashRate = 0.02
        options.dropRate = 0.1
        return options
    }

    /// The aggressive preset with faults aimed at leader changes with partial replication: the random search that
    /// reaches Figure 8 (`commit-old-term`) without a scripted schedule.
    public static func targeted(nodes: Int, seed: UInt64, bug: InjectedBug?) -> SimOptions {
        var options = aggressive(nodes: nodes, seed: seed, bug: bug)
        options.minorityTailCrashRate = 0.2
        options.crashAfterCommitRate = 0.05
        return options
    }
}
