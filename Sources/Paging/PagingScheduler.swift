import DutyModel
import Foundation
import Logging

/// How the leader's scheduler pages.
public struct PagingSchedulerConfiguration: Sendable {
    /// Signs the acknowledgement links every page carries (the secret is shared by all nodes).
    public var signer: AckLinkSigner
    public var ackLinkLifetimeSeconds: Int64
    /// Longest sleep between plans when nothing is due sooner (also bounds the reaction to a missed signal).
    public var maxSleep: Duration
    /// Per person and contact method: messages at once, and one more every `rateLimitRefillMilliseconds`.
    public var rateLimitBurst: Int
    public var rateLimitRefillMilliseconds: Int64
    /// A test knob that breaks the paging promise on purpose, so drills can show their checker catches it
    /// (chaos/run.sh --unsafe unfenced-pages): every node, leader or not, sends the pages of the steps it sees
    /// fall due from its own copy of the state, before any intent commits — as two HA Alertmanagers both page.
    public var unsafeUnfencedPages = false
    /// Mail to customers (acknowledgements, replies, satisfaction links); nil when no relay is configured, and the
    /// rows wait in the outbox.
    public var customerMailer: CustomerMailer?
    /// How long a satisfaction link works.
    public var feedbackLinkLifetimeSeconds: Int64 = 14 * 86_400

    public init(signer: AckLinkSigner, ackLinkLifetimeSeconds: Int64 = 86_400, maxSleep: Duration = .seconds(1),
                rateLimitBurst: Int = 5, rateLimitRefillMilliseconds: Int64 = 12_000) {
        self.signer = signer
        self.ackLinkLifetimeSeconds = ackLinkLifetimeSeconds
        self.maxSleep = maxSleep
        self.rateLimitBurst = rateLimitBurst
        self.rateLimitRefillMilliseconds = rateLimitRefillMilliseconds
    }
}

/// The leader's paging scheduler (DESIGN §4): derives what is due from replicated state, claims each page
/// with a committed `recordPageIntents` of its term before sending, sends only while still leader of that
/// term, and records the outcome. Followers run it too but it stays idle until the node leads.
///
/// Nothing it keeps in memory is needed for correctness: a new leader's first plan finds every page that
/// has no outcome and sends it again with the same idempotency key.
public actor PagingScheduler {
    private let host: any PagingHost
    private let router: ChannelRouter
    private let configuration: PagingSchedulerConfiguration
    private let wake: WakeSignal
    private let logger: Logger
    /// Keys of work this process has in hand (outbox keys, step keys, SLA/heartbeat/inspection keys).
    private var busy: Set<String> = []
    /// Sent pages whose outcome proposal failed while this node still led: retried without sending again.
    private var awaitingOutcome: [String: PageOutcome] = [:]
    private var limiter: PageRateLimiter
    private var ledTerm: UInt64?
    /// Keys whose command the model refused, with when to try again: a refusal does not change by itself,
    /// and retrying at once would fill the log with refused entries.
    private var refusedUntil: [String: Timestamp] = [:]
    /// When each key was last refused: a first refusal is usually a plan that raced a commit and is retried
    /// at once; a second within the back-off means the model and the plan disagree, so the key waits.
    private var lastRefusedAt: [String: Timestamp] = [:]
    static let refusalBackoffMilliseconds: Int64 = 5_000
    /// Shortest sleep while everything due is already in hand (its commit's signal wakes the scheduler sooner).
    static let inHandSleepMilliseconds: Int64 = 50
    /// How long a due SLA warning or breach may wait for others to share its log entry.
    static let slaBatchWindowMilliseconds: Int64 = 250
    /// Page keys sent under `unsafeUnfencedPages` (each once per process; cleared when it grows past a bound).
    private var unfencedSent: Set<String> = []

    public init(host: any PagingHost, router: ChannelRouter, configuration: PagingSchedulerConfiguration, wake: WakeSignal,
                logger: Logger) {
        self.host = host
        self.router = router
        self.configuration = configuration
        self.wake = wake
        self.logger = logger
        self.limiter = PageRateLimiter(burst: configuration.rateLimitBurst, refillMilliseconds: configuration.rateLimitRefillMilliseconds)
    }

    /// Plans and acts until the task is cancelled.
    public func run() async {
        while !Task.isCancelled {
            let sleep = pass()
            await wake.wait(atMost: sleep)
        }
    }

    static func nowMillis() -> Timestamp { Int64((Date().timeIntervalSince1970 * 1_000).rounded(.down)) }

    /// One plan: starts what is due and returns how long to sleep at most.
    func pass() -> Duration {
        guard let term = host.leaderTerm() else {
            if configuration.unsafeUnfencedPages { return unfencedPass() }
            if ledTerm != nil { logger.info("paging scheduler idle: not the leader") }
            ledTerm = nil
            awaitingOutcome = [:]
            return configuration.maxSleep
        }
        if ledTerm != term {
            logger.info("paging scheduler active", metadata: ["term": "\(term)"])
            ledTerm = term
            // Outcomes of an earlier term are the new leader's business now (it re-sends those pages).
            awaitingOutcome = [:]
        }
        let now = Self.nowMillis()
        refusedUntil = refusedUntil.filter { $0.value > now }
        lastRefusedAt = lastRefusedAt.filter { now - $0.value < Self.refusalBackoffMilliseconds }
        let inHand = busy.union(awaitingOutcome.keys).union(refusedUntil.keys)
        let tokens = limiter
        let plan = host.readDuty { state in
            PagingPlan.make(state, now: now, term: term, busy: inHand) {
                tokens.available(personID: $0.personID, contactMethodID: $0.contactMethodID, now: now)
            }
        }
        var wakeAt = plan.nextDeadline
        for held in plan.heldRecipients {
            if let next = limiter.nextTokenAt(personID: held.personID, contactMethodID: held.contactMethodID) {
                wakeAt = min(wakeAt ?? next, next)
            }
        }

        if !awaitingOutcome.isEmpty {
            let outcomes = awaitingOutcome.values.sorted { $0.key < $1.key }
            awaitingOutcome = [:]
            claim(outcomes.map(\.key))
            Task { await self.recordOutcomes(outcomes, term: term) }
        }
        // Steps due together go in one entry per batch, like the SLA stream: an alert storm must not flood the log.
        var stepRecords: [(step: EscalationStep, record: EscalationStepRecord, intending: [String])] = []
        for step in plan.steps {
            if configuration.unsafeUnfencedPages { sendUnfenced(step, now: now) }
            claim([PagingPlan.stepKey(step)])
            // Pages due at once are intended with the step itself when storm control lets all of them go now;
            // otherwise they are only planned and wait for a token like any other page.
            let immediate = host.readDuty { state in
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
            stepRecords.append((step, record, intending))
        }
        for batch in Self.batches(stepRecords) {
            Task { await self.recordSteps(batch, term: term) }
        }
        for (group, jobs) in Self.grouped(plan.toIntend) {
            guard limiter.take(personID: group.personID, contactMethodID: group.contactMethodID, now: now) else {
                if let next = limiter.nextTokenAt(personID: group.personID, contactMethodID: group.contactMethodID) {
                    wakeAt = min(wakeAt ?? next, next)
                }
                continue
            }
            claim(jobs.map(\.row.key))
            Task { await self.claimAndSend(jobs, term: term) }
        }
        for (group, jobs) in Self.grouped(plan.toSend) {
            // Rows of this term that this process did not claim were intended by the entry that registered their
            // alert: they took no token yet, and storm control holds them like any other page.
            guard limiter.take(personID: group.personID, contactMethodID: group.contactMethodID, now: now) else {
                if let next = limiter.nextTokenAt(personID: group.personID, contactMethodID: group.contactMethodID) {
                    wakeAt = min(wakeAt ?? next, next)
                }
                continue
            }
            claim(jobs.map(\.row.key))
            Task {
                Failpoint.hit(Failpoint.pagingAfterIntent)
                await self.send(jobs, term: term)
            }
        }
        if !plan.toCancel.isEmpty {
            let outcomes = plan.toCancel.map {
                PageOutcome(key: $0.key, result: .cancelled, attempts: 0, detail: "the ticket was acknowledged or closed before sending")
            }
            claim(outcomes.map(\.key))
            Task { await self.recordOutcomes(outcomes, term: term) }
        }
        // One entry per batch, not one per ticket: a backlog whose deadlines fall due together (tens of thousands
        // of consultations, an alert storm) must not flood the log. Items are held until the oldest has waited
        // `slaBatchWindowMilliseconds` (a breach is recorded at its deadline whenever it is written), so a steady
        // stream of deadlines makes a few entries a second, not one per pass.
        if let oldest = plan.sla.map(\.dueAt).min() {
            if plan.sla.count >= DutyLimits.maxSchedulerBatch || now - oldest >= Self.slaBatchWindowMilliseconds {
                for batch in Self.batches(plan.sla) {
                    claim(batch.map(PagingPlan.slaKey))
                    Task { await self.recordSLA(batch) }
                }
            } else {
                let flushAt = oldest + Self.slaBatchWindowMilliseconds
                wakeAt = min(wakeAt ?? flushAt, flushAt)
            }
        }
        for heartbeat in plan.heartbeats {
            claim([PagingPlan.heartbeatKey(heartbeat.monitorID)])
            Task { await self.recordHeartbeatMissed(heartbeat.monitorID, dueAt: heartbeat.dueAt) }
        }
        for batch in Self.batches(plan.acknowledgementExpiries) {
            claim(batch.map { PagingPlan.acknowledgementKey($0.ticketID) })
            Task { await self.expireAcknowledgements(batch) }
        }
        for inspection in plan.inspections {
            claim([PagingPlan.inspectionKey(inspection.inspectionID)])
            Task { await self.inspect(inspection, term: term) }
        }
        if configuration.customerMailer != nil { startCustomerMail(term: term, inHand: inHand) }
        let reminders = host.readDuty { $0.dueHandoffReminders(at: now) }
            .filter { !inHand.contains(Self.reminderKey($0)) }
        if !reminders.isEmpty {
            let keys = reminders.map(Self.reminderKey)
            claim(keys)
            Task {
                let result = await self.host.propose([.recordHandoffReminders(reminders)]).first
                self.release(keys, after: result)
            }
        }
        limiter.forgetFull(now: now)
        guard var wakeAt else { return configuration.maxSleep }
        if let retry = refusedUntil.values.min() { wakeAt = min(wakeAt, retry) }
        // A deadline already past is work in hand now (or refused): wait for its commit, not a busy loop.
        let untilMillis = wakeAt <= now ? Self.inHandSleepMilliseconds
            : min(wakeAt - now, Int64(configuration.maxSleep.components.seconds * 1_000))
        return .milliseconds(untilMillis)
    }

    private func claim(_ keys: [String]) { busy.formUnion(keys) }

    /// `unsafeUnfencedPages` on a node that does not lead: it pages the steps it sees due and records nothing.
    private func unfencedPass() -> Duration {
        let now = Self.nowMillis()
        let plan = host.readDuty { PagingPlan.make($0, now: now, term: 0, busy: []) }
        for step in plan.steps { sendUnfenced(step, now: now) }
        guard let next = plan.nextDeadline, next > now else { return .milliseconds(Self.inHandSleepMilliseconds) }
        return .milliseconds(min(next - now, Int64(configuration.maxSleep.components.seconds * 1_000)))
    }

    private func sendUnfenced(_ step: EscalationStep, now: Timestamp) {
        let jobs = host.readDuty { state in
            ((try? state.notificationPlan(for: step, readerRole: .admin).get()) ?? []).filter { $0.dueAt <= now }
                .map { PagingPlan.job(for: OutboxPage.planned(by: step, $0), in: state) }
        }
        if unfencedSent.count > 100_000 { unfencedSent = [] }
        for job in jobs where unfencedSent.insert(job.row.key).inserted {
            guard let address = job.address, let channel = router.channel(for: job.row.kind) else { continue }
            let message = message(for: [job])
            Task { _ = await channel.send(message, to: address) }
        }
    }

    /// `text` cut to at most `bytes` of UTF-8 on a character boundary (the model refuses longer details).
    static func truncated(_ text: String, toBytes bytes: Int) -> String {
        guard text.utf8.count > bytes else { return text }
        var cut = Substring(text)
        while cut.utf8.count > bytes { cut = cut.dropLast() }
        return String(cut)
    }

    private func release(_ keys: [String], after result: PagingProposalResult? = nil) {
        busy.subtract(keys)
        if case let .refused(error)? = result {
            let now = Self.nowMillis()
            let repeated = keys.contains { lastRefusedAt[$0] != nil }
            for key in keys { lastRefusedAt[key] = now }
            if repeated {
                logger.warning("the duty model refused a scheduler command again; retrying in a while",
                               metadata: ["keys": "\(keys.prefix(3))", "field": "\(error.field)", "reason": "\(error.reason.rawValue)"])
                for key in keys { refusedUntil[key] = now + Self.refusalBackoffMilliseconds }
                return
            }
        }
        // What was in hand may be due again (a failed proposal, a new row): plan once more.
        wake.signal()
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

    // MARK: - Actions

    /// Records the steps and, in the same entry, intends their pages that are due at once; sends those only if
    /// the entry committed and this node still leads `term` (the same fencing as `claimAndSend`).
    private func recordSteps(_ batch: [(step: EscalationStep, record: EscalationStepRecord, intending: [String])], term: UInt64) async {
        let records = batch.map(\.record)
        let command = DutyCommand.recordEscalationSteps(records, leaderTerm: records.contains(where: \.intendDuePages) ? term : nil)
        let result = await host.propose([command]).first
        var unsent = Set(batch.flatMap(\.intending))
        let stepKeys = batch.map { PagingPlan.stepKey($0.step) }
        guard case let .applied(events)? = result else {
            logger.debug("escalation steps not recorded", metadata: ["first": "\(records[0].ticketID)/\(records[0].stepIndex)",
                                                                    "steps": "\(records.count)", "result": "\(result.map { "\($0)" } ?? "none")"])
            release(Array(unsent) + stepKeys, after: result)
            return
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
        let now = Self.nowMillis()
        for item in batch where fired.contains(PagingPlan.stepKey(item.step)) {
            host.observeLateness(kind: "escalation", milliseconds: now - item.step.dueAt)
        }
        let jobs = host.readDuty { state in
            intended.sorted().compactMap { key in state.outbox[key].map { PagingPlan.job(for: $0, in: state) } }
        }
        if !jobs.isEmpty, host.leaderTerm() == term {
            for (_, groupJobs) in Self.grouped(jobs) {
                claim(groupJobs.map(\.row.key))
                unsent.subtract(groupJobs.map(\.row.key))
                Task {
                    Failpoint.hit(Failpoint.pagingAfterIntent)
                    await self.send(groupJobs, term: term)
                }
            }
        }
        release(Array(unsent))
        // A step the model skipped would be planned again at once: it backs off like a refused command.
        let skipped = stepKeys.filter { !fired.contains($0) }
        release(Array(fired))
        if !skipped.isEmpty { release(skipped, after: .refused(DutyError(.conflict, field: "records", "skipped by the model"))) }
    }

    /// Claims the pages with an intent of `term`, then sends them only if that committed and this node still
    /// leads `term`: a deposed or partitioned leader cannot commit the intent, so it sends nothing new.
    private func claimAndSend(_ jobs: [PagingPlan.PageJob], term: UInt64) async {
        let keys = jobs.map(\.row.key)
        let results = await host.propose([.recordPageIntents(keys: keys, leaderTerm: term)])
        guard results.first?.isApplied == true, host.leaderTerm() == term else {
            logger.debug("page intent not committed in this term; not sending",
                         metadata: ["pages": "\(keys.count)", "result": "\(results.first.map { "\($0)" } ?? "none")"])
            release(keys, after: results.first)
            return
        }
        Failpoint.hit(Failpoint.pagingAfterIntent)
        await send(jobs, term: term)
    }

    /// Sends one message for `jobs` (one recipient; several pages become one message with a count).
    private func send(_ jobs: [PagingPlan.PageJob], term: UInt64) async {
        guard let first = jobs.first else { return }
        let keys = jobs.map(\.row.key)
        guard host.leaderTerm() == term else {
            release(keys)
            return
        }
        let result: DeliveryResult
        if first.address == nil {
            result = .failed(.permanent, detail: "the contact method was removed after the page was planned", attempts: 0)
        } else if let channel = router.channel(for: first.row.kind) {
            result = await channel.send(message(for: jobs), to: first.address!)
        } else {
            result = .failed(.permanent, detail: "no \(first.row.kind.rawValue) channel is configured on this cluster", attempts: 0)
        }
        let sentAt = Self.nowMillis()
        for job in jobs { host.observeLateness(kind: "page", milliseconds: sentAt - job.row.dueAt) }
        if !result.isDelivered {
            logger.warning("page not delivered", metadata: [
                "key": "\(first.row.key)", "person": "\(first.row.personID)", "channel": "\(first.row.kind.rawValue)", "result": "\(result)",
            ])
        }
        Failpoint.hit(Failpoint.pagingAfterSend)
        let detail = Self.truncated(result.description, toBytes: PageOutcome.maxDetailBytes)
        let outcomes = jobs.map {
            PageOutcome(key: $0.row.key, result: result.isDelivered ? .delivered : .failed, attempts: min(result.attempts, 100), detail: detail)
        }
        await recordOutcomes(outcomes, term: term)
    }

    func message(for jobs: [PagingPlan.PageJob]) -> PageMessage {
        let first = jobs[0]
        let expiresAt = Date(timeIntervalSince1970: Double(Self.nowMillis() / 1_000 + configuration.ackLinkLifetimeSeconds))
        let title = jobs.count == 1 ? first.ticketTitle : "\(first.ticketTitle) (and \(jobs.count - 1) more page\(jobs.count == 2 ? "" : "s") for you)"
        return PageMessage(
            ticketID: first.row.ticketID, title: title, priority: PagePriority(rawValue: first.priority.rawValue) ?? .p1,
            service: first.serviceName, escalationStepIndex: first.row.stepIndex, escalationLevelIndex: first.row.levelIndex,
            recipientPersonID: first.row.personID, idempotencyKey: first.row.key,
            ackURL: configuration.signer.url(ticketID: first.row.ticketID, idempotencyKey: first.row.key, expiresAt: expiresAt),
            resolveURL: configuration.signer.url(ticketID: first.row.ticketID, idempotencyKey: first.row.key, action: .resolve,
                                                 expiresAt: expiresAt),
            createdAtMilliseconds: Self.nowMillis())
    }

    private func recordOutcomes(_ outcomes: [PageOutcome], term: UInt64) async {
        let results = await host.propose([.recordPageOutcomes(outcomes)])
        if case .failed = results.first, host.leaderTerm() == term {
            // Still leader: keep the outcome and propose it again rather than sending the page twice.
            for outcome in outcomes where outcome.result != .cancelled { awaitingOutcome[outcome.key] = outcome }
        }
        release(outcomes.map(\.key), after: results.first)
    }

    static func reminderKey(_ reminder: HandoffReminder) -> String {
        "handoff-\(reminder.scheduleID)/\(reminder.personID)/\(reminder.shiftStart)"
    }

    // MARK: - Customer mail

    /// Mail rows are due as soon as they exist, and there are few: each pass takes those not in hand, intends the
    /// new ones in one entry of this term and sends what committed, as pages are (DESIGN §4).
    private func startCustomerMail(term: UInt64, inHand: Set<String>) {
        let rows = host.readDuty { state in
            state.customerBook.mailOutbox.values.filter { !inHand.contains($0.key) }.sorted { $0.key < $1.key }
                .prefix(DutyLimits.maxPagesPerCommand).map { ($0, $0.intentTerm == term) }
        }
        guard !rows.isEmpty else { return }
        claim(rows.map(\.0.key))
        // Intended in this term already (the process lost its hand on them): send without a new intent.
        let intended = rows.filter(\.1).map(\.0)
        let fresh = rows.filter { !$0.1 }.map(\.0)
        for mail in intended { Task { await self.sendCustomerMail(mail, term: term) } }
        if !fresh.isEmpty {
            Task {
                let keys = fresh.map(\.key)
                let results = await self.host.propose([.recordPageIntents(keys: keys, leaderTerm: term)])
                guard results.first?.isApplied == true, self.host.leaderTerm() == term else {
                    await self.release(keys, after: results.first)
                    return
                }
                for mail in fresh { Task { await self.sendCustomerMail(mail, term: term) } }
            }
        }
    }

    private func sendCustomerMail(_ mail: CustomerMail, term: UInt64) async {
        guard host.leaderTerm() == term, let mailer = configuration.customerMailer else {
            release([mail.key])
            return
        }
        let result: DeliveryResult
        if let content = host.readDuty({ CustomerMailContent.make($0, mail) }) {
            let expiresAt = Date(timeIntervalSince1970: Double(Self.nowMillis() / 1_000 + configuration.feedbackLinkLifetimeSeconds))
            let link = mail.purpose == .satisfaction
                ? configuration.signer.feedbackURL(ticketID: mail.ticketID, idempotencyKey: mail.key, expiresAt: expiresAt) : nil
            result = await mailer.send(content, feedbackURL: link)
        } else {
            result = .failed(.permanent, detail: "the ticket or the customer's address is gone", attempts: 0)
        }
        if !result.isDelivered {
            logger.warning("customer mail not delivered", metadata: ["key": "\(mail.key)", "result": "\(result)"])
        }
        let outcome = PageOutcome(key: mail.key, result: result.isDelivered ? .delivered : .failed, attempts: min(result.attempts, 100),
                                  detail: Self.truncated(result.description, toBytes: PageOutcome.maxDetailBytes))
        await recordOutcomes([outcome], term: term)
    }

    /// `items` in runs of at most `DutyLimits.maxSchedulerBatch`, in order.
    static func batches<Item>(_ items: [Item]) -> [[Item]] {
        stride(from: 0, to: items.count, by: DutyLimits.maxSchedulerBatch).map {
            Array(items[$0..<min($0 + DutyLimits.maxSchedulerBatch, items.count)])
        }
    }

    private func recordSLA(_ batch: [PagingPlan.SLADue]) async {
        let records = batch.map { SLAEventRecord(ticketID: $0.ticketID, target: $0.target, isBreach: $0.isBreach) }
        let result = await host.propose([.recordSLAEvents(records)]).first
        guard case let .applied(events)? = result else {
            release(batch.map(PagingPlan.slaKey), after: result)
            return
        }
        var recorded: Set<String> = []
        for event in events {
            switch event.kind {
            case let .slaWarning(id, target, _): recorded.insert("sla-\(id)-\(target.rawValue)-warning")
            case let .slaBreached(id, target, _): recorded.insert("sla-\(id)-\(target.rawValue)-breach")
            default: break
            }
        }
        let now = Self.nowMillis()
        for due in batch where recorded.contains(PagingPlan.slaKey(due)) {
            host.observeLateness(kind: "sla", milliseconds: now - due.dueAt)
        }
        // An item the model skipped would be planned again at once: it backs off like a refused command.
        let skipped = batch.map(PagingPlan.slaKey).filter { !recorded.contains($0) }
        release(Array(recorded), after: result)
        if !skipped.isEmpty { release(skipped, after: .refused(DutyError(.conflict, field: "records", "skipped by the model"))) }
    }

    private func recordHeartbeatMissed(_ monitorID: String, dueAt: Timestamp) async {
        let result = await host.propose([.heartbeatMissed(monitorID: monitorID)]).first
        if result?.isApplied == true {
            host.observeLateness(kind: "heartbeat", milliseconds: Self.nowMillis() - dueAt)
            logger.warning("heartbeat missed: incident opened", metadata: ["monitor": "\(monitorID)"])
        }
        release([PagingPlan.heartbeatKey(monitorID)], after: result)
    }

    private func expireAcknowledgements(_ batch: [(ticketID: TicketID, dueAt: Timestamp)]) async {
        let result = await host.propose([.expireAcknowledgements(ticketIDs: batch.map(\.ticketID))]).first
        guard case let .applied(events)? = result else {
            release(batch.map { PagingPlan.acknowledgementKey($0.ticketID) }, after: result)
            return
        }
        var expired: Set<TicketID> = []
        for event in events { if case let .acknowledgementExpired(id) = event.kind { expired.insert(id) } }
        let now = Self.nowMillis()
        for expiry in batch where expired.contains(expiry.ticketID) {
            host.observeLateness(kind: "escalation", milliseconds: now - expiry.dueAt)
        }
        if !expired.isEmpty {
            logger.info("acknowledgements timed out: paging again", metadata: ["tickets": "\(expired.sorted().prefix(10))", "count": "\(expired.count)"])
        }
        let skipped = batch.filter { !expired.contains($0.ticketID) }.map { PagingPlan.acknowledgementKey($0.ticketID) }
        release(expired.map(PagingPlan.acknowledgementKey), after: result)
        if !skipped.isEmpty { release(skipped, after: .refused(DutyError(.conflict, field: "ticketIDs", "skipped by the model"))) }
    }

    /// S8: a test message to every contact method of the channel, and one recorded result.
    private func inspect(_ inspection: PagingPlan.InspectionDue, term: UInt64) async {
        var recorded: PagingProposalResult?
        defer { release([PagingPlan.inspectionKey(inspection.inspectionID)], after: recorded) }
        guard host.leaderTerm() == term else { return }
        var failures: [String] = []
        var delivered = 0
        for target in inspection.targets {
            guard let channel = router.channel(for: target.kind) else {
                failures.append("\(target.personID)/\(target.contactMethodID): no channel configured")
                continue
            }
            let key = "inspection-\(inspection.inspectionID)-\(inspection.dueAt)-\(target.personID)-\(target.contactMethodID)"
            let page = PageMessage(
                ticketID: 0, title: "Vigil channel inspection: a test message, no action needed", priority: .p4,
                service: "channel inspection", escalationStepIndex: 0, escalationLevelIndex: 0, recipientPersonID: target.personID,
                idempotencyKey: key, ackURL: configuration.signer.baseURL + "/healthz", createdAtMilliseconds: Self.nowMillis())
            let result = await channel.send(page, to: target.address)
            if result.isDelivered { delivered += 1 } else { failures.append("\(target.personID)/\(target.contactMethodID): \(result)") }
        }
        let passed = failures.isEmpty && !inspection.targets.isEmpty
        var detail = inspection.targets.isEmpty ? "no contact method uses the \(inspection.channel) channel"
            : "\(delivered) of \(inspection.targets.count) delivered"
        if !failures.isEmpty { detail += "; failed: " + failures.joined(separator: "; ") }
        let command = DutyCommand.recordInspectionResult(inspectionID: inspection.inspectionID, passed: passed,
                                                         detail: Self.truncated(detail, toBytes: 1_000))
        recorded = await host.propose([command]).first
        if recorded?.isApplied == true {
            host.observeLateness(kind: "inspection", milliseconds: Self.nowMillis() - inspection.dueAt)
        }
    }
}
