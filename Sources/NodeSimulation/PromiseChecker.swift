import DutyModel
import NodeState
import PagingCore
import RaftCore

/// A broken promise found by a whole-node run: which property, what happened, and when (simulated ms from start).
public struct PromiseViolation: Error, CustomStringConvertible, Sendable {
    /// The properties the checkers hold the cluster to.
    public enum Property: String, Sendable {
        /// Replicas at the same applied index hold different state bytes.
        case replicasDiverged = "replicas-diverged"
        /// A page went out without a committed intent of its sender's term, or from a node not leading that term.
        case unfencedSend = "unfenced-send"
        /// One leader sent the same page twice.
        case sentTwiceInOneTerm = "sent-twice-in-one-term"
        /// One escalation page (ticket, step, person, contact method) went out under two keys.
        case twoKeysForOneStep = "two-keys-for-one-step"
        /// A page went out for a ticket its sender knew to be acknowledged or closed.
        case pagedAfterAcknowledgement = "paged-after-acknowledgement"
        /// A page, step, acknowledgement expiry, missed heartbeat, SLA event or channel inspection was not acted on by
        /// its deadline plus the failover allowance.
        case lateForDeadline = "late-for-deadline"
        /// The log holds two outcomes for one page.
        case outcomeTwice = "outcome-twice"
        /// SLA clocks on the replicas disagree with a computation from the ticket's own history.
        case slaClockWrong = "sla-clock-wrong"
        /// After faults stop, the replicas did not reach the same index, or work stayed in flight.
        case liveness
    }

    public let property: Property
    public let detail: String
    public let atMillis: Int64

    public var description: String { "\(property.rawValue) at \(Double(atMillis) / 1_000) s: \(detail)" }
}

/// Watches a whole-node run from outside: the committed log (as a reference state applied once, in order), every
/// send as it starts, and the clock; throws the first broken promise.
struct PromiseChecker {
    private let allowanceMillis: Int64
    /// The state every replica must reach: each committed entry applied once, in log order.
    private(set) var reference = NodeStateMachine()
    private(set) var referenceIndex: LogIndex = 0
    /// State digests by applied index, with the node that first reached the index.
    private var digests: [LogIndex: (digest: UInt64, node: NodeID)] = [:]
    /// The first replica's state and its bytes at the last few compared indexes. Encoding is a function of the value,
    /// so a replica whose state equals it holds the same bytes and is not encoded again; the end of the run encodes
    /// every replica.
    private var encodedStates: [LogIndex: (machine: NodeStateMachine, bytes: [UInt8])] = [:]
    /// Terms in which each page's intent committed.
    private var intentTerms: [String: Set<UInt64>] = [:]
    private var recordedOutcomes: Set<String> = []
    /// What applying each index did, with the node that applied it first.
    private var outcomes: [LogIndex: (outcome: ApplyOutcome?, node: NodeID)] = [:]
    private var sendsByKeyAndTerm: [String: [UInt64: Int]] = [:]
    /// Keys a receiver was asked to deliver (an attempt counts, whatever the answer).
    private(set) var attempted: Set<String> = []
    private var keyByStepPage: [String: String] = [:]
    /// What the reference state owes, with when the checker first saw it owed.
    private var owedSince: [OwedItem: Timestamp] = [:]
    /// The latest moment something went wrong (a crash, a restart, a partition or its end): deadlines count from it.
    var lastFaultAt: Timestamp = Workload.startMillis
    private(set) var checks = 0

    init(allowanceMillis: Int64, initial: NodeStateMachine, initialIndex: LogIndex) {
        self.allowanceMillis = allowanceMillis
        reference = initial
        referenceIndex = initialIndex
    }

    // MARK: - The log

    /// A node applied `entry` (a normal entry with data); the first to reach its index feeds the reference state.
    /// `command` is the entry's data decoded (once, for every replica).
    mutating func observeApplied(_ entry: Entry, command: ReplicatedCommand?, now: Timestamp) throws(PromiseViolation) {
        guard entry.index == referenceIndex + 1 else { return }
        referenceIndex = entry.index
        guard entry.kind == .normal, !entry.data.isEmpty else { return }
        guard case let .duty(.success(events)) = reference.apply(decoded: command) else { return }
        for event in events {
            switch event.kind {
            case let .pageIntended(key, _, term):
                intentTerms[key, default: []].insert(term)
            case let .pageRecorded(outcome, _):
                checks += 1
                guard recordedOutcomes.insert(outcome.key).inserted else {
                    throw PromiseViolation(property: .outcomeTwice, detail: "page \(outcome.key) has a second outcome at index \(entry.index)",
                                           atMillis: now - Workload.startMillis)
                }
            default: break
            }
        }
    }

    /// The reference skips ahead when a node installs a snapshot past it (the entries between were compacted).
    mutating func observeSnapshot(_ snapshot: Snapshot, machine: NodeStateMachine) {
        guard snapshot.index > referenceIndex else { return }
        reference = machine
        referenceIndex = snapshot.index
    }

    /// What applying the entry at `index` did on a node: every replica must report the same events (cheap, so it runs
    /// at every index; `observeState` compares the state bytes themselves less often).
    mutating func observeOutcome(_ outcome: ApplyOutcome?, index: LogIndex, node: NodeID, now: Timestamp) throws(PromiseViolation) {
        checks += 1
        guard let first = outcomes[index] else {
            outcomes[index] = (outcome, node)
            return
        }
        guard first.outcome == outcome else {
            throw PromiseViolation(property: .replicasDiverged,
                                   detail: "applying index \(index) gave node \(node) \(Self.describe(outcome)) and node \(first.node) \(Self.describe(first.outcome))",
                                   atMillis: now - Workload.startMillis)
        }
    }

    private static func describe(_ outcome: ApplyOutcome?) -> String {
        String(describing: outcome.map { "\($0)" } ?? "nothing").prefix(300) + ""
    }

    /// A node's state bytes at `index`, where it snapshots, checked against the other replicas'.
    mutating func encodeState(_ machine: NodeStateMachine, index: LogIndex, node: NodeID, now: Timestamp) throws(PromiseViolation) -> [UInt8] {
        if let first = encodedStates[index], first.machine == machine {
            try observeState(machine, bytes: first.bytes, index: index, node: node, now: now)
            return first.bytes
        }
        let bytes = machine.snapshotData()
        try observeState(machine, bytes: bytes, index: index, node: node, now: now)
        if encodedStates[index] == nil {
            encodedStates[index] = (machine, bytes)
            if encodedStates.count > 8, let oldest = encodedStates.keys.min() { encodedStates[oldest] = nil }
        }
        return bytes
    }

    /// A node's state at `index`: every replica must hold the same bytes there.
    mutating func observeState(_ machine: NodeStateMachine, bytes: [UInt8], index: LogIndex, node: NodeID, now: Timestamp) throws(PromiseViolation) {
        checks += 1
        // The deadline and outbox indexes are not in the snapshot bytes: compare them with a rebuild instead.
        guard machine.duty.deadlineIndexIsExact() else {
            throw PromiseViolation(property: .replicasDiverged,
                                   detail: "node \(node)'s deadline or outbox index at applied index \(index) differs from a rebuild",
                                   atMillis: now - Workload.startMillis)
        }
        let digest = Self.fnv1a(bytes)
        guard let first = digests[index] else {
            digests[index] = (digest, node)
            return
        }
        guard first.digest == digest else {
            throw PromiseViolation(property: .replicasDiverged,
                                   detail: "node \(node) and node \(first.node) hold different state at applied index \(index)",
                                   atMillis: now - Workload.startMillis)
        }
    }

    static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }

    /// Every ticket's SLA clocks in the reference state against `SLAReference` (the replicas hold the same bytes).
    mutating func checkSLAClocks(now: Timestamp) throws(PromiseViolation) {
        let duty = reference.duty
        let tickets: [Ticket]
        do {
            tickets = try duty.allTickets()
        } catch {
            preconditionFailure("the reference state cannot read its tickets: \(error)")
        }
        for ticket in tickets {
            checks += 1
            if let mismatch = SLAReference.mismatch(in: ticket, state: duty) {
                throw PromiseViolation(property: .slaClockWrong, detail: mismatch, atMillis: now - Workload.startMillis)
            }
        }
    }

    // MARK: - Sends

    /// `node`, whose Raft core is `core` and applied state `state`, starts sending `jobs` (one message).
    mutating func observeSend(_ jobs: [PagingPlan.PageJob], node: NodeID, core: RaftNode?, state: DutyState,
                              now: Timestamp) throws(PromiseViolation) {
        let at = now - Workload.startMillis
        for job in jobs {
            checks += 1
            let key = job.row.key
            guard let core, core.role == .leader, intentTerms[key]?.contains(core.term) == true else {
                let role = core.map { "\($0.role) of term \($0.term)" } ?? "down"
                throw PromiseViolation(property: .unfencedSend,
                                       detail: "node \(node) (\(role)) sends \(key); its intent committed in terms \(intentTerms[key]?.sorted() ?? [])",
                                       atMillis: at)
            }
            let count = sendsByKeyAndTerm[key, default: [:]][core.term, default: 0] + 1
            sendsByKeyAndTerm[key, default: [:]][core.term] = count
            guard count == 1 else {
                throw PromiseViolation(property: .sentTwiceInOneTerm, detail: "node \(node) sends \(key) a second time in term \(core.term)",
                                       atMillis: at)
            }
            if let row = state.outbox[key] {
                if !state.rowWanted(row) {
                    throw PromiseViolation(property: .pagedAfterAcknowledgement,
                                           detail: "node \(node) sends \(key) though ticket \(row.ticketID) is acknowledged or closed in its state",
                                           atMillis: at)
                }
                // Escalation pages only: SLA notices all carry step -1 and tell their target and cycle by key alone.
                if row.ticketID != 0, row.stepIndex >= 0 {
                    let page = "\(row.ticketID)/\(row.stepIndex)/\(row.personID)/\(row.contactMethodID)"
                    if let earlier = keyByStepPage[page], earlier != key {
                        throw PromiseViolation(property: .twoKeysForOneStep, detail: "\(page) sent as \(earlier) and as \(key)", atMillis: at)
                    }
                    keyByStepPage[page] = key
                }
            }
            attempted.insert(key)
        }
    }

    // MARK: - Deadlines

    /// Everything owed by `now` in the reference state was acted on within the allowance, counted from when it
    /// became owed (its deadline, or later: a reopened ticket owes its overdue step from the reopening) or from the
    /// last fault, whichever is later.
    mutating func checkDeadlines(now: Timestamp) throws(PromiseViolation) {
        // Read through `reference.duty` rather than a local copy: this runs every tick, and copying the state's
        // thirty-odd fields costs as much as the scan.
        var owed: [OwedItem] = []
        for row in reference.duty.outbox.intendedRows()
        where row.dueAt <= now && !attempted.contains(row.key) && reference.duty.rowWanted(row) {
            owed.append(OwedItem(what: .intendedPage(key: row.key, term: row.intentTerm ?? 0), dueAt: row.dueAt))
        }
        for recipient in reference.duty.outbox.recipientsDue(until: now) {
            reference.duty.outbox.forEachPlannedDue(of: recipient, until: now) { row in
                if !attempted.contains(row.key), reference.duty.rowWanted(row) {
                    owed.append(OwedItem(what: .plannedPage(key: row.key), dueAt: row.dueAt))
                }
                return true
            }
        }
        for step in reference.duty.dueStepDeadlines(until: now) {
            owed.append(OwedItem(what: .escalationStep(ticketID: step.ticketID, stepIndex: step.stepIndex), dueAt: step.dueAt))
        }
        for expiry in reference.duty.dueAcknowledgementExpiries(until: now) {
            owed.append(OwedItem(what: .acknowledgementExpiry(ticketID: expiry.ticketID), dueAt: expiry.dueAt))
        }
        for monitor in reference.duty.heartbeatMonitors.values where monitor.openIncidentID == nil && monitor.deadline <= now {
            owed.append(OwedItem(what: .missedHeartbeat(monitorID: monitor.id), dueAt: monitor.deadline))
        }
        for inspection in reference.duty.channelInspections.values where inspection.nextDueAt <= now {
            owed.append(OwedItem(what: .inspection(id: inspection.id), dueAt: inspection.nextDueAt))
        }
        for sla in reference.duty.dueSLAEvents(at: now) {
            owed.append(OwedItem(what: .sla(ticketID: sla.ticketID, target: sla.target, isBreach: sla.isBreach), dueAt: sla.dueAt))
        }
        guard !owed.isEmpty else {
            // Most ticks owe nothing: keep the table's storage instead of allocating one per tick.
            owedSince.removeAll(keepingCapacity: true)
            return
        }
        var stillOwed: [OwedItem: Timestamp] = [:]
        stillOwed.reserveCapacity(owed.count)
        for item in owed {
            checks += 1
            let since = owedSince[item] ?? now
            stillOwed[item] = since
            if now - max(since, lastFaultAt) > allowanceMillis {
                throw PromiseViolation(property: .lateForDeadline,
                                       detail: "\(item.what): due at \(Self.seconds(item.dueAt)), owed since \(Self.seconds(since)), last fault at "
                                           + "\(Self.seconds(lastFaultAt)), reference index \(referenceIndex)",
                                       atMillis: now - Workload.startMillis)
            }
        }
        owedSince = stillOwed
    }

    private static func seconds(_ instant: Timestamp) -> String { WholeNodeCluster.seconds(instant - Workload.startMillis) }
}

/// Something the reference state owes by a deadline. A value, so the checker's every-tick bookkeeping builds no text;
/// the text is for a violation's detail.
struct OwedItem: Hashable {
    enum What: Hashable, CustomStringConvertible {
        case intendedPage(key: String, term: UInt64)
        case plannedPage(key: String)
        case escalationStep(ticketID: TicketID, stepIndex: Int)
        case acknowledgementExpiry(ticketID: TicketID)
        case missedHeartbeat(monitorID: String)
        case inspection(id: String)
        case sla(ticketID: TicketID, target: SLATarget, isBreach: Bool)

        var description: String {
            switch self {
            case let .intendedPage(key, term): "page \(key) (intended in term \(term), not sent)"
            case let .plannedPage(key): "page \(key) (not intended)"
            case let .escalationStep(ticketID, stepIndex): "escalation step \(stepIndex) of ticket \(ticketID)"
            case let .acknowledgementExpiry(ticketID): "the acknowledgement of ticket \(ticketID) timing out"
            case let .missedHeartbeat(monitorID): "the missed heartbeat of \(monitorID)"
            case let .inspection(id): "the inspection \(id)"
            case let .sla(ticketID, target, isBreach): "the SLA \(isBreach ? "breach" : "warning") of ticket \(ticketID) (\(target))"
            }
        }
    }

    let what: What
    let dueAt: Timestamp
}
