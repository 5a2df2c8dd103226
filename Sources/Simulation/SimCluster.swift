import RaftCore

/// Runs Raft cores in one process over a seeded, faulty network; one seed replays one run exactly.
public final class SimCluster {
    public let options: SimOptions
    private var rng: SplitMix64
    private var nodes: [NodeID: SimNode] = [:]
    private var nodeOrder: [NodeID] = []
    private var network = SimNetwork()
    private var checker = SafetyChecker()
    private var clients: [SimClient] = []
    private var tick = 0
    private var step = 0
    private var faultsActive = true
    private var nextValue: UInt64 = 1
    private var nextReadContext: UInt64 = 1
    private var membershipChanges = 0
    private var nextNodeID: NodeID
    public private(set) var stats = SimStats()
    private var traceLines: [String] = []
    private let settings: CoreSettings

    public init(options: SimOptions) {
        self.options = options
        self.rng = SplitMix64(seed: options.seed)
        settings = options.randomizeCoreSettings ? CoreSettings.random(using: &rng) : CoreSettings()
        precondition((1...9).contains(options.nodeCount), "1 to 9 nodes")
        let voters = (1...options.nodeCount).map { NodeID($0) }
        checker = SafetyChecker(initialVoters: voters)
        nextNodeID = NodeID(options.nodeCount + 1)
        for id in voters {
            // A third of the nodes run on a slow or skewed clock.
            let rate = rng.chance(0.33) ? options.minTickRate + (1 - options.minTickRate) * Double(rng.below(1000)) / 1000 : 1
            addNode(SimNode(id: id, bootstrapVoters: voters, tickRate: rate))
        }
        for _ in 0..<options.clientCount { clients.append(SimClient()) }
        log("core settings: \(settings)")
    }

    private func addNode(_ node: SimNode) {
        nodes[node.id] = node
        nodeOrder.append(node.id)
        node.start(options: options, settings: settings, seed: rng.next())
    }

    /// The trace recorded so far (only with `options.trace`).
    public var trace: [String] { traceLines }

    private func log(_ line: @autoclosure () -> String) {
        if options.trace { traceLines.append("[t\(tick)] \(line())") }
    }

    // MARK: - Running

    /// Runs the fault phase, then the liveness phase; throws the first violation.
    public func run() throws(Violation) {
        for _ in 0..<options.faultTicks { try runTick() }
        faultsActive = false
        healEverything()
        log("faults stop; liveness bound \(options.livenessBoundTicks) ticks")
        let deadline = tick + options.livenessBoundTicks
        while tick < deadline {
            try runTick()
            if isQuiescent() { break }
        }
        guard isQuiescent() else {
            throw Violation(property: .liveness, detail: livenessReport(), tick: tick)
        }
        try checkFinalStates()
        stats.ticks = tick
        stats.checks = checker.checks
        stats.committedEntries = Int(checker.committedCount)
    }

    private func runTick() throws(Violation) {
        tick += 1
        if faultsActive { injectFaults() }
        retireRemovedNodes()
        for id in nodeOrder {
            guard let node = nodes[id], let core = node.core, !node.retired else { continue }
            if node.tickRate < 1 && !rng.chance(node.tickRate) { continue }
            core.tick()
            try processReady(node)
        }
        try runClients()
        for _ in 0..<options.stepsPerTick {
            step += 1
            for message in network.due(atStep: step, rng: &rng) {
                try deliver(message)
            }
        }
    }

    private func deliver(_ message: Message) throws(Violation) {
        guard let node = nodes[message.to], let core = node.core, !node.retired else { return }
        if options.traceMessages { log("deliver \(message)") }
        core.step(message)
        try processReady(node)
    }

    private func send(_ message: Message) {
        stats.messagesSent += 1
        guard !(faultsActive && network.isBlocked(from: message.from, to: message.to)) else { return }
        if faultsActive && rng.chance(options.dropRate) { stats.messagesDropped += 1; return }
        network.enqueue(message, atStep: step + 1 + rng.below(options.maxDelaySteps))
        if faultsActive && rng.chance(options.duplicateRate) {
            network.enqueue(message, atStep: step + 1 + rng.below(options.maxDelaySteps * 2))
        }
    }

    /// Handles every Ready in the documented order, with chances to crash between the stages.
    private func processReady(_ node: SimNode) throws(Violation) {
        var rounds = 0
        while let core = node.core, core.hasReady {
            rounds += 1
            precondition(rounds < 1000, "Ready loop does not converge on node \(node.id)")
            let ready = core.ready()
            if let soft = ready.softState, soft.role == .leader { log("node \(node.id) leads term \(soft.term) voters \(core.conf.voters) learners \(core.conf.learners)") }
            // A leader that just committed may die before any message tells its followers.
            let crashAfterCommit = faultsActive && core.role == .leader && !ready.committedEntries.isEmpty
                && rng.chance(options.crashAfterCommitRate)
            if !crashAfterCommit { ready.messages.forEach(send) }
            if faultsActive && rng.chance(options.crashInReadyRate) { crash(node, why: "before persisting"); return }
            node.storage.persist(ready)
            try checker.observePersisted(ready.entries, node: node.id, storage: node.storage, tick: tick)
            if faultsActive && rng.chance(options.crashInReadyRate) { crash(node, why: "after persisting"); return }
            ready.messagesAfterPersist.forEach(send)
            if let snapshot = ready.snapshot {
                try checker.observeSnapshot(snapshot, node: node.id, tick: tick)
                node.stateMachine.restore(snapshot)
                node.lastObservedCommit = max(node.lastObservedCommit, snapshot.index)
            }
            try observeCommit(node, core)
            for entry in ready.committedEntries {
                try checker.observeCommitted(index: entry.index, term: entry.term, kind: entry.kind, data: entry.data, node: node.id, tick: tick)
                node.stateMachine.apply(entry)
                try acknowledgeWrites(node: node, entry: entry)
            }
            if crashAfterCommit {
                crash(node, why: "right after committing through \(ready.committedEntries.last!.index)")
                return
            }
            for read in ready.readStates { node.readsAwaitingApply.append((read.context, read.index)) }
            try answerReads(node)
            core.advance(ready)
            try observeCommit(node, core)
            try observeLeadership(node, core)
            maybeCompact(node, core)
        }
        if let core = node.core { try observeLeadership(node, core) }
    }

    private func observeCommit(_ node: SimNode, _ core: RaftNode) throws(Violation) {
        let commit = core.commitIndex
        guard commit > node.lastObservedCommit else { return }
        for index in (node.lastObservedCommit + 1)...commit {
            guard let entry = core.entry(at: index) else { continue }
            try checker.observeCommitted(index: index, term: entry.term, kind: entry.kind, data: entry.data, node: node.id, tick: tick)
        }
        node.lastObservedCommit = commit
    }

    private func observeLeadership(_ node: SimNode, _ core: RaftNode) throws(Violation) {
        guard core.role == .leader else { return }
        try checker.observeLeader(node.id, term: core.term, tick: tick)
        if node.lastObservedLeaderTerm != core.term {
            node.lastObservedLeaderTerm = core.term
            stats.elections += 1
            try checker.observeNewLeader(core, tick: tick)
        }
    }

    private func maybeCompact(_ node: SimNode, _ core: RaftNode) {
        let applied = node.stateMachine.appliedIndex
        guard applied >= core.snapshotIndex + LogIndex(options.compactEveryEntries), applied == core.appliedIndex else { return }
        if let snapshot = core.compact(through: applied, data: node.stateMachine.encoded) {
            node.storage.compact(snapshot)
            stats.snapshotsTaken += 1
        }
    }

    // MARK: - Faults

    private func injectFaults() {
        if network.partition == nil && rng.chance(options.partitionRate) {
            startPartition()
        } else if network.partition != nil && rng.chance(options.healRate) {
            network.partition = nil
            log("partition heals")
        }
        if rng.chance(options.leaderCrashRate), let leader = currentLeader() { crash(nodes[leader]!, why: "while leading") }
        if options.minorityTailCrashRate > 0, let leader = currentLeader(), let core = nodes[leader]!.core, core.lastIndex > core.commitIndex,
           let tailTerm = core.entry(at: core.lastIndex)?.term {
            let holders = core.conf.voters.filter { nodes[$0]?.storage.term(at: core.lastIndex) == tailTerm }.count
            if holders < core.conf.voters.count / 2 + 1, rng.chance(options.minorityTailCrashRate) {
                crash(nodes[leader]!, why: "with its last entry on \(holders) of \(core.conf.voters.count) voters")
            }
        }
        for id in nodeOrder {
            guard let node = nodes[id], !node.retired else { continue }
            if node.isUp {
                if rng.chance(options.crashRate) { crash(node, why: "at random") }
            } else if rng.chance(options.restartRate) {
                restart(node)
            }
        }
    }

    private func startPartition() {
        let live = nodeOrder.filter { !(nodes[$0]!.retired) }
        guard live.count >= 2 else { return }
        var blocked = Set<SimNetwork.Link>()
        switch rng.below(4) {
        case 0:
            // A random split into two sides.
            let shuffled = live.shuffled(using: &rng)
            let cut = 1 + rng.below(shuffled.count - 1)
            let left = Set(shuffled[..<cut])
            for a in live { for b in live where left.contains(a) != left.contains(b) { blocked.insert(.init(from: a, to: b)) } }
            log("partition: \(left.sorted()) | \(Set(live).subtracting(left).sorted())")
        case 1:
            // The leader alone.
            let leader = currentLeader() ?? live[rng.below(live.count)]
            for other in live where other != leader {
                blocked.insert(.init(from: leader, to: other))
                blocked.insert(.init(from: other, to: leader))
            }
            log("partition: leader \(leader) isolated")
        case 2:
            // The leader with a minority: it can still replicate to a few, but commit nothing new (Figure 8 (a)).
            let leader = currentLeader() ?? live[rng.below(live.count)]
            let others = live.filter { $0 != leader }.shuffled(using: &rng)
            let minority = Set([leader] + others.prefix(max(0, (live.count - 1) / 2 - 1)))
            for a in live { for b in live where minority.contains(a) != minority.contains(b) { blocked.insert(.init(from: a, to: b)) } }
            log("partition: leader side \(minority.sorted()) | \(Set(live).subtracting(minority).sorted())")
        default:
            // One node reaches only some peers, possibly in one direction only.
            let node = live[rng.below(live.count)]
            for other in live where other != node && rng.chance(0.5) {
                blocked.insert(.init(from: node, to: other))
                if rng.chance(0.5) { blocked.insert(.init(from: other, to: node)) }
            }
            log("partition: node \(node) partly cut off \(blocked.map { "\($0.from)→\($0.to)" }.sorted())")
        }
        network.partition = blocked
        stats.partitions += 1
    }

    private func crash(_ node: SimNode, why: String) {
        node.crash()
        stats.crashes += 1
        log("node \(node.id) crashes \(why)")
    }

    private func restart(_ node: SimNode) {
        node.start(options: options, settings: settings, seed: rng.next())
        log("node \(node.id) restarts (term \(node.storage.hardState.term), log \(node.storage.snapshot.index)+\(node.storage.entries.count), voters \(node.core!.conf.voters))")
    }

    private func healEverything() {
        network.partition = nil
        for id in nodeOrder {
            let node = nodes[id]!
            if !node.retired && !node.isUp { restart(node) }
        }
    }

    private func currentLeader() -> NodeID? {
        var best: (NodeID, Term)? = nil
        for id in nodeOrder {
            guard let core = nodes[id]?.core, core.role == .leader, !(nodes[id]!.retired) else { continue }
            if best == nil || core.term > best!.1 { best = (id, core.term) }
        }
        return best?.0
    }

    // MARK: - Clients

    private func runClients() throws(Violation) {
        for position in clients.indices {
            switch clients[position].operation {
            case .idle:
                guard rng.chance(options.operationRate) else { continue }
                if rng.chance(options.readFraction) {
                    clients[position].operation = .read(context: nextReadContext, node: noNode, required: checker.maxAcknowledgedIndex, deadline: 0)
                    nextReadContext += 1
                } else {
                    clients[position].operation = .write(value: nextValue, proposal: nil, node: noNode, deadline: 0)
                    nextValue += 1
                }
                try issue(position)
            case .write(_, let proposal, _, let deadline) where deadline <= tick:
                // Timed out or never placed: try again, possibly elsewhere (writes keep their value).
                if proposal != nil { stats.clientRetries += 1 }
                try issue(position)
            case .read(_, _, _, let deadline) where deadline <= tick:
                try issue(position)
            default:
                break
            }
        }
        if !faultsActive { return }
        if options.leadershipTransfers && rng.chance(0.01), let leader = currentLeader(), let core = nodes[leader]?.core {
            let voters = core.conf.voters.filter { $0 != leader }
            if let target = voters.randomElement(using: &rng), case .success = core.transferLeadership(to: target) {
                stats.transfers += 1
                log("transfer leadership \(leader) → \(target)")
                try processReady(nodes[leader]!)
            }
        }
        if options.membershipChanges && membershipChanges < options.maxMembershipChanges && rng.chance(0.02) {
            try changeMembership()
        }
    }

    /// Picks a node for the client (its last known leader, else any live node) and submits the operation.
    private func issue(_ position: Int) throws(Violation) {
        let live = nodeOrder.filter { nodes[$0]!.isUp && !nodes[$0]!.retired }
        guard !live.isEmpty else { return }
        var target = clients[position].leaderGuess
        if rng.chance(options.randomTargetFraction) { target = noNode }
        if target == noNode || !(nodes[target]?.isUp ?? false) || nodes[target]!.retired { target = live[rng.below(live.count)] }
        let core = nodes[target]!.core!
        let deadline = tick + options.clientTimeoutTicks
        switch clients[position].operation {
        case .write(let value, _, _, _):
            switch core.propose(SimStateMachine.encode(value)) {
            case .success(let proposal):
                clients[position].operation = .write(value: value, proposal: proposal, node: target, deadline: deadline)
            case .failure(let error):
                if case .notLeader(let hint) = error { clients[position].leaderGuess = hint }
                clients[position].operation = .write(value: value, proposal: nil, node: noNode, deadline: tick + 1)
            }
        case .read(let context, _, let required, _):
            // A fresh context per attempt, so a late answer to an abandoned attempt is ignored.
            let attempt = nextReadContext
            nextReadContext += 1
            if case .success = core.readIndex(context: attempt) {
                clients[position].operation = .read(context: attempt, node: target, required: required, deadline: deadline)
            } else {
                clients[position].leaderGuess = core.leader
                clients[position].operation = .read(context: context, node: noNode, required: required, deadline: tick + 1)
            }
        case .idle:
            break
        }
        try processReady(nodes[target]!)
    }

    private func acknowledgeWrites(node: SimNode, entry: Entry) throws(Violation) {
        for position in clients.indices {
            guard case let .write(value, proposal?, target, _) = clients[position].operation, target == node.id, proposal.index == entry.index else { continue }
            if proposal.term == entry.term {
                try checker.observeAcknowledged(index: entry.index, value: value, tick: tick)
                stats.writesAcknowledged += 1
                clients[position].leaderGuess = node.id
                clients[position].operation = .idle
            } else {
                // Our entry was overwritten by another leader's: not committed, retry.
                clients[position].operation = .write(value: value, proposal: nil, node: noNode, deadline: tick + 1)
            }
        }
    }

    private func answerReads(_ node: SimNode) throws(Violation) {
        var waiting: [(context: UInt64, index: LogIndex)] = []
        for read in node.readsAwaitingApply {
            guard node.stateMachine.appliedIndex >= read.index else { waiting.append(read); continue }
            for position in clients.indices {
                guard case let .read(context, target, required, _) = clients[position].operation, context == read.context, target == node.id else { continue }
                try checker.observeRead(node: node.id, servedIndex: node.stateMachine.appliedIndex, requiredIndex: required, tick: tick)
                stats.readsServed += 1
                clients[position].operation = .idle
            }
        }
        node.readsAwaitingApply = waiting
    }

    // MARK: - Membership

    private func changeMembership() throws(Violation) {
        guard let leaderID = currentLeader(), let leaderNode = nodes[leaderID], let core = leaderNode.core else { return }
        let conf = core.conf
        let change: ConfChange
        if let learner = conf.learners.first {
            change = ConfChange(.promoteLearner, node: learner)
        } else if conf.voters.count < options.nodeCount + 1 && rng.chance(0.5) || conf.voters.count <= 2 {
            let newID = nextNodeID
            change = ConfChange(.addLearner, node: newID)
            guard case .success = core.proposeConfChange(change) else { return }
            nextNodeID += 1
            addNode(SimNode(id: newID, bootstrapVoters: [], tickRate: 1))
            membershipChanges += 1
            stats.membershipChanges += 1
            log("propose add learner \(newID)")
            try processReady(leaderNode)
            return
        } else {
            change = ConfChange(.remove, node: conf.voters[rng.below(conf.voters.count)])
        }
        guard case .success = core.proposeConfChange(change) else { return }
        membershipChanges += 1
        stats.membershipChanges += 1
        log("propose \(change.action) \(change.node)")
        try processReady(leaderNode)
    }

    /// Shuts down nodes whose removal is committed, as an operator would after `remove`.
    private func retireRemovedNodes() {
        let conf = checker.committedConf
        for id in checker.everMembers where !conf.isMember(id) {
            guard let node = nodes[id], !node.retired else { continue }
            node.retired = true
            node.crash()
            log("node \(id) removed from the cluster and shut down")
        }
    }

    // MARK: - Liveness

    private func isQuiescent() -> Bool {
        guard let leaderID = currentLeader(), let leader = nodes[leaderID]?.core else { return false }
        guard clients.allSatisfy({ if case .idle = $0.operation { return true } else { return false } }) else { return false }
        let members = leader.conf.members
        for id in members {
            guard let core = nodes[id]?.core, core.term == leader.term, core.leader == leaderID,
                  nodes[id]!.stateMachine.appliedIndex == leader.commitIndex else { return false }
        }
        return leader.commitIndex == leader.lastIndex
    }

    private func livenessReport() -> String {
        var parts: [String] = []
        for id in nodeOrder {
            let node = nodes[id]!
            guard let core = node.core else { parts.append("\(id):\(node.retired ? "retired" : "down")"); continue }
            parts.append("\(id):\(core.role.rawValue) t\(core.term) lead=\(core.leader) commit=\(core.commitIndex) last=\(core.lastIndex) applied=\(node.stateMachine.appliedIndex) voters=\(core.conf.voters)")
        }
        let pending = clients.filter { if case .idle = $0.operation { return false } else { return true } }.count
        return "no quiescent leader within \(options.livenessBoundTicks) ticks; pending client ops \(pending); " + parts.joined(separator: "; ")
    }

    private func checkFinalStates() throws(Violation) {
        guard let leaderID = currentLeader(), let conf = nodes[leaderID]?.core?.conf else { return }
        for id in conf.members {
            let node = nodes[id]!
            try checker.checkFinalState(node.stateMachine.values, appliedIndex: node.stateMachine.appliedIndex, node: id, tick: tick)
        }
    }
}

/// A client with at most one operation in flight.
struct SimClient {
    enum Operation {
        case idle
        case write(value: UInt64, proposal: ProposalID?, node: NodeID, deadline: Int)
        case read(context: UInt64, node: NodeID, required: LogIndex, deadline: Int)
    }

    var operation: Operation = .idle
    var leaderGuess: NodeID = noNode
}

/// Counters of one run, summed over seeds by the runner.
public struct SimStats: Sendable {
    public var ticks = 0
    public var checks = 0
    public var committedEntries = 0
    public var writesAcknowledged = 0
    public var readsServed = 0
    public var clientRetries = 0
    public var elections = 0
    public var crashes = 0
    public var partitions = 0
    public var transfers = 0
    public var membershipChanges = 0
    public var snapshotsTaken = 0
    public var messagesSent = 0
    public var messagesDropped = 0

    public mutating func add(_ other: SimStats) {
        ticks += other.ticks; checks += other.checks; committedEntries += other.committedEntries
        writesAcknowledged += other.writesAcknowledged; readsServed += other.readsServed; clientRetries += other.clientRetries
        elections += other.elections; crashes += other.crashes; partitions += other.partitions; transfers += other.transfers
        membershipChanges += other.membershipChanges; snapshotsTaken += other.snapshotsTaken
        messagesSent += other.messagesSent; messagesDropped += other.messagesDropped
    }
}
