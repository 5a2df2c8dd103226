import DutyModel

/// What the scheduler's decisions read from their node: leadership and the applied duty state.
public protocol PagingStateReader {
    /// This node's term while it is the leader; nil on followers and candidates.
    func leaderTerm() -> UInt64?
    /// Reads the applied state; `body` copies out what it needs and returns quickly (the log waits for the lock).
    func readDuty<T: Sendable>(_ body: (DutyState) -> T) -> T
}

/// A flaw the whole-node simulator plants in the scheduler to show that its checkers catch it (never set in
/// production; `vigil-sim --whole-node --bug`).
public enum SchedulerInjectedBug: String, Sendable, CaseIterable {
    /// Pages go out as soon as their intent is proposed, before it commits.
    case sendBeforeIntentCommits = "send-before-intent-commits"
    /// No check that this node still leads the intent's term before a send.
    case noFencingBeforeSend = "no-fencing-before-send"
    /// A new leader ignores rows an earlier leader intended and never recorded an outcome for.
    case forgetUnfinishedIntents = "forget-unfinished-intents"
    /// An outcome whose proposal got no answer is taken as lost: the page is sent again in the same term and its
    /// outcome recorded again, instead of proposing the kept outcome once more.
    case outcomeRecordedTwice = "outcome-recorded-twice"
}

/// The paging scheduler's decisions (DESIGN §4) with no clock, no tasks and no channels: each call takes the time
/// and what finished, and returns the work to start. `PagingScheduler` drives it with the node's clock, tasks and
/// channels; the whole-node simulator drives the same decisions on simulated time.
///
/// It claims each page with a committed `recordPageIntents` of its term before sending, lets a send start only
/// while the node still leads that term (`mayStillSend`), and records the outcome. Nothing it keeps is needed for
/// correctness: a new leader's first plan finds every page without an outcome and sends it again under its key.
public struct SchedulerCore: Sendable {
    /// Names one piece of work in flight; its completion comes back with it.
    public typealias WorkID = UInt64

    /// Work for the driver to start; each finishes with a call back into the core naming its id.
    public enum Work: Sendable {
        /// Propose one command (stamped by the leader, acting as the scheduler); then `proposed(_:result:…)`.
        case propose(WorkID, DutyCommand)
        /// One message for the pages `pagesToSend` still names right before sending (these, or fewer, or none);
        /// then `sent(_:result:…)`.
        case send(WorkID, [PagingPlan.PageJob])
        /// One customer mail, fenced like a page; then `sent(_:result:…)`.
        case sendMail(WorkID, CustomerMail)
        /// A test message to each target, fenced like a page; then `inspected(_:results:)`.
        case inspect(WorkID, PagingPlan.InspectionDue)
        /// `unsafeUnfencedPages` only: send now, record nothing.
        case sendUnfenced([PagingPlan.PageJob])
        /// How late an action ran (actual − due), per kind ("page", "escalation", "sla", "heartbeat", "inspection").
        case lateness(kind: String, milliseconds: Int64)
    }

    /// How the core decides.
    public struct Options: Sendable {
        public var maxSleepMilliseconds: Int64 = 1_000
        public var rateLimitBurst = 5
        public var rateLimitRefillMilliseconds: Int64 = 12_000
        /// See `PagingSchedulerConfiguration.unsafeUnfencedPages`.
        public var unsafeUnfencedPages = false
        /// Whether customer mail rows are taken (a relay is configured); otherwise they wait in the outbox.
        public var sendsCustomerMail = false
        public var injectedBug: SchedulerInjectedBug?

        public init() {}
    }

    /// What one work item was started for, kept until it finishes.
    private enum Pending {
        case steps([StepItem], term: UInt64)
        case intents([PagingPlan.PageJob], term: UInt64)
        case outcomes([PageOutcome], term: UInt64)
        case sla([PagingPlan.SLADue])
        case heartbeat(monitorID: String, dueAt: Timestamp)
        case expiries([(ticketID: TicketID, dueAt: Timestamp)])
        case inspectionResult(PagingPlan.InspectionDue)
        case reminders(keys: [String])
        case mailIntents([CustomerMail], term: UInt64)
        case sending([PagingPlan.PageJob], term: UInt64)
        case sendingMail(CustomerMail, term: UInt64)
        case inspecting(PagingPlan.InspectionDue, term: UInt64)
    }

    private struct StepItem {
        let step: EscalationStep
        let record: EscalationStepRecord
        let intending: [String]
    }

    public let options: Options
    /// Keys of work in hand (outbox keys, step keys, SLA/heartbeat/inspection keys).
    private var busy: Set<String> = []
    /// Sent pages whose outcome proposal failed while this node still led: retried without sending again.
    private var awaitingOutcome: [String: PageOutcome] = [:]
    private var limiter: PageRateLimiter
    /// The term this core last acted in; nil while the node does not lead.
    public private(set) var ledTerm: UInt64?
    /// Keys whose command the model refused, with when to try again: a refusal does not change by itself,
    /// and retrying at once would fill the log with refused entries.
    private var refusedUntil: [String: Timestamp] = [:]
    /// When each key was last refused: a first refusal is usually a plan that raced a commit and is retried
    /// at once; a second within the back-off means the model and the plan disagree, so the key waits.
    private var lastRefusedAt: [String: Timestamp] = [:]
    /// Page keys sent under `unsafeUnfencedPages` (each once per process; cleared when it grows past a bound).
    private var unfencedSent: Set<String> = []
    private var pending: [WorkID: Pending] = [:]
    private var nextWorkID: WorkID = 1
    /// Set when something in hand was let go: the driver should plan again soon.
    private var wakeRequested = false

    static let refusalBackoffMilliseconds: Int64 = 5_000
    /// Shortest sleep while everything due is already in hand (its commit's signal wakes the scheduler sooner).
    static let inHandSleepMilliseconds: Int64 = 50
    /// How long a due SLA warning or breach may wait for others to share its log entry.
    static let slaBatchWindowMilliseconds: Int64 = 250
    static let maxUnfencedKeys = 100_000

    public init(options: Options) {
        precondition(options.maxSleepMilliseconds >= 1, "the scheduler must sleep at least a millisecond")
        self.options = options
        limiter = PageRateLimiter(burst: options.rateLimitBurst, refillMilliseconds: options.rateLimitRefillMilliseconds)
    }

    /// Work in flight (bounded by what one node can have in hand; the simulator asserts it drains).
    public var pendingCount: Int { pending.count }

    /// Whether something was let go since the last call: the driver should plan again (once).
    public mutating func takeWakeRequest() -> Bool {
        defer { wakeRequested = false }
        return wakeRequested
    }

    /// Forgets everything in hand, as a restarted process would (the simulator crashes nodes with it).
    public mutating func reset() { self = SchedulerCore(options: options) }

    // MARK: - Planning

    /// One plan at `now`: the work to start and how long to sleep at most before the next pass.
    public mutating func pass(now: Timestamp, reader: some PagingStateReader) -> (work: [Work], sleepMilliseconds: Int64) {
        guard let term = reader.leaderTerm() else {
            ledTerm = nil
            awaitingOutcome = [:]
            if options.unsafeUnfencedPages { return unfencedPass(now: now, reader: reader) }
            return ([], options.maxSleepMilliseconds)
        }
        if ledTerm != term {
            ledTerm = term
            // Outcomes of an earlier term are the new leader's business now (it re-sends those pages).
            awaitingOutcome = [:]
        }
        var work: [Work] = []
        refusedUntil = refusedUntil.filter { $0.value > now }
        lastRefusedAt = lastRefusedAt.filter { now - $0.value < Self.refusalBackoffMilliseconds }
        let inHand = busy.union(awaitingOutcome.keys).union(refusedUntil.keys)
        let tokens = limiter
        var plan = reader.readDuty { state in
            PagingPlan.make(state, now: now, term: term, busy: inHand) {
                tokens.available(personID: $0.personID, contactMethodID: $0.contactMethodID, now: now)
            }
        }
        if options.injectedBug == .forgetUnfinishedIntents {
            plan.toIntend.removeAll { $0.row.intentTerm != nil }
        }
        var wakeAt = plan.nextDeadline
        func wakeForToken(_ recipient: PagingPlan.Recipient) {
            if let next = limiter.nextTokenAt(personID: recipient.personID, contactMethodID: recipient.contactMethodID) {
                wakeAt = min(wakeAt ?? next, next)
            }
        }
        for held in plan.heldRecipients { wakeForToken(held) }

        if !awaitingOutcome.isEmpty {
            let outcomes = awaitingOutcome.values.sorted { $0.key < $1.key }
            awaitingOutcome = [:]
            claim(outcomes.map(\.key))
            work.append(start(.outcomes(outcomes, term: term), proposing: .recordPageOutcomes(outcomes)))
        }
        // Steps due together go in one entry per batch, like the SLA stream: an alert storm must not flood the log.
        var stepItems: [StepItem] = []
        for step in plan.steps {
            if options.unsafeUnfencedPages { work += unfencedWork(step, now: now, reader: reader) }
            claim([PagingPlan.stepKey(step)])
            // Pages due at once are intended with the step itself when storm control lets all of them go now;
            // otherwise they are only planned and wait for a token like any other page.
            let immediate = reader.readDuty { state in
                ((try? state.notificationPlan(for: step, readerRole: .admin).get()) ?? []).filter { $0.dueAt <= now }
            }
            let allowed = immediate.allSatisfy { limiter.available(personID: $0.personID, contactMethodID: $0.contactMethodID, now: now) }
            var intending: [String] = []
            if allowed {
                for page in immediate { _ = limiter.take(personID: page.personID, contactMethodID: page.contactMethodID, now: now) }
                // Claimed before the entry commits, so a plan made after it applies does not send them too.
                intending = immediate.map(\.idempotencyKey)
                claim(intending)
            }
            let record = EscalationStepRecord(ticketID: step.ticketID, stepIndex: step.stepIndex, intendDuePages: !intending.isEmpty)
            stepItems.append(StepItem(step: step, record: record, intending: intending))
        }
        for batch in Self.batches(stepItems) {
            let records = batch.map(\.record)
            let command = DutyCommand.recordEscalationSteps(records, leaderTerm: records.contains(where: \.intendDuePages) ? term : nil)
            work.append(start(.steps(batch, term: term), proposing: command))
        }
        for (group, jobs) in Self.grouped(plan.toIntend) {
            guard limiter.take(personID: group.personID, contactMethodID: group.contactMethodID, now: now) else {
                wakeForToken(group)
                continue
            }
            let keys = jobs.map(\.row.key)
            claim(keys)
            work.append(start(.intents(jobs, term: term), proposing: .recordPageIntents(keys: keys, leaderTerm: term)))
            if options.injectedBug == .sendBeforeIntentCommits { work.append(startSend(jobs, term: term)) }
        }
        for (group, jobs) in Self.grouped(plan.toSend) {
            // Rows of this term that this process did not claim were intended by the entry that registered their
            // alert: they took no token yet, and storm control holds them like any other page.
            guard limiter.take(personID: group.personID, contactMethodID: group.contactMethodID, now: now) else {
                wakeForToken(group)
                continue
            }
            claim(jobs.map(\.row.key))
            work.append(startSend(jobs, term: term))
        }
        if !plan.toCancel.isEmpty {
            let outcomes = plan.toCancel.map {
                PageOutcome(key: $0.key, result: .cancelled, attempts: 0, detail: "the ticket was acknowledged or closed before sending")
            }
            claim(outcomes.map(\.key))
            work.append(start(.outcomes(outcomes, term: term), proposing: .recordPageOutcomes(outcomes)))
        }
        // One entry per batch, not one per ticket: a backlog whose deadlines fall due together (tens of thousands
        // of consultations, an alert storm) must not flood the log. Items are held until the oldest has waited
        // `slaBatchWindowMilliseconds` (a breach is recorded at its deadline whenever it is written), so a steady
        // stream of deadlines makes a few entries a second, not one per pass.
        if let oldest = plan.sla.map(\.dueAt).min() {
            if plan.sla.count >= DutyLimits.maxSchedulerBatch || now - oldest >= Self.slaBatchWindowMilliseconds {
                for batch in Self.batches(plan.sla) {
                    claim(batch.map(PagingPlan.slaKey))
                    let records = batch.map { SLAEventRecord(ticketID: $0.ticketID, target: $0.target, isBreach: $0.isBreach) }
                    work.append(start(.sla(batch), proposing: .recordSLAEvents(records)))
                }
            } else {
                let flushAt = oldest + Self.slaBatchWindowMilliseconds
                wakeAt = min(wakeAt ?? flushAt, flushAt)
            }
        }
        for heartbeat in plan.heartbeats {
            claim([PagingPlan.heartbeatKey(heartbeat.monitorID)])
            work.append(start(.heartbeat(monitorID: heartbeat.monitorID, dueAt: heartbeat.dueAt),
                              proposing: .heartbeatMissed(monitorID: heartbeat.monitorID)))
        }
        for batch in Self.batches(plan.acknowledgementExpiries) {
            claim(batch.map { PagingPlan.acknowledgementKey($0.ticketID) })
            work.append(start(.expiries(batch), proposing: .expireAcknowledgements(ticketIDs: batch.map(\.ticketID))))
        }
        for inspection in plan.inspections {
            claim([PagingPlan.inspectionKey(inspection.inspectionID)])
            let id = allocate(.inspecting(inspection, term: term))
            work.append(.inspect(id, inspection))
        }
        if options.sendsCustomerMail { work += customerMailWork(term: term, inHand: inHand, reader: reader) }
        let reminders = reader.readDuty { $0.dueHandoffReminders(at: now) }.filter { !inHand.contains(Self.reminderKey($0)) }
        if !reminders.isEmpty {
            let keys = reminders.map(Self.reminderKey)
            claim(keys)
            work.append(start(.reminders(keys: keys), proposing: .recordHandoffReminders(reminders)))
        }
        limiter.forgetFull(now: now)
        guard var wakeAt else { return (work, options.maxSleepMilliseconds) }
        if let retry = refusedUntil.values.min() { wakeAt = min(wakeAt, retry) }
        // A deadline already past is work in hand now (or refused): wait for its commit, not a busy loop.
        let sleep = wakeAt <= now ? Self.inHandSleepMilliseconds : min(wakeAt - now, options.maxSleepMilliseconds)
        return (work, sleep)
    }

    /// Mail rows are due as soon as they exist, and there are few: each pass takes those not in hand, intends the
    /// new ones in one entry of this term and sends what committed, as pages are.
    private mutating func customerMailWork(term: UInt64, inHand: Set<String>, reader: some PagingStateReader) -> [Work] {
        let rows = reader.readDuty { state in
            state.customerBook.mailOutbox.values.filter { !inHand.contains($0.key) }.sorted { $0.key < $1.key }
                .prefix(DutyLimits.maxPagesPerCommand).map { ($0, $0.intentTerm == term) }
        }
        guard !rows.isEmpty else { return [] }
        claim(rows.map(\.0.key))
        // Intended in this term already (the process lost its hand on them): send without a new intent.
        var work = rows.filter(\.1).map { startMail($0.0, term: term) }
        let fresh = rows.filter { !$0.1 }.map(\.0)
        if !fresh.isEmpty {
            work.append(start(.mailIntents(fresh, term: term), proposing: .recordPageIntents(keys: fresh.map(\.key), leaderTerm: term)))
        }
        return work
    }

    /// `unsafeUnfencedPages` on a node that does not lead: it pages the steps it sees due and records nothing.
    private mutating func unfencedPass(now: Timestamp, reader: some PagingStateReader) -> (work: [Work], sleepMilliseconds: Int64) {
        let plan = reader.readDuty { PagingPlan.make($0, now: now, term: 0, busy: []) }
        var work: [Work] = []
        for step in plan.steps { work += unfencedWork(step, now: now, reader: reader) }
        guard let next = plan.nextDeadline, next > now else { return (work, Self.inHandSleepMilliseconds) }
        return (work, min(next - now, options.maxSleepMilliseconds))
    }

    private mutating func unfencedWork(_ step: EscalationStep, now: Timestamp, reader: some PagingStateReader) -> [Work] {
        let jobs = reader.readDuty { state in
            ((try? state.notificationPlan(for: step, readerRole: .admin).get()) ?? []).filter { $0.dueAt <= now }
                .map { PagingPlan.job(for: OutboxPage.planned(by: step, $0), in: state) }
        }
        if unfencedSent.count > Self.maxUnfencedKeys { unfencedSent = [] }
        return jobs.filter { unfencedSent.insert($0.row.key).inserted }.map { .sendUnfenced([$0]) }
    }

    // MARK: - Completions

    /// Whether the send of work `id` (a customer mail or an inspection; pages use `pagesToSend`) may start now, with
    /// the node leading `leaderTerm`: only in the term its intent committed in. When not, the work is over and its keys are let go (a later leader sends them).
    public mutating func mayStillSend(_ id: WorkID, leaderTerm: UInt64?) -> Bool {
        guard let item = pending[id] else { preconditionFailure("no send \(id) in flight") }
        let term: UInt64, keys: [String]
        switch item {
        case let .sending(jobs, itemTerm): (term, keys) = (itemTerm, jobs.map(\.row.key))
        case let .sendingMail(mail, itemTerm): (term, keys) = (itemTerm, [mail.key])
        case let .inspecting(inspection, itemTerm): (term, keys) = (itemTerm, [PagingPlan.inspectionKey(inspection.inspectionID)])
        default: preconditionFailure("work \(id) is not a send")
        }
        if options.injectedBug == .noFencingBeforeSend || leaderTerm == term { return true }
        pending[id] = nil
        release(keys, now: nil)
        return false
    }

    /// The pages of send `id` to put in its message now: none unless this node still leads the intent's term
    /// (`mayStillSend`), and none whose ticket was acknowledged or closed since the plan; those get a cancelled
    /// outcome (the returned work) instead of a page.
    public mutating func pagesToSend(_ id: WorkID, reader: some PagingStateReader) -> (jobs: [PagingPlan.PageJob], work: [Work]) {
        guard mayStillSend(id, leaderTerm: reader.leaderTerm()) else { return ([], []) }
        guard case let .sending(jobs, term)? = pending[id] else { preconditionFailure("work \(id) is not a page send") }
        let wanted = reader.readDuty { state in
            jobs.map { job in state.outbox[job.row.key].map(state.rowWanted) ?? false }
        }
        let keep = zip(jobs, wanted).filter(\.1).map(\.0)
        let drop = zip(jobs, wanted).filter { !$0.1 }.map(\.0)
        guard !drop.isEmpty else { return (jobs, []) }
        pending[id] = keep.isEmpty ? nil : .sending(keep, term: term)
        let outcomes = drop.map {
            PageOutcome(key: $0.row.key, result: .cancelled, attempts: 0, detail: "the ticket was acknowledged or closed before sending")
        }
        return (keep, [start(.outcomes(outcomes, term: term), proposing: .recordPageOutcomes(outcomes))])
    }

    /// A page or mail send finished: its outcome is proposed.
    public mutating func sent(_ id: WorkID, result: DeliveryResult, now: Timestamp) -> [Work] {
        guard let item = pending.removeValue(forKey: id) else { preconditionFailure("no send \(id) in flight") }
        let detail = Self.truncated(result.description, toBytes: PageOutcome.maxDetailBytes)
        let outcomeResult: PageOutcome.Result = result.isDelivered ? .delivered : .failed
        let attempts = min(result.attempts, 100)
        var work: [Work] = []
        let outcomes: [PageOutcome], term: UInt64
        switch item {
        case let .sending(jobs, itemTerm):
            for job in jobs { work.append(.lateness(kind: "page", milliseconds: now - job.row.dueAt)) }
            outcomes = jobs.map { PageOutcome(key: $0.row.key, result: outcomeResult, attempts: attempts, detail: detail) }
            term = itemTerm
        case let .sendingMail(mail, itemTerm):
            outcomes = [PageOutcome(key: mail.key, result: outcomeResult, attempts: attempts, detail: detail)]
            term = itemTerm
        default: preconditionFailure("work \(id) is not a send")
        }
        work.append(start(.outcomes(outcomes, term: term), proposing: .recordPageOutcomes(outcomes)))
        return work
    }

    /// One result per target of an inspection (nil: no channel of that kind is configured); the verdict is proposed.
    public mutating func inspected(_ id: WorkID, results: [DeliveryResult?]) -> [Work] {
        guard case let .inspecting(inspection, _)? = pending.removeValue(forKey: id) else { preconditionFailure("no inspection \(id)") }
        precondition(results.count == inspection.targets.count, "one result per inspected contact method")
        var failures: [String] = []
        var delivered = 0
        for (target, result) in zip(inspection.targets, results) {
            guard let result else {
                failures.append("\(target.personID)/\(target.contactMethodID): no channel configured")
                continue
            }
            if result.isDelivered { delivered += 1 } else { failures.append("\(target.personID)/\(target.contactMethodID): \(result)") }
        }
        let passed = failures.isEmpty && !inspection.targets.isEmpty
        var detail = inspection.targets.isEmpty ? "no contact method uses the \(inspection.channel) channel"
            : "\(delivered) of \(inspection.targets.count) delivered"
        if !failures.isEmpty { detail += "; failed: " + failures.joined(separator: "; ") }
        let command = DutyCommand.recordInspectionResult(inspectionID: inspection.inspectionID, passed: passed,
                                                         detail: Self.truncated(detail, toBytes: 1_000))
        return [start(.inspectionResult(inspection), proposing: command)]
    }

    /// A proposal finished (nil: no answer at all); `reader` is read after it, so a committed intent's rows are seen.
    public mutating func proposed(_ id: WorkID, result: PagingProposalResult?, now: Timestamp, reader: some PagingStateReader) -> [Work] {
        guard let item = pending.removeValue(forKey: id) else { preconditionFailure("no proposal \(id) in flight") }
        switch item {
        case let .steps(batch, term): return stepsRecorded(batch, term: term, result: result, now: now, reader: reader)
        case let .intents(jobs, term):
            let keys = jobs.map(\.row.key)
            guard result?.isApplied == true else {
                release(keys, after: result, now: now)
                return []
            }
            if options.injectedBug == .sendBeforeIntentCommits { return [] }
            guard options.injectedBug == .noFencingBeforeSend || reader.leaderTerm() == term else {
                // A deposed or partitioned leader cannot commit the intent, so it sends nothing new.
                release(keys, after: result, now: now)
                return []
            }
            return [startSend(jobs, term: term)]
        case let .outcomes(outcomes, term):
            if case .failed? = result, reader.leaderTerm() == term, options.injectedBug != .outcomeRecordedTwice {
                // Still leader: keep the outcome and propose it again rather than sending the page twice.
                for outcome in outcomes where outcome.result != .cancelled { awaitingOutcome[outcome.key] = outcome }
            }
            release(outcomes.map(\.key), after: result, now: now)
            return []
        case let .sla(batch): return slaRecorded(batch, result: result, now: now)
        case let .heartbeat(monitorID, dueAt):
            release([PagingPlan.heartbeatKey(monitorID)], after: result, now: now)
            return result?.isApplied == true ? [.lateness(kind: "heartbeat", milliseconds: now - dueAt)] : []
        case let .expiries(batch): return expiriesRecorded(batch, result: result, now: now)
        case let .inspectionResult(inspection):
            release([PagingPlan.inspectionKey(inspection.inspectionID)], after: result, now: now)
            return result?.isApplied == true ? [.lateness(kind: "inspection", milliseconds: now - inspection.dueAt)] : []
        case let .reminders(keys):
            release(keys, after: result, now: now)
            return []
        case let .mailIntents(mails, term):
            guard result?.isApplied == true, options.injectedBug == .noFencingBeforeSend || reader.leaderTerm() == term else {
                release(mails.map(\.key), after: result, now: now)
                return []
            }
            return mails.map { startMail($0, term: term) }
        case .sending, .sendingMail, .inspecting:
            preconditionFailure("work \(id) is a send, not a proposal")
        }
    }

    /// The steps' entry finished: pages it intended in this term go out while the node still leads it.
    private mutating func stepsRecorded(_ batch: [StepItem], term: UInt64, result: PagingProposalResult?, now: Timestamp,
                                        reader: some PagingStateReader) -> [Work] {
        var unsent = Set(batch.flatMap(\.intending))
        let stepKeys = batch.map { PagingPlan.stepKey($0.step) }
        guard case let .applied(events)? = result else {
            release(Array(unsent) + stepKeys, after: result, now: now)
            return []
        }
        var fired: Set<String> = []
        var intended: Set<String> = []
        for event in events {
            switch event.kind {
            case let .escalationStepFired(step): fired.insert(PagingPlan.stepKey(step))
            case let .pageIntended(key, _, _): intended.insert(key)
            default: break
            }
        }
        var work: [Work] = batch.filter { fired.contains(PagingPlan.stepKey($0.step)) }
            .map { .lateness(kind: "escalation", milliseconds: now - $0.step.dueAt) }
        let jobs = reader.readDuty { state in
            intended.sorted().compactMap { key in state.outbox[key].map { PagingPlan.job(for: $0, in: state) } }
        }
        if !jobs.isEmpty, options.injectedBug == .noFencingBeforeSend || reader.leaderTerm() == term {
            for (_, groupJobs) in Self.grouped(jobs) {
                claim(groupJobs.map(\.row.key))
                unsent.subtract(groupJobs.map(\.row.key))
                work.append(startSend(groupJobs, term: term))
            }
        }
        release(Array(unsent), now: now)
        // A step the model skipped would be planned again at once: it backs off like a refused command.
        let skipped = stepKeys.filter { !fired.contains($0) }
        release(Array(fired), now: now)
        if !skipped.isEmpty { release(skipped, after: .refused(DutyError(.conflict, field: "records", "skipped by the model")), now: now) }
        return work
    }

    private mutating func slaRecorded(_ batch: [PagingPlan.SLADue], result: PagingProposalResult?, now: Timestamp) -> [Work] {
        guard case let .applied(events)? = result else {
            release(batch.map(PagingPlan.slaKey), after: result, now: now)
            return []
        }
        var recorded: Set<String> = []
        for event in events {
            switch event.kind {
            case let .slaWarning(id, target, _): recorded.insert("sla-\(id)-\(target.rawValue)-warning")
            case let .slaBreached(id, target, _): recorded.insert("sla-\(id)-\(target.rawValue)-breach")
            default: break
            }
        }
        let work: [Work] = batch.filter { recorded.contains(PagingPlan.slaKey($0)) }.map { .lateness(kind: "sla", milliseconds: now - $0.dueAt) }
        // An item the model skipped would be planned again at once: it backs off like a refused command.
        let skipped = batch.map(PagingPlan.slaKey).filter { !recorded.contains($0) }
        release(Array(recorded), after: result, now: now)
        if !skipped.isEmpty { release(skipped, after: .refused(DutyError(.conflict, field: "records", "skipped by the model")), now: now) }
        return work
    }

    private mutating func expiriesRecorded(_ batch: [(ticketID: TicketID, dueAt: Timestamp)], result: PagingProposalResult?,
                                           now: Timestamp) -> [Work] {
        guard case let .applied(events)? = result else {
            release(batch.map { PagingPlan.acknowledgementKey($0.ticketID) }, after: result, now: now)
            return []
        }
        var expired: Set<TicketID> = []
        for event in events { if case let .acknowledgementExpired(id) = event.kind { expired.insert(id) } }
        let work: [Work] = batch.filter { expired.contains($0.ticketID) }.map { .lateness(kind: "escalation", milliseconds: now - $0.dueAt) }
        let skipped = batch.filter { !expired.contains($0.ticketID) }.map { PagingPlan.acknowledgementKey($0.ticketID) }
        release(expired.map(PagingPlan.acknowledgementKey), after: result, now: now)
        if !skipped.isEmpty { release(skipped, after: .refused(DutyError(.conflict, field: "ticketIDs", "skipped by the model")), now: now) }
        return work
    }

    // MARK: - Bookkeeping

    private mutating func allocate(_ item: Pending) -> WorkID {
        let id = nextWorkID
        nextWorkID += 1
        pending[id] = item
        return id
    }

    private mutating func start(_ item: Pending, proposing command: DutyCommand) -> Work { .propose(allocate(item), command) }

    private mutating func startSend(_ jobs: [PagingPlan.PageJob], term: UInt64) -> Work {
        .send(allocate(.sending(jobs, term: term)), jobs)
    }

    private mutating func startMail(_ mail: CustomerMail, term: UInt64) -> Work { .sendMail(allocate(.sendingMail(mail, term: term)), mail) }

    private mutating func claim(_ keys: [String]) { busy.formUnion(keys) }

    /// Lets `keys` go; a second refusal within the back-off makes them wait (nil `now`: no proposal was made).
    private mutating func release(_ keys: [String], after result: PagingProposalResult? = nil, now: Timestamp?) {
        busy.subtract(keys)
        if case .refused? = result, let now {
            let repeated = keys.contains { lastRefusedAt[$0] != nil }
            for key in keys { lastRefusedAt[key] = now }
            if repeated {
                for key in keys { refusedUntil[key] = now + Self.refusalBackoffMilliseconds }
                return
            }
        }
        // What was in hand may be due again (a failed proposal, a new row): plan once more.
        wakeRequested = true
    }

    // MARK: - Helpers

    static func reminderKey(_ reminder: HandoffReminder) -> String {
        "handoff-\(reminder.scheduleID)/\(reminder.personID)/\(reminder.shiftStart)"
    }

    /// `text` cut to at most `bytes` of UTF-8 on a character boundary (the model refuses longer details).
    package static func truncated(_ text: String, toBytes bytes: Int) -> String {
        guard text.utf8.count > bytes else { return text }
        var cut = Substring(text)
        while cut.utf8.count > bytes { cut = cut.dropLast() }
        return String(cut)
    }

    /// Jobs by recipient, each group in due order.
    static func grouped(_ jobs: [PagingPlan.PageJob]) -> [(PagingPlan.Recipient, [PagingPlan.PageJob])] {
        var groups: [PagingPlan.Recipient: [PagingPlan.PageJob]] = [:]
        for job in jobs {
            groups[PagingPlan.Recipient(personID: job.row.personID, contactMethodID: job.row.contactMethodID), default: []].append(job)
        }
        return groups.sorted { $0.key < $1.key }.map { key, value in
            // One command may claim at most maxPagesPerCommand pages; the rest wait for the next pass.
            (key, Array(value.prefix(DutyLimits.maxPagesPerCommand)))
        }
    }

    /// `items` in runs of at most `DutyLimits.maxSchedulerBatch`, in order.
    static func batches<Item>(_ items: [Item]) -> [[Item]] {
        stride(from: 0, to: items.count, by: DutyLimits.maxSchedulerBatch).map {
            Array(items[$0..<min($0 + DutyLimits.maxSchedulerBatch, items.count)])
        }
    }
}
