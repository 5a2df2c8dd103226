import DutyModel
import NodeState
import PagingCore
import RaftCore
import Simulation

/// One simulated node: a Raft core (nil while down), its disk, the real `NodeStateMachine` it applies to, and the
/// real `SchedulerCore` deciding its paging, on a clock of its own.
final class WholeNode {
    let id: NodeID
    var core: RaftNode?
    var storage: SimStorage
    var machine = NodeStateMachine()
    var applied: LogIndex = 0
    /// The term of the last entry applied: a leader schedules only once its term's first entry is applied.
    var appliedTerm: Term = 0
    var scheduler: SchedulerCore
    /// Bumped by every crash: work started before it is forgotten.
    var epoch = 0
    var nextPassAt: Timestamp = 0
    /// This node's clock runs this far from simulated time.
    let skewMillis: Int64
    var proposals: [ProposalID: (work: SchedulerCore.WorkID, deadline: Timestamp)] = [:]
    var proposalTerm: Term = 0
    /// The state bytes at an index divisible by the compaction interval, kept for the snapshot taken after it.
    var snapshotBytes: (index: LogIndex, bytes: [UInt8])?
    /// Inside `processReady`: work started while applying is picked up by that loop, not by a nested one.
    var handlingReady = false
    /// Refused its log at start-up (a corrupt record) and was replaced: it never runs again.
    var retired = false

    init(id: NodeID, storage: SimStorage, scheduler: SchedulerCore, skewMillis: Int64) {
        self.id = id
        self.storage = storage
        self.scheduler = scheduler
        self.skewMillis = skewMillis
    }

    var isUp: Bool { core != nil }
}

/// The scheduler's view of a simulated node, as `NodePagingHost` gives it a real one.
struct SimulatedPagingHost: PagingStateReader {
    let node: WholeNode

    func leaderTerm() -> UInt64? {
        guard let core = node.core, core.role == .leader, node.appliedTerm == core.term else { return nil }
        return core.term
    }

    func readDuty<T: Sendable>(_ body: (DutyState) -> T) -> T { body(node.machine.duty) }
}

/// Figures of one run (summed over seeds by the runner).
public struct WholeNodeStats: Sendable {
    public var committedEntries = 0
    public var operations = 0
    public var pagesSent = 0
    public var elections = 0
    public var crashes = 0
    public var crashesAroundSends = 0
    public var tornWrites = 0
    public var fsyncFailures = 0
    public var partitions = 0
    public var snapshotsInstalled = 0
    public var corruptRecords = 0
    public var nodesReplaced = 0
    public var checks = 0
    public var maxPageLatenessMillis: Int64 = 0

    mutating func add(_ other: WholeNodeStats) {
        committedEntries += other.committedEntries
        operations += other.operations
        pagesSent += other.pagesSent
        elections += other.elections
        crashes += other.crashes
        crashesAroundSends += other.crashesAroundSends
        tornWrites += other.tornWrites
        fsyncFailures += other.fsyncFailures
        partitions += other.partitions
        snapshotsInstalled += other.snapshotsInstalled
        corruptRecords += other.corruptRecords
        nodesReplaced += other.nodesReplaced
        checks += other.checks
        maxPageLatenessMillis = max(maxPageLatenessMillis, other.maxPageLatenessMillis)
    }

    public var line: String {
        "committed=\(committedEntries) operations=\(operations) pages=\(pagesSent) elections=\(elections) crashes=\(crashes) "
            + "crashes-around-sends=\(crashesAroundSends) torn-writes=\(tornWrites) fsync-failures=\(fsyncFailures) "
            + "partitions=\(partitions) snapshots-installed=\(snapshotsInstalled) "
            + "corrupt-records=\(corruptRecords) nodes-replaced=\(nodesReplaced) checks=\(checks) max-page-lateness-ms=\(maxPageLatenessMillis)"
    }
}

/// Runs whole nodes in one process on simulated time over a seeded, faulty network and paging receiver; one seed
/// replays one run exactly. Nothing here reads the wall clock, a random source other than the seed, or the network.
public final class WholeNodeCluster {
    public let options: WholeNodeOptions
    private var rng: RaftCore.SplitMix64
    /// Draws whether a restart finds a corrupt record, apart from `rng`, so that the draw does not shift the rest of
    /// a run whose disks stay sound.
    private var diskRng: RaftCore.SplitMix64
    private var nodes: [WholeNode] = []
    private var network = SimNetwork()
    private var checker: PromiseChecker
    private var now: Timestamp = Workload.startMillis
    private var step = 0
    private var faultsActive = true
    /// At the end: no scheduler passes or answers, so the log stops growing and the replicas can be compared.
    private var quiescing = false
    private var timers: [(at: Timestamp, sequence: Int, node: Int, epoch: Int, event: TimedEvent)] = []
    private var timerSequence = 0
    private var leaderTerms: [NodeID: Term] = [:]
    private var decodedEntries: [LogIndex: (term: Term, command: ReplicatedCommand?)] = [:]
    private var restoredStates: [UInt64: (bytes: [UInt8], machine: NodeStateMachine)] = [:]
    /// The node that refused its log and the one replacing it (nil until the removal has committed).
    private var replacement: (dead: NodeID, new: NodeID?)?
    private var nextNodeID: NodeID
    /// The acknowledgement links of the pages sent lately, which the workload's people follow.
    private var sentLinks: [(ticketID: TicketID, key: String)] = []
    private static let sentLinksKept = 64
    private let schedulerOptions: SchedulerCore.Options
    public private(set) var stats = WholeNodeStats()
    private var traceLines: [String] = []
    private let stepMillis: Int64

    /// What a timer does when it fires.
    private enum TimedEvent {
        case sendStarts(SchedulerCore.Work)
        case sendAnswered(SchedulerCore.WorkID, DeliveryResult)
        case inspectionAnswered(SchedulerCore.WorkID, count: Int)
        case proposalFailed(SchedulerCore.WorkID)
    }

    public init(options: WholeNodeOptions) {
        precondition((1...7).contains(options.nodeCount), "1 to 7 nodes")
        precondition(options.tickMillis % Int64(options.stepsPerTick) == 0, "a tick must split into whole-millisecond steps")
        self.options = options
        rng = RaftCore.SplitMix64(seed: options.seed)
        diskRng = RaftCore.SplitMix64(seed: options.seed ^ 0x5EED_D15C)
        stepMillis = options.tickMillis / Int64(options.stepsPerTick)
        let initial = Self.initialState
        let voters = (1...options.nodeCount).map { NodeID($0) }
        let snapshot = Snapshot(index: 1, term: 1, conf: ConfState(voters: voters), data: Self.initialStateBytes)
        checker = PromiseChecker(allowanceMillis: options.failoverAllowanceMillis, initial: initial, initialIndex: 1)
        var schedulerOptions = SchedulerCore.Options()
        // Storm control is tested on its own; here it would only blur the deadlines the checker holds pages to.
        schedulerOptions.rateLimitBurst = 1_000
        schedulerOptions.rateLimitRefillMilliseconds = 1
        schedulerOptions.injectedBug = options.bug?.schedulerBug
        self.schedulerOptions = schedulerOptions
        nextNodeID = NodeID(options.nodeCount + 1)
        for id in voters {
            let storage = SimStorage(hardState: HardState(term: 1, vote: noNode, commit: 1), snapshot: snapshot, entries: [])
            let skew = Int64(rng.below(201)) - 100
            nodes.append(WholeNode(id: id, storage: storage, scheduler: SchedulerCore(options: schedulerOptions), skewMillis: skew))
        }
        for node in nodes { start(node) }
    }

    /// Every node starts from one snapshot holding the configuration, as a cluster restored from a backup would; it
    /// is the same for every seed, so it is built once.
    static let initialState: NodeStateMachine = {
        var initial = NodeStateMachine()
        for command in Workload.setup() {
            let proposal = DutyProposal(command: command, leaderTimestamp: Workload.startMillis - 60_000, actor: ActorID("ann"))
            let outcome = initial.apply(ReplicatedCommand.duty(proposal).encoded())
            guard case .duty(.success) = outcome else { preconditionFailure("the simulation's configuration does not apply: \(outcome)") }
        }
        return initial
    }()

    static let initialStateBytes = initialState.snapshotData()

    /// The trace recorded so far (only with `options.trace`).
    public var trace: [String] { traceLines }

    private func log(_ line: @autoclosure () -> String) {
        if options.trace { traceLines.append("[\(Self.seconds(now - Workload.startMillis))] \(line())") }
    }

    /// "12.340 s" from milliseconds, without Foundation.
    static func seconds(_ millis: Int64) -> String {
        let fraction = String(abs(millis % 1_000))
        return "\(millis / 1_000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction) s"
    }

    // MARK: - Running

    /// The fault phase, then the settle phase; throws the first broken promise.
    public func run() throws(PromiseViolation) {
        let faultEnd = Workload.startMillis + options.faultMillis
        let end = faultEnd + options.settleMillis
        while now < faultEnd { try runTick() }
        faultsActive = false
        network.partition = nil
        for node in nodes where !node.isUp && !node.retired { restart(node) }
        checker.lastFaultAt = now
        log("faults stop")
        while now < end { try runTick() }
        // Entries committed in the last moments reach every replica once the schedulers stop proposing.
        quiescing = true
        let drainEnd = now + options.drainMillis
        while now < drainEnd, Set(nodes.filter { !$0.retired }.map(\.applied)).count > 1 { try runTick() }
        try checkConverged()
        stats.checks = checker.checks
        stats.committedEntries = Int(checker.referenceIndex)
    }

    private func runTick() throws(PromiseViolation) {
        if faultsActive { injectFaults() }
        // The failover the promise allows lasts until a leader can act again: elected, its term's first entry applied,
        // in touch with a quorum. How long an election takes depends on lost messages and split votes; once the cluster
        // has given up on a quorum (all but one node down, say) it is an outage. Deadlines count from the end of it.
        if actingLeader() == nil {
            checker.lastFaultAt = now
            if !faultsActive, now - Workload.startMillis - options.faultMillis > options.electionBoundMillis {
                throw PromiseViolation(property: .liveness, detail: "no leader \(options.electionBoundMillis) ms after the faults stopped",
                                       atMillis: now - Workload.startMillis)
            }
        }
        for node in nodes {
            guard let core = node.core else { continue }
            core.tick()
            try processReady(node)
        }
        // Clients stop a little before the end, so the last alerts have time to page.
        if rng.chance(options.operationRate), now < Workload.startMillis + options.faultMillis + options.settleMillis / 2 {
            try clientOperation()
        }
        for _ in 0..<options.stepsPerTick {
            step += 1
            now += stepMillis
            for message in network.due(atStep: step, rng: &rng) { try deliver(message) }
            if quiescing { continue }
            try fireTimers()
            for node in nodes where node.isUp {
                try expireProposals(node)
                if node.isUp, node.nextPassAt <= now { try schedulerPass(node) }
            }
        }
        if !quiescing {
            try replaceRetiredNode()
            try checker.checkDeadlines(now: now)
        }
    }

    private func clock(_ node: WholeNode) -> Timestamp { now + node.skewMillis }

    // MARK: - Raft

    private func start(_ node: WholeNode) {
        var config = Config(id: node.id)
        config.electionTimeoutTicks = options.electionTimeoutTicks
        config.heartbeatIntervalTicks = options.heartbeatIntervalTicks
        config.randomSeed = rng.next()
        config.injectedBug = options.bug?.coreBug
        config.preVote = true
        config.checkQuorum = true
        if node.storage.snapshot.index == 0 {
            // A new member: everything comes from its peers, starting with a snapshot.
            node.machine = NodeStateMachine()
        } else if node.storage.snapshot.index == 1 {
            node.machine = Self.initialState
        } else {
            node.machine = restore(node.storage.snapshot, on: node, source: "its own snapshot")
        }
        node.applied = node.storage.snapshot.index
        node.appliedTerm = node.storage.snapshot.term
        node.core = RaftNode(config: config, persisted: node.storage.persisted)
        node.scheduler.reset()
        node.proposals = [:]
        node.snapshotBytes = nil
        node.nextPassAt = now
    }

    /// The state in a snapshot's bytes. Decoding is a pure function of the bytes, and restarts and installs read the
    /// same few snapshots again and again, so each distinct one is decoded once and the result reused.
    private func restore(_ snapshot: Snapshot, on node: WholeNode, source: String) -> NodeStateMachine {
        let key = PromiseChecker.fnv1a(snapshot.data)
        if let known = restoredStates[key], known.bytes == snapshot.data { return known.machine }
        let machine: NodeStateMachine
        do {
            machine = try NodeStateMachine(snapshotData: snapshot.data)
        } catch {
            preconditionFailure("node \(node.id) cannot read \(source): \(error)")
        }
        if restoredStates.count >= 16 { restoredStates.removeAll(keepingCapacity: true) }
        restoredStates[key] = (snapshot.data, machine)
        return machine
    }

    private func crash(_ node: WholeNode, why: String) {
        node.core = nil
        node.epoch += 1
        node.proposals = [:]
        stats.crashes += 1
        checker.lastFaultAt = now
        log("node \(node.id) crashes \(why)")
    }

    private func restart(_ node: WholeNode) {
        if faultsActive, replacement == nil, stats.corruptRecords < options.maxReplacements, !node.storage.entries.isEmpty,
           diskRng.chance(options.corruptRecordRate) {
            // Start-up reads every record's checksum; a bad one before the tail is damage, not a torn write, and
            // the node refuses its log rather than serve a state it cannot vouch for.
            node.retired = true
            replacement = (node.id, nil)
            stats.corruptRecords += 1
            log("node \(node.id) finds a corrupt record in its log at start-up and refuses to start")
            return
        }
        start(node)
        checker.lastFaultAt = now
        log("node \(node.id) restarts at term \(node.storage.hardState.term), snapshot \(node.storage.snapshot.index) + \(node.storage.entries.count) entries")
    }

    private func send(_ message: Message) {
        guard !(faultsActive && network.isBlocked(from: message.from, to: message.to)) else { return }
        if faultsActive && rng.chance(options.dropRate) { return }
        network.enqueue(message, atStep: step + 1 + rng.below(options.maxDelaySteps))
        if faultsActive && rng.chance(options.duplicateRate) {
            network.enqueue(message, atStep: step + 1 + rng.below(options.maxDelaySteps * 2))
        }
    }

    private func deliver(_ message: Message) throws(PromiseViolation) {
        guard let node = nodes.first(where: { $0.id == message.to }), let core = node.core else { return }
        core.step(message)
        try processReady(node)
    }

    /// Handles every Ready in order: send, persist (which may tear or fail), send what waited for the disk, install
    /// a snapshot, apply, advance.
    private func processReady(_ node: WholeNode) throws(PromiseViolation) {
        guard !node.handlingReady else { return }
        node.handlingReady = true
        defer { node.handlingReady = false }
        var rounds = 0
        while let core = node.core, core.hasReady {
            rounds += 1
            precondition(rounds < 1_000, "Ready loop does not converge on node \(node.id)")
            let ready = core.ready()
            ready.messages.forEach(send)
            if ready.needsPersist && faultsActive {
                if rng.chance(options.fsyncFailureRate) {
                    // The write may or may not be on the disk; the node stops rather than act as if it were.
                    stats.fsyncFailures += 1
                    if rng.chance(0.5) { node.storage.persist(ready) }
                    crash(node, why: "on a failed fsync")
                    return
                }
                if rng.chance(options.tornWriteRate), !ready.entries.isEmpty {
                    // A torn tail: start-up recovery keeps the whole records before the tear and drops the rest.
                    stats.tornWrites += 1
                    var torn = ready
                    torn.entries = Array(ready.entries.prefix(rng.below(ready.entries.count)))
                    torn.hardState = nil
                    torn.snapshot = nil
                    node.storage.persist(torn)
                    crash(node, why: "on a torn write (\(torn.entries.count) of \(ready.entries.count) entries kept)")
                    return
                }
            }
            node.storage.persist(ready)
            ready.messagesAfterPersist.forEach(send)
            if let snapshot = ready.snapshot {
                node.machine = restore(snapshot, on: node, source: "a snapshot it received")
                node.applied = snapshot.index
                node.appliedTerm = snapshot.term
                stats.snapshotsInstalled += 1
                checker.observeSnapshot(snapshot, machine: node.machine)
                log("node \(node.id) installs a snapshot at \(snapshot.index)")
            }
            for entry in ready.committedEntries where entry.index > node.applied {
                try apply(entry, on: node)
            }
            core.advance(ready)
            try observeLeadership(node, core)
            compactIfDue(node, core)
        }
    }

    private func apply(_ entry: Entry, on node: WholeNode) throws(PromiseViolation) {
        var outcome: ApplyOutcome?
        let command = entry.kind == .normal && !entry.data.isEmpty ? decoded(entry) : nil
        if entry.kind == .normal, !entry.data.isEmpty {
            var command = command
            if options.bug == .applyReadsWallClock, case let .duty(proposal)? = command {
                command = .duty(DutyProposal(command: proposal.command, leaderTimestamp: clock(node), actor: proposal.actor,
                                             leaderTerm: proposal.leaderTerm))
            }
            outcome = node.machine.apply(decoded: command)
        }
        node.applied = entry.index
        node.appliedTerm = entry.term
        try checker.observeApplied(entry, command: command, now: now)
        try checker.observeOutcome(outcome, index: entry.index, node: node.id, now: now)
        if entry.index % LogIndex(options.compactEveryEntries) == 0 {
            // One encoding of the state serves the comparison and the node's snapshot.
            let bytes = try checker.encodeState(node.machine, index: entry.index, node: node.id, now: now)
            node.snapshotBytes = (entry.index, bytes)
        }
        // Proposals of this node answered by this index: its own entry, or another that took its place.
        for (id, pending) in node.proposals where id.index <= entry.index {
            node.proposals[id] = nil
            let result: PagingProposalResult
            switch (id.index == entry.index && id.term == entry.term) ? outcome : nil {
            case let .duty(.success(events))?: result = .applied(events)
            case let .duty(.failure(error))?: result = .refused(error)
            default: result = .failed("another entry took its place")
            }
            log("node \(node.id): scheduler entry \(id.index) → \(result)")
            try perform(node.scheduler.proposed(pending.work, result: result, now: clock(node), reader: SimulatedPagingHost(node: node)),
                        on: node)
        }
        if node.core?.role == .leader { node.nextPassAt = min(node.nextPassAt, now) }
    }

    private func observeLeadership(_ node: WholeNode, _ core: RaftNode) throws(PromiseViolation) {
        if core.term != node.proposalTerm {
            // A new term: what this node proposed before may never commit (RaftLoop answers them the same way).
            node.proposalTerm = core.term
            let waiting = node.proposals.sorted { $0.key.index < $1.key.index }
            node.proposals = [:]
            for (_, pending) in waiting {
                try perform(node.scheduler.proposed(pending.work, result: .failed("leadership changed"), now: clock(node),
                                                    reader: SimulatedPagingHost(node: node)), on: node)
            }
        }
        guard core.role == .leader, leaderTerms[node.id] != core.term else { return }
        leaderTerms[node.id] = core.term
        stats.elections += 1
        log("node \(node.id) leads term \(core.term)")
    }

    private func compactIfDue(_ node: WholeNode, _ core: RaftNode) {
        guard let (index, bytes) = node.snapshotBytes, index == node.applied, index == core.appliedIndex, index > core.snapshotIndex else { return }
        node.snapshotBytes = nil
        if let snapshot = core.compact(through: index, data: bytes) {
            node.storage.compact(snapshot)
        }
    }

    /// Each entry's command, decoded once for every replica (and dropped once every replica is past it).
    private func decoded(_ entry: Entry) -> ReplicatedCommand? {
        if let cached = decodedEntries[entry.index], cached.term == entry.term { return cached.command }
        let command = ReplicatedCommand(decoding: entry.data)
        if decodedEntries.count >= 4_096 { decodedEntries.removeAll(keepingCapacity: true) }
        decodedEntries[entry.index] = (entry.term, command)
        return command
    }

    private func expireProposals(_ node: WholeNode) throws(PromiseViolation) {
        // Runs every step on every node and almost never finds one: ask before building the sorted list.
        guard node.proposals.contains(where: { $0.value.deadline <= now }) else { return }
        let expired = node.proposals.filter { $0.value.deadline <= now }.sorted { $0.key.index < $1.key.index }
        for (id, pending) in expired {
            node.proposals[id] = nil
            try perform(node.scheduler.proposed(pending.work, result: .failed("timed out"), now: clock(node),
                                                reader: SimulatedPagingHost(node: node)), on: node)
        }
    }

    // MARK: - Paging

    private func schedulerPass(_ node: WholeNode) throws(PromiseViolation) {
        let (work, sleep) = node.scheduler.pass(now: clock(node), reader: SimulatedPagingHost(node: node))
        node.nextPassAt = now + sleep
        try perform(work, on: node)
    }

    /// Starts the scheduler's work as `PagingScheduler` would: proposals into the log, sends after a short delay.
    private func perform(_ work: [SchedulerCore.Work], on node: WholeNode) throws(PromiseViolation) {
        guard node.isUp else { return }
        for item in work {
            switch item {
            case let .propose(id, command):
                let proposal = DutyProposal(command: command, leaderTimestamp: clock(node), actor: ActorID("scheduler"))
                if let core = node.core, SimulatedPagingHost(node: node).leaderTerm() != nil,
                   case let .success(proposalID) = core.propose(ReplicatedCommand.duty(proposal).encoded()) {
                    node.proposals[proposalID] = (id, now + options.proposalTimeoutMillis)
                    log("node \(node.id) proposes \(command.name) \(command.subject) at \(proposalID.index)")
                } else {
                    schedule(.proposalFailed(id), on: node, after: stepMillis)
                }
            case .send, .sendMail, .inspect:
                schedule(.sendStarts(item), on: node, after: Int64(rng.below(Int(options.maxSendDelayMillis) + 1)))
            case .sendUnfenced:
                break
            case let .lateness(kind, milliseconds):
                if kind == "page" { stats.maxPageLatenessMillis = max(stats.maxPageLatenessMillis, milliseconds) }
            }
        }
        if node.scheduler.takeWakeRequest() { node.nextPassAt = min(node.nextPassAt, now + stepMillis) }
        try processReady(node)
    }

    private func schedule(_ event: TimedEvent, on node: WholeNode, after millis: Int64) {
        timerSequence += 1
        let index = nodes.firstIndex { $0 === node }!
        timers.append((now + millis, timerSequence, index, node.epoch, event))
    }

    private func fireTimers() throws(PromiseViolation) {
        while let next = earliestDueTimer() {
            let timer = timers.remove(at: next)
            let node = nodes[timer.node]
            guard node.isUp, node.epoch == timer.epoch else { continue }
            try fire(timer.event, on: node)
        }
    }

    /// The position of the timer due first (by time, then by when it was set), without building a list: this
    /// runs every step, and most steps fire nothing.
    private func earliestDueTimer() -> Int? {
        var earliest: Int?
        for position in timers.indices where timers[position].at <= now {
            if let best = earliest, (timers[best].at, timers[best].sequence) <= (timers[position].at, timers[position].sequence) { continue }
            earliest = position
        }
        return earliest
    }

    private func fire(_ event: TimedEvent, on node: WholeNode) throws(PromiseViolation) {
        let host = SimulatedPagingHost(node: node)
        switch event {
        case let .proposalFailed(id):
            try perform(node.scheduler.proposed(id, result: .failed("not the leader"), now: clock(node), reader: host), on: node)
        case let .sendStarts(work):
            if faultsActive && rng.chance(options.crashAroundSendRate) {
                stats.crashesAroundSends += 1
                crash(node, why: "between a committed intent and its send")
                return
            }
            switch work {
            case let .send(id, _):
                let (jobs, cancelled) = node.scheduler.pagesToSend(id, reader: host)
                let epoch = node.epoch
                try perform(cancelled, on: node)
                // Proposing the cancelled outcomes writes to the disk, which may fail and stop the node.
                guard !jobs.isEmpty, node.isUp, node.epoch == epoch else { return }
                try checker.observeSend(jobs, node: node.id, core: node.core, state: node.machine.duty, now: now)
                stats.pagesSent += jobs.count
                sentLinks.append(contentsOf: jobs.map { ($0.row.ticketID, $0.row.key) })
                if sentLinks.count > Self.sentLinksKept { sentLinks.removeFirst(sentLinks.count - Self.sentLinksKept) }
                log("node \(node.id) sends \(jobs.map(\.row.key))")
                schedule(.sendAnswered(id, receiverAnswer()), on: node, after: 5 + Int64(rng.below(Int(options.maxReceiverLatencyMillis))))
            case let .sendMail(id, _):
                guard node.scheduler.mayStillSend(id, leaderTerm: host.leaderTerm()) else {
                    try perform([], on: node)
                    return
                }
                schedule(.sendAnswered(id, receiverAnswer()), on: node, after: 5 + Int64(rng.below(Int(options.maxReceiverLatencyMillis))))
            case let .inspect(id, inspection):
                guard node.scheduler.mayStillSend(id, leaderTerm: host.leaderTerm()) else {
                    try perform([], on: node)
                    return
                }
                schedule(.inspectionAnswered(id, count: inspection.targets.count), on: node, after: 20)
            default:
                preconditionFailure("not a send: \(work)")
            }
        case let .sendAnswered(id, result):
            if faultsActive && rng.chance(options.crashAroundSendRate) {
                stats.crashesAroundSends += 1
                crash(node, why: "between a send and its outcome")
                return
            }
            try perform(node.scheduler.sent(id, result: result, now: clock(node)), on: node)
        case let .inspectionAnswered(id, count):
            // A failed inspection opens a ticket on its service, which pages like any other.
            try perform(node.scheduler.inspected(id, results: (0..<count).map { _ in receiverAnswer() }), on: node)
        }
    }

    /// What the paging receiver answers: mostly delivered; sometimes a failure, a timeout after it took the page,
    /// or (a retrying channel) the page twice, which the receiver de-duplicates by key.
    private func receiverAnswer() -> DeliveryResult {
        if rng.chance(options.receiverFailureRate) {
            return .failed(rng.chance(0.5) ? .permanent : .transient, detail: "receiver said no", attempts: 1 + rng.below(3))
        }
        if rng.chance(options.receiverTimeoutRate) { return .failed(.transient, detail: "timed out", attempts: 3) }
        return .delivered(attempts: rng.chance(options.receiverDuplicateRate) ? 2 : 1)
    }

    // MARK: - Clients and faults

    private func currentLeader() -> WholeNode? {
        nodes.filter { SimulatedPagingHost(node: $0).leaderTerm() != nil }.max { $0.core!.term < $1.core!.term }
    }

    private func clientOperation() throws(PromiseViolation) {
        guard let leader = currentLeader(), let core = leader.core else { return }
        let operation = Workload.operation(rng: &rng, now: clock(leader), state: leader.machine.duty, links: sentLinks)
        let proposal = DutyProposal(command: operation.command, leaderTimestamp: clock(leader), actor: operation.actor,
                                    leaderTerm: operation.pagesInItsEntry ? core.term : nil)
        if case .success = core.propose(ReplicatedCommand.duty(proposal).encoded()) {
            stats.operations += 1
            log("client → node \(leader.id): \(operation.label)")
        }
        try processReady(leader)
    }

    private func injectFaults() {
        if network.partition == nil && rng.chance(options.partitionRate) {
            startPartition()
        } else if network.partition != nil && rng.chance(options.healRate) {
            network.partition = nil
            checker.lastFaultAt = now
            log("partition heals")
        }
        if rng.chance(options.leaderCrashRate), let leader = currentLeader() { crash(leader, why: "while leading") }
        for node in nodes where !node.retired {
            if node.isUp {
                if rng.chance(options.crashRate) { crash(node, why: "at random") }
            } else if rng.chance(options.restartRate) {
                restart(node)
            }
        }
    }

    /// The node that can schedule pages and commit them: it leads the highest term among live nodes, has applied its
    /// term's first entry, and is up with a majority of the nodes that it reaches both ways.
    private func actingLeader() -> WholeNode? {
        let up = nodes.filter(\.isUp)
        guard let highest = up.compactMap({ $0.core?.term }).max(),
              let leader = up.first(where: { SimulatedPagingHost(node: $0).leaderTerm() == highest }) else { return nil }
        let voters = leader.core!.conf.voters
        return answering(leader).count(where: { voters.contains($0.id) }) >= voters.count / 2 + 1 ? leader : nil
    }

    /// The nodes that are up and that `leader` reaches both ways (itself included).
    private func answering(_ leader: WholeNode) -> [WholeNode] {
        nodes.filter { peer in
            peer.isUp && (peer === leader || network.partition.map {
                !$0.contains(.init(from: leader.id, to: peer.id)) && !$0.contains(.init(from: peer.id, to: leader.id))
            } ?? true)
        }
    }

    private func startPartition() {
        let ids = nodes.filter { !$0.retired }.map(\.id)
        var blocked = Set<SimNetwork.Link>()
        // The leader cut off alone (deposed while it may be sending), or a random split.
        let isolated: Set<NodeID>
        if rng.chance(0.5), let leader = currentLeader() {
            isolated = [leader.id]
        } else {
            let shuffled = ids.shuffled(using: &rng)
            isolated = Set(shuffled.prefix(1 + rng.below(max(1, ids.count - 1))))
        }
        for a in ids { for b in ids where isolated.contains(a) != isolated.contains(b) { blocked.insert(.init(from: a, to: b)) } }
        network.partition = blocked
        stats.partitions += 1
        checker.lastFaultAt = now
        log("partition: \(isolated.sorted()) | \(Set(ids).subtracting(isolated).sorted())")
    }

    // MARK: - Replacing a node

    /// The operator's side of replacing a node that refused its log, one step a tick through whoever acts as
    /// leader: remove the dead member, start a new node with an empty disk and add it as a learner (it copies the
    /// state from its peers); the leader promotes it once it has caught up, by the rule a real leader follows. Each
    /// step is repeated until the leader's committed membership shows it, since a leader can lose its proposal to a
    /// crash or a partition.
    private func replaceRetiredNode() throws(PromiseViolation) {
        guard let (dead, new) = replacement, let leader = actingLeader(), let core = leader.core else { return }
        let conf = core.conf
        let change: ConfChange
        if conf.isMember(dead) {
            // As `vigil member remove` refuses (`would_lose_quorum`), the operator waits until a majority of the
            // voters left answer the leader.
            let remaining = conf.voters.filter { $0 != dead }
            let live = answering(leader).count { remaining.contains($0.id) }
            guard live >= remaining.count / 2 + 1 else { return }
            change = ConfChange(.remove, node: dead)
        } else if let new {
            if !conf.isMember(new) {
                change = ConfChange(.addLearner, node: new)
            } else if conf.isLearner(new) {
                // What a real leader does by itself once the learner has caught up (`RaftLoop`).
                guard core.caughtUpLearner() == new else { return }
                change = ConfChange(.promoteLearner, node: new)
            } else {
                replacement = nil
                stats.nodesReplaced += 1
                log("node \(new) replaced node \(dead): voters \(conf.voters)")
                return
            }
        } else {
            let id = nextNodeID
            nextNodeID += 1
            let node = WholeNode(id: id, storage: SimStorage(), scheduler: SchedulerCore(options: schedulerOptions),
                                 skewMillis: Int64(rng.below(201)) - 100)
            nodes.append(node)
            start(node)
            replacement = (dead, id)
            log("node \(id) starts with an empty disk to replace node \(dead)")
            return
        }
        // Refused while another change is uncommitted, or a learner is still behind: the next tick tries again.
        guard case let .success(proposal) = core.proposeConfChange(change) else { return }
        log("node \(leader.id) proposes \(change.action) of node \(change.node) at \(proposal.index)")
        try processReady(leader)
    }

    // MARK: - The end

    private func checkConverged() throws(PromiseViolation) {
        let at = now - Workload.startMillis
        if let replacement {
            throw PromiseViolation(property: .liveness, detail: "node \(replacement.dead) refused its log and was not replaced "
                                   + "\(options.settleMillis) ms after the faults stopped", atMillis: at)
        }
        let live = nodes.filter { !$0.retired }
        let indexes = live.map(\.applied)
        guard Set(indexes).count == 1 else {
            throw PromiseViolation(property: .liveness, detail: "after \(options.settleMillis + options.drainMillis) ms without faults the replicas applied \(indexes)",
                                   atMillis: at)
        }
        // Encoding is a function of the value: a replica `==` to one already encoded has its bytes.
        var encoded: [(machine: NodeStateMachine, bytes: [UInt8])] = []
        for node in live {
            let bytes = encoded.first { $0.machine == node.machine }?.bytes ?? node.machine.snapshotData()
            if !encoded.contains(where: { $0.bytes == bytes }) { encoded.append((node.machine, bytes)) }
            try checker.observeState(node.machine, bytes: bytes, index: node.applied, node: node.id, now: now)
        }
        try checker.checkSLAClocks(now: now)
    }
}
