import HistoryCheck

/// What a drill does to the cluster, and when: faults one at a time, each held for a while and then healed,
/// so that a majority can always make progress once a fault ends (as Jepsen's nemesis schedules do).
public enum DrillScenario: String, Sendable, CaseIterable {
    case leaderKill = "leader-kill", leaderIsolate = "leader-isolate", leaderPause = "leader-pause"
    case partition, diskFull = "disk-full", slowDisk = "slow-disk", powerCut = "power-cut", rollingRestart = "rolling-restart", nodeReplace = "node-replace", random
}

/// One fault of a plan.
public struct PlannedFault: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// kill -9, then start.
        case kill
        /// SIGSTOP, then SIGCONT: a paused leader wakes up believing it leads.
        case pause
        /// Cut from every peer both ways while clients still reach it.
        case isolate
        /// Drops what the node receives from its peers; what it sends still arrives.
        case oneWay = "one-way"
        /// A minority of the nodes (with or without the leader) cut from the rest.
        case partition
        /// Random loss of packets the node receives.
        case loss
        /// A graceful stop and start (leadership handed over first when it leads).
        case restart
        /// The node's data directory fills up: it must stop or refuse writes, lose nothing acknowledged, and
        /// recover once space returns (the drill file's free_disk command frees it, and starts the node if it stopped).
        case diskFull = "disk-full"
        /// Every write of the node's log takes 100–400 ms longer (the persist-delay failpoint).
        case slowDisk = "slow-disk"
        /// Every node killed at once (a power cut of the whole cluster), then all started again: nothing
        /// acknowledged may be lost, which only holds if every acknowledgement waited for the disk.
        case powerCut = "power-cut"
        /// A follower dies with its disk: killed, removed from the members, wiped, added back as a learner with an
        /// empty disk, started, and waited for until it is a voter again.
        case replace

        /// The drill file's commands this fault needs: the fault and its undoing (a replacement: kill, wipe, start).
        public var actions: [DrillFile.Action] {
            switch self {
            case .kill: [.kill, .start]
            case .pause: [.pause, .resume]
            case .isolate, .partition: [.isolate, .heal]
            case .oneWay: [.isolateInbound, .heal]
            case .loss: [.loss, .heal]
            case .restart: [.stop, .start]
            case .diskFull: [.fillDisk, .freeDisk]
            case .replace: [.kill, .wipe, .start]
            case .slowDisk: [.slowDisk, .fastDisk]
            case .powerCut: [.kill, .start]
            }
        }
    }

    /// Whom the fault hits, resolved when it is injected (a partition adds others to reach a minority; a power
    /// cut takes every node).
    public enum Target: Sendable, Equatable {
        case leader
        case follower
    }

    public var atMilliseconds: Int
    public var kind: Kind
    public var target: Target
    public var holdMilliseconds: Int
    /// `loss`: the fraction of packets dropped.
    public var fraction: Double = 0
    /// `slow-disk`: how much longer each log write takes.
    public var delayMilliseconds = 0

    public init(atMilliseconds: Int, kind: Kind, target: Target, holdMilliseconds: Int, fraction: Double = 0, delayMilliseconds: Int = 0) {
        self.atMilliseconds = atMilliseconds
        self.kind = kind
        self.target = target
        self.holdMilliseconds = holdMilliseconds
        self.fraction = fraction
        self.delayMilliseconds = delayMilliseconds
    }
}

/// Draws a drill's faults from its scenario and seed (the same seed, the same plan).
public enum DrillPlan {
    /// Quiet time before the first fault (the workload warms up) and after the last heal (it settles).
    public static let leadInMilliseconds = 3_000
    public static let tailMilliseconds = 3_000

    public static func make(_ scenario: DrillScenario, seed: UInt64, durationMilliseconds: Int, nodeIDs: [Int],
                            available: Set<DrillFile.Action>) throws(DrillError) -> [PlannedFault] {
        var random = SplitMix64(seed: seed)
        func draw(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(random.next() % UInt64(range.count)) }
        let fixed: PlannedFault.Kind?
        switch scenario {
        case .leaderKill: fixed = .kill
        case .leaderIsolate: fixed = .isolate
        case .leaderPause: fixed = .pause
        case .partition: fixed = .partition
        case .diskFull: fixed = .diskFull
        case .slowDisk: fixed = .slowDisk
        case .powerCut: fixed = .powerCut
        case .rollingRestart:
            try require(.restart, available)
            // Followers first, the leader last (it hands over first); each waits until the last one is back.
            return nodeIDs.enumerated().map { index, id in
                PlannedFault(atMilliseconds: leadInMilliseconds + index, kind: .restart, target: index == nodeIDs.count - 1 ? .leader : .follower,
                             holdMilliseconds: 1_000)
            }
        case .nodeReplace:
            try require(.replace, available)
            return [PlannedFault(atMilliseconds: leadInMilliseconds, kind: .replace, target: .follower, holdMilliseconds: 1_000)]
        case .random: fixed = nil
        }
        if let fixed { try require(fixed, available) }
        let kinds = PlannedFault.Kind.allCases.filter { ![.restart, .replace, .powerCut].contains($0) && $0.actions.allSatisfy(available.contains) }
            .filter { $0 != .partition || nodeIDs.count >= 3 }
        guard !kinds.isEmpty else {
            throw DrillError("the drill file gives no pair of commands for any fault (for example kill and start)")
        }
        var plan: [PlannedFault] = []
        var at = leadInMilliseconds
        let end = durationMilliseconds - tailMilliseconds
        while plan.count < 1_000 {
            let kind = fixed ?? kinds[draw(0...(kinds.count - 1))]
            let hold = draw(2_000...5_000)
            guard at + hold <= end else { break }
            let target: PlannedFault.Target = fixed != nil || draw(0...9) < 6 ? .leader : .follower
            plan.append(PlannedFault(atMilliseconds: at, kind: kind, target: target, holdMilliseconds: hold,
                                     fraction: kind == .loss ? Double(draw(10...40)) / 100 : 0,
                                     delayMilliseconds: kind == .slowDisk ? draw(100...400) : 0))
            at += hold + draw(1_500...3_000)
        }
        return plan
    }

    static func require(_ kind: PlannedFault.Kind, _ available: Set<DrillFile.Action>) throws(DrillError) {
        let missing = kind.actions.filter { !available.contains($0) }
        guard missing.isEmpty else {
            throw DrillError("a \(kind.rawValue) fault needs the drill file's commands \(missing.map(\.rawValue).joined(separator: " and "))")
        }
    }

    /// The nodes that cannot reach a majority while `kind` holds on `nodes` (written to faults.jsonl).
    public static func minority(_ kind: PlannedFault.Kind, nodes: [Int], clusterSize: Int) -> [Int] {
        switch kind {
        case .isolate, .oneWay, .partition: nodes.count < clusterSize / 2 + 1 ? nodes.sorted() : []
        case .kill, .pause, .loss, .restart, .diskFull, .replace, .slowDisk, .powerCut: []
        }
    }
}
