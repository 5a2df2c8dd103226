import PagingCore
import RaftCore

/// A flaw planted on purpose so a run can show its checkers catch it (`vigil-nodesim --bug`).
public enum WholeNodeBug: Hashable, Sendable, CaseIterable, RawRepresentable {
    /// One of the scheduler's planted flaws (see `SchedulerInjectedBug`), under the same name.
    case scheduler(SchedulerInjectedBug)
    /// Replicas stamp a command with their own clock when they apply it instead of the leader's timestamp.
    case applyReadsWallClock
    /// The Raft core commits entries of an earlier term by counting replicas (Raft paper §5.4.2, Figure 8).
    case commitOldTerm

    public static var allCases: [WholeNodeBug] {
        SchedulerInjectedBug.allCases.map(Self.scheduler) + [.applyReadsWallClock, .commitOldTerm]
    }

    public var rawValue: String {
        switch self {
        case let .scheduler(bug): bug.rawValue
        case .applyReadsWallClock: "apply-reads-wall-clock"
        case .commitOldTerm: "commit-old-term"
        }
    }

    public init?(rawValue: String) {
        guard let bug = Self.allCases.first(where: { $0.rawValue == rawValue }) else { return nil }
        self = bug
    }

    var schedulerBug: SchedulerInjectedBug? {
        if case let .scheduler(bug) = self { bug } else { nil }
    }

    var coreBug: InjectedBug? { self == .commitOldTerm ? .commitOldTermByCounting : nil }
}

/// What one whole-node run does: cluster size, simulated time, fault rates and the workload's pace.
///
/// Time is simulated milliseconds; one tick is `tickMillis`, split into `stepsPerTick` network steps.
public struct WholeNodeOptions: Sendable {
    public var nodeCount = 3
    public var seed: UInt64 = 1
    public var tickMillis: Int64 = 50
    public var stepsPerTick = 5
    /// A node's defaults in simulated ticks: elections after 0.5–1 s, heartbeats every 100 ms (`NodeConfig.Raft`), so
    /// the simulator sees as few heartbeats per election timeout as a real cluster does.
    public var electionTimeoutTicks = 10
    public var heartbeatIntervalTicks = 2
    /// Simulated time with faults, then time without any for everything owed to go out.
    public var faultMillis: Int64 = 16_000
    public var settleMillis: Int64 = 10_000
    /// At most this long at the very end, with the schedulers stopped, for every replica to apply what committed.
    public var drainMillis: Int64 = 2_000
    /// The paging promise's slack: a page or step is late once `failoverAllowanceMillis` past its deadline, or past
    /// the end of the last failover (a leader that can act again), whichever is later: a commit, a pass and a send
    /// fit in it, with room for lost messages and a slow receiver.
    public var failoverAllowanceMillis: Int64 = 3_000
    /// Once faults stop, a leader must be able to act within this long.
    public var electionBoundMillis: Int64 = 5_000
    /// A proposal not applied within this long is answered "failed" (it may still commit later, as in a node).
    public var proposalTimeoutMillis: Int64 = 400
    public var maxDelaySteps = 5
    public var dropRate = 0.02
    public var duplicateRate = 0.01
    /// Per tick: a partition starts (when none is active) or heals.
    public var partitionRate = 0.004
    public var healRate = 0.03
    /// Per node per tick: a crash; a crashed node restarts with `restartRate` per tick.
    public var crashRate = 0.0008
    public var restartRate = 0.04
    /// Per tick: whoever leads crashes.
    public var leaderCrashRate = 0.002
    /// Per send: the node crashes after its intent committed but before it sends, or after sending but before the
    /// outcome is proposed.
    public var crashAroundSendRate = 0.03
    /// Per write to the log: the write is torn (only some of its entries reach the disk and the node stops), or
    /// its fsync fails (nothing of it counts and the node stops, never continuing as if it succeeded).
    public var tornWriteRate = 0.0005
    public var fsyncFailureRate = 0.0005
    /// Per restart during the faults: the node finds a corrupt record in its log and refuses to start, and the
    /// operator replaces it as `deploy/README.md` says (remove it, add a new node as a learner, which copies the state
    /// from its peers, promote it). One replacement at a time, at most `maxReplacements` a run.
    public var corruptRecordRate = 0.04
    public var maxReplacements = 2
    /// The paging receiver: answers a failure, times out (it got the page but the answer is lost), or answers
    /// twice; answers take 5 ms to `maxReceiverLatencyMillis`.
    public var receiverFailureRate = 0.05
    public var receiverTimeoutRate = 0.03
    public var receiverDuplicateRate = 0.03
    public var maxReceiverLatencyMillis: Int64 = 300
    /// A send starts up to this long after the scheduler asks for it (a channel connecting): the window in which a
    /// leader can be deposed between its committed intent and its send.
    public var maxSendDelayMillis: Int64 = 50
    /// Per tick: a client operation (alert, acknowledgement, resolve, configuration change, heartbeat).
    public var operationRate = 0.12
    /// At every applied index divisible by this a node encodes its state, which is compared byte for byte with the
    /// other replicas' at the same index, and snapshots it and compacts its log. What each entry's apply returned is
    /// compared at every index, and the whole state at the end.
    public var compactEveryEntries = 40
    public var bug: WholeNodeBug?
    public var trace = false

    public init() {}

    /// Faults aimed at the moments the listed bugs need: leaders deposed while they send, lost answers.
    public static func aggressive(nodes: Int, seed: UInt64, bug: WholeNodeBug?) -> WholeNodeOptions {
        var options = WholeNodeOptions()
        options.nodeCount = nodes
        options.seed = seed
        options.bug = bug
        options.partitionRate = 0.02
        options.healRate = 0.04
        options.leaderCrashRate = 0.01
        options.crashAroundSendRate = 0.1
        options.maxSendDelayMillis = 800
        options.dropRate = 0.08
        options.operationRate = 0.3
        return options
    }
}
