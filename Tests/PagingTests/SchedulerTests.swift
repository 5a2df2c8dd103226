import DutyModel
import Foundation
import Synchronization
import Testing
@testable import Paging

/// A node as the scheduler sees it, in memory: the duty state, a term, and a log of what happened in order.
final class FakePagingHost: PagingHost, @unchecked Sendable {
    /// How the fake Raft log answers a proposal that intends pages (`recordPageIntents`, or a step with a term).
    enum IntentMode { case commit, commitThenDepose(newTerm: UInt64?), fail }

    struct State {
        var duty: DutyState
        var term: UInt64?
        var intentMode: IntentMode = .commit
        /// Commands of this name are refused, as the model would refuse a command that no longer applies.
        var refuse: String?
        var log: [String] = []
    }
    let state: Mutex<State>

    init(duty: DutyState, term: UInt64?) { state = Mutex(State(duty: duty, term: term)) }

    func leaderTerm() -> UInt64? { state.withLock { $0.term } }
    func readDuty<T: Sendable>(_ body: (DutyState) -> T) -> T { state.withLock { body($0.duty) } }
    func observeLateness(kind: String, milliseconds: Int64) {}

    func propose(_ commands: [DutyCommand]) async -> [PagingProposalResult] {
        state.withLock { state in
            commands.map { command in
                let intends: Bool = switch command {
                case .recordPageIntents: true
                case let .recordEscalationStep(_, _, term), let .recordEscalationSteps(_, term): term != nil
                default: false
                }
                if intends, case .fail = state.intentMode {
                    state.log.append("lost \(command.name)")
                    return .failed("timed out")
                }
                let now = Int64(Date().timeIntervalSince1970 * 1_000)
                if command.name == state.refuse {
                    state.log.append("refused \(command.name): forged")
                    return .refused(DutyError(.conflict, field: "forged", "refused by the test"))
                }
                switch state.duty.apply(command, at: now, actor: ActorID("scheduler")) {
                case let .success(events):
                    state.log.append("\(command.name) \(command.subject)")
                    if intends, case let .commitThenDepose(newTerm) = state.intentMode {
                        state.term = newTerm
                    }
                    return .applied(events)
                case let .failure(error):
                    state.log.append("refused \(command.name): \(error.field)")
                    return .refused(error)
                }
            }
        }
    }

    func apply(_ command: DutyCommand, actor: String = "bob", intendingFirstPagesIn leaderTerm: UInt64? = nil) {
        state.withLock { state in
            _ = state.duty.apply(command, at: Int64(Date().timeIntervalSince1970 * 1_000), actor: ActorID(actor),
                                 intendingFirstPagesIn: leaderTerm)
        }
    }

    var log: [String] { state.withLock { $0.log } }
}

/// Records every send in the host's log, so the order of intents and sends can be checked.
final class RecordingChannel: NotificationChannel {
    let kind = "webhook"
    let host: FakePagingHost
    let sent = Mutex<[(key: String, title: String, address: String)]>([])

    init(host: FakePagingHost) { self.host = host }

    func send(_ page: PageMessage, to address: String) async -> DeliveryResult {
        host.state.withLock { $0.log.append("send \(page.idempotencyKey)") }
        sent.withLock { $0.append((page.idempotencyKey, page.title, address)) }
        return .delivered(attempts: 1)
    }
}

@Suite struct SchedulerTests {
    static let now = Int64(Date().timeIntervalSince1970 * 1_000)

    /// A service whose one-level policy pages "ann" through a webhook at once.
    static func state(tickets: Int) throws -> DutyState {
        var state = DutyState()
        let setup: [DutyCommand] = [
            .upsertPerson(Person(id: "ann", name: "Ann", role: .responder,
                                 contactMethods: [ContactMethod(id: "hook", kind: .webhook, address: "http://127.0.0.1:9/ann")],
                                 notificationRules: [NotificationRule(contactMethodID: "hook", delaySeconds: 0)])),
            .upsertEscalationPolicy(.init(id: "p", name: "P", levels: [.init(targets: [.person("ann")], delaySeconds: 600)])),
            .upsertService(Service(id: "svc", name: "Service", escalationPolicyID: "p")),
        ]
        for command in setup { _ = try state.apply(command, at: now - 60_000, actor: ActorID("admin")).get() }
        for index in 0..<tickets {
            _ = try state.apply(.registerTicket(NewTicket(kind: .incident, priority: .p1, title: "Alert \(index)", serviceID: "svc")),
                                at: now - 1_000, actor: ActorID("admin")).get()
        }
        return state
    }

    static func scheduler(_ host: FakePagingHost, burst: Int = 5, refillMilliseconds: Int64 = 12_000) throws -> (PagingScheduler, RecordingChannel) {
        let channel = RecordingChannel(host: host)
        let signer = try AckLinkSigner(secret: Array(repeating: 7, count: 32), baseURL: "https://127.0.0.1:8443")
        let scheduler = PagingScheduler(host: host, router: ChannelRouter([.webhook: channel]),
                                        configuration: PagingSchedulerConfiguration(signer: signer, rateLimitBurst: burst,
                                                                                    rateLimitRefillMilliseconds: refillMilliseconds),
                                        wake: WakeSignal(), logger: .init(label: "test"))
        return (scheduler, channel)
    }

    /// Plans until `done` holds (bounded: 500 passes, 10 ms apart); the actions run in tasks of their own.
    static func drive(_ scheduler: PagingScheduler, until done: () -> Bool) async {
        for _ in 0..<500 where !done() {
            _ = await scheduler.pass()
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    @Test func theIntentCommitsBeforeTheSendAndTheOutcomeAfter() async throws {
        let host = FakePagingHost(duty: try Self.state(tickets: 1), term: 3)
        let (scheduler, channel) = try Self.scheduler(host)
        await Self.drive(scheduler) { host.log.contains { $0.hasPrefix("recordPageOutcomes") } }
        let log = host.log.filter { !$0.hasPrefix("refused") }
        // The page due at once is intended in the step's own entry (term 3), so the send follows that commit.
        #expect(log == ["recordEscalationSteps tickets:1", "send ticket-1-step-0-ann-hook", "recordPageOutcomes page:ticket-1-step-0-ann-hook"],
                "\(host.log)")
        #expect(channel.sent.withLock { $0.map(\.address) } == ["http://127.0.0.1:9/ann"])
        #expect(host.readDuty { $0.outbox.isEmpty })
    }

    static func isSend(_ work: SchedulerCore.Work) -> Bool {
        if case .send = work { return true }
        return false
    }

    /// The core alone, step by step: an acknowledgement that commits between the intent and the send turns the page
    /// into a cancelled outcome (the whole-node simulator found this window).
    @Test func aPageWhoseTicketIsAcknowledgedAfterItsIntentIsCancelledNotSent() async throws {
        let host = FakePagingHost(duty: try Self.state(tickets: 1), term: 3)
        var core = SchedulerCore(options: .init())
        let (work, _) = core.pass(now: Self.now, reader: host)
        guard case let .propose(stepID, steps)? = work.first, case .recordEscalationSteps = steps else {
            Issue.record("expected the step's entry first, got \(work)")
            return
        }
        let stepResult = await host.propose([steps]).first
        let afterSteps = core.proposed(stepID, result: stepResult, now: Self.now, reader: host)
        guard case let .send(sendID, jobs)? = afterSteps.first(where: Self.isSend) else {
            Issue.record("expected a send once the intent committed, got \(afterSteps)")
            return
        }
        #expect(jobs.map(\.row.key) == ["ticket-1-step-0-ann-hook"])
        host.apply(.acknowledgeTicket(ticketID: 1))
        let (toSend, cancelled) = core.pagesToSend(sendID, reader: host)
        #expect(toSend.isEmpty)
        guard case let .propose(outcomeID, .recordPageOutcomes(outcomes))? = cancelled.first else {
            Issue.record("expected a cancelled outcome, got \(cancelled)")
            return
        }
        #expect(outcomes.map(\.result) == [.cancelled])
        let outcomeResult = await host.propose([.recordPageOutcomes(outcomes)]).first
        #expect(core.proposed(outcomeID, result: outcomeResult, now: Self.now, reader: host).isEmpty)
        #expect(host.readDuty { $0.outbox.isEmpty })
        #expect(core.pendingCount == 0)
    }

    /// A deposed leader's send does not start: the core lets its keys go for the next leader.
    @Test func aSendDoesNotStartOnceTheTermIsOver() async throws {
        let host = FakePagingHost(duty: try Self.state(tickets: 1), term: 3)
        var core = SchedulerCore(options: .init())
        let (work, _) = core.pass(now: Self.now, reader: host)
        guard case let .propose(stepID, steps)? = work.first else { return }
        let afterSteps = core.proposed(stepID, result: await host.propose([steps]).first, now: Self.now, reader: host)
        guard case let .send(sendID, _)? = afterSteps.first(where: Self.isSend) else {
            Issue.record("expected a send, got \(afterSteps)")
            return
        }
        host.state.withLock { $0.term = 4 }
        let (toSend, other) = core.pagesToSend(sendID, reader: host)
        #expect(toSend.isEmpty && other.isEmpty)
        #expect(core.pendingCount == 0)
        let wakes = core.takeWakeRequest()
        #expect(wakes)
    }

    @Test func aFollowerPlansNothing() async throws {
        let host = FakePagingHost(duty: try Self.state(tickets: 1), term: nil)
        let (scheduler, channel) = try Self.scheduler(host)
        for _ in 0..<5 { _ = await scheduler.pass() }
        try await Task.sleep(for: .milliseconds(50))
        #expect(host.log.isEmpty)
        #expect(channel.sent.withLock { $0.isEmpty })
    }

    @Test func anIntentThatDoesNotCommitSendsNothing() async throws {
        let host = FakePagingHost(duty: try Self.state(tickets: 1), term: 3)
        host.state.withLock { $0.intentMode = .fail }
        let (scheduler, channel) = try Self.scheduler(host)
        await Self.drive(scheduler) { host.log.filter { $0.hasPrefix("lost") }.count >= 3 }
        #expect(channel.sent.withLock { $0.isEmpty }, "no committed intent, no page: \(host.log)")
    }

    /// Deposed between the commit and the send: the page waits for the next leader, which claims it in its
    /// own term and sends it once, with the same key.
    @Test func aLeaderDeposedAfterItsIntentCommittedDoesNotSend() async throws {
        let host = FakePagingHost(duty: try Self.state(tickets: 1), term: 3)
        host.state.withLock { $0.intentMode = .commitThenDepose(newTerm: nil) }
        let (scheduler, channel) = try Self.scheduler(host)
        await Self.drive(scheduler) { host.log.contains { $0.hasPrefix("recordEscalationSteps") } }
        for _ in 0..<5 { _ = await scheduler.pass() }
        try await Task.sleep(for: .milliseconds(50))
        #expect(channel.sent.withLock { $0.isEmpty }, "\(host.log)")
        #expect(host.readDuty { $0.outbox["ticket-1-step-0-ann-hook"]?.intentTerm } == 3)

        host.state.withLock {
            $0.term = 5
            $0.intentMode = .commit
        }
        await Self.drive(scheduler) { host.readDuty { $0.outbox.isEmpty } }
        #expect(channel.sent.withLock { $0.map(\.key) } == ["ticket-1-step-0-ann-hook"])
        #expect(host.log.filter { $0.hasPrefix("recordPageIntents") }.count == 1, "claimed again in term 5")
    }

    /// Storm control: pages due together for one person and channel become one message with a count; once
    /// the bucket is empty, later pages wait in the outbox (not dropped) and go out together with the next token.
    @Test func aStormIsGroupedAndRateLimitedWithoutLosingPages() async throws {
        var duty = try Self.state(tickets: 3)
        for ticket in 1...3 {
            _ = try duty.apply(.recordEscalationStep(ticketID: ticket, stepIndex: 0), at: Self.now, actor: ActorID("scheduler")).get()
        }
        let host = FakePagingHost(duty: duty, term: 2)
        // No token returns within the test (one an hour), so what waits is decided by the bucket, not the clock.
        let (scheduler, channel) = try Self.scheduler(host, burst: 1, refillMilliseconds: 3_600_000)
        await Self.drive(scheduler) { host.readDuty { $0.outbox.isEmpty } }
        let first = channel.sent.withLock { $0 }
        #expect(first.count == 1, "three pages, one message: \(first.map(\.key))")
        #expect(first.first?.title.hasSuffix("(and 2 more pages for you)") == true)

        for index in 3..<5 {
            host.apply(.registerTicket(NewTicket(kind: .incident, priority: .p1, title: "Alert \(index)", serviceID: "svc")), actor: "admin")
        }
        await Self.drive(scheduler) { host.readDuty { $0.outbox.count == 2 && $0.dueEscalationSteps(until: Self.now + 60_000).isEmpty } }
        for _ in 0..<5 { _ = await scheduler.pass() }
        try await Task.sleep(for: .milliseconds(50))
        #expect(channel.sent.withLock { $0.count } == 1, "the bucket is empty: the new pages wait")
        #expect(host.readDuty { $0.outbox.values.allSatisfy { !$0.isIntended } }, "waiting pages stay planned in the outbox")

        // A scheduler with a token (here: the next leader's) sends both waiting pages as one message.
        let (next, nextChannel) = try Self.scheduler(host, burst: 1, refillMilliseconds: 3_600_000)
        await Self.drive(next) { host.readDuty { $0.outbox.isEmpty } }
        #expect(nextChannel.sent.withLock { $0.map(\.title) } == ["Alert 3 (and 1 more page for you)"])
        #expect(host.readDuty { $0.outbox.isEmpty }, "every page got its outcome")
    }

    /// Pages intended by the entry that registered their alert (0.8) took no token: storm control holds them
    /// as it holds pages the scheduler intends, and a scheduler with a token sends them later, none lost.
    @Test func pagesIntendedAtIntakeWaitForStormControlToo() async throws {
        let host = FakePagingHost(duty: try Self.state(tickets: 0), term: 2)
        for index in 0..<3 {
            host.apply(.registerTicket(NewTicket(kind: .incident, priority: .p1, title: "Alert \(index)", serviceID: "svc")),
                       actor: "pagerduty:abcdef", intendingFirstPagesIn: 2)
        }
        #expect(host.readDuty { $0.outbox.count == 3 && $0.outbox.values.allSatisfy { $0.intentTerm == 2 } }, "intended at intake")
        let (scheduler, channel) = try Self.scheduler(host, burst: 1, refillMilliseconds: 3_600_000)
        await Self.drive(scheduler) { host.readDuty { $0.outbox.isEmpty } }
        #expect(channel.sent.withLock { $0.map(\.title) } == ["Alert 0 (and 2 more pages for you)"])

        for index in 3..<5 {
            host.apply(.registerTicket(NewTicket(kind: .incident, priority: .p1, title: "Alert \(index)", serviceID: "svc")),
                       actor: "pagerduty:abcdef", intendingFirstPagesIn: 2)
        }
        for _ in 0..<5 { _ = await scheduler.pass() }
        try await Task.sleep(for: .milliseconds(50))
        #expect(channel.sent.withLock { $0.count } == 1, "the bucket is empty: the pages intended at intake wait")
        #expect(host.readDuty { $0.outbox.count } == 2)

        let (next, nextChannel) = try Self.scheduler(host, burst: 1, refillMilliseconds: 3_600_000)
        await Self.drive(next) { host.readDuty { $0.outbox.isEmpty } }
        #expect(nextChannel.sent.withLock { $0.map(\.title) } == ["Alert 3 (and 1 more page for you)"])
    }

    /// A backlog storm control holds back (here 2,000 planned pages for one person) is not walked by every pass:
    /// a held recipient costs nothing per row, an admitted one yields at most one command's worth of rows.
    @Test func aPlanReadsOnlyWhatOnePassCanActOn() throws {
        var duty = try Self.state(tickets: 2_000)
        let due = duty.dueEscalationSteps(until: Self.now)
        for batch in stride(from: 0, to: due.count, by: DutyLimits.maxSchedulerBatch) {
            let records = due[batch..<min(batch + DutyLimits.maxSchedulerBatch, due.count)].map {
                EscalationStepRecord(ticketID: $0.ticketID, stepIndex: $0.stepIndex, intendDuePages: false)
            }
            _ = try duty.apply(.recordEscalationSteps(records, leaderTerm: nil), at: Self.now, actor: ActorID("scheduler")).get()
        }
        #expect(duty.outbox.count == 2_000)
        let ann = PagingPlan.Recipient(personID: "ann", contactMethodID: "hook")
        let held = PagingPlan.make(duty, now: Self.now, term: 3, busy: []) { _ in false }
        #expect(held.toIntend.isEmpty && held.heldRecipients == [ann])
        let admitted = PagingPlan.make(duty, now: Self.now, term: 3, busy: [])
        #expect(admitted.toIntend.count == DutyLimits.maxPagesPerCommand)
        let inDueOrder = duty.duePages(until: Self.now).map(\.key)
        #expect(inDueOrder.count == 2_000, "every row is due")
        #expect(admitted.toIntend.map(\.row.key) == Array(inDueOrder.prefix(DutyLimits.maxPagesPerCommand)), "the earliest rows first")
        // Rows in hand are skipped, and the next ones are offered.
        let inHand = Set(admitted.toIntend.map(\.row.key))
        let next = PagingPlan.make(duty, now: Self.now, term: 3, busy: inHand)
        #expect(next.toIntend.map(\.row.key) == Array(inDueOrder.dropFirst(DutyLimits.maxPagesPerCommand).prefix(DutyLimits.maxPagesPerCommand)))
        #expect(duty.deadlineIndexIsExact())
    }

    /// An alert storm's first steps fall due together: one log entry records them all and intends their
    /// pages, instead of one entry per ticket; every ticket is still paged.
    @Test func stepsDueTogetherShareOneEntry() async throws {
        let host = FakePagingHost(duty: try Self.state(tickets: 40), term: 4)
        let (scheduler, channel) = try Self.scheduler(host, burst: 100)
        await Self.drive(scheduler) { host.log.contains { $0.hasPrefix("recordPageOutcomes") } && host.readDuty { $0.outbox.isEmpty } }
        let steps = host.log.filter { $0.hasPrefix("recordEscalationStep") }
        #expect(steps == ["recordEscalationSteps tickets:1+39"], "\(host.log.prefix(5))")
        #expect(host.readDuty { $0.dueEscalationSteps(until: Self.now + 1_000).isEmpty })
        // One recipient: the 40 pages go as one message with a count (storm control), each with its outcome.
        #expect(channel.sent.withLock { $0.map(\.title) } == ["Alert 0 (and 39 more pages for you)"])
    }

    @Test func anIntendedPageOfAnAcknowledgedTicketIsCancelledNotSent() async throws {
        var duty = try Self.state(tickets: 1)
        let now = Int64(Date().timeIntervalSince1970 * 1_000)
        _ = try duty.apply(.recordEscalationStep(ticketID: 1, stepIndex: 0), at: now, actor: ActorID("scheduler")).get()
        _ = try duty.apply(.recordPageIntents(keys: ["ticket-1-step-0-ann-hook"], leaderTerm: 1), at: now, actor: ActorID("scheduler")).get()
        _ = try duty.apply(.acknowledgeTicket(ticketID: 1), at: now, actor: ActorID("ann")).get()
        let host = FakePagingHost(duty: duty, term: 2)
        let (scheduler, channel) = try Self.scheduler(host)
        await Self.drive(scheduler) { host.readDuty { $0.outbox.isEmpty } }
        #expect(channel.sent.withLock { $0.isEmpty })
        let cancelled = host.readDuty { state in
            state.ticket(1)!.timeline.contains { if case .paged(_, _, _, .cancelled, 0) = $0.action { true } else { false } }
        }
        #expect(cancelled)
    }

    @Test func aMissedHeartbeatOpensAnIncidentThatIsPaged() async throws {
        var duty = try Self.state(tickets: 0)
        _ = try duty.apply(.upsertHeartbeatMonitor(id: "backup", serviceID: "svc", intervalSeconds: 10, graceSeconds: 0),
                           at: Self.now - 20_000, actor: ActorID("admin")).get()
        let host = FakePagingHost(duty: duty, term: 1)
        let (scheduler, channel) = try Self.scheduler(host)
        await Self.drive(scheduler) { channel.sent.withLock { !$0.isEmpty } }
        #expect(host.log.first == "heartbeatMissed heartbeat:backup", "\(host.log)")
        #expect(channel.sent.withLock { $0.map(\.title) } == ["Heartbeat 'backup' missed"])
        for _ in 0..<3 { _ = await scheduler.pass() }
        try await Task.sleep(for: .milliseconds(50))
        #expect(host.log.filter { $0.hasPrefix("heartbeatMissed") }.count == 1, "one incident per miss")
    }

    @Test func aDueInspectionTestsEveryContactMethodOfItsKindAndRecordsTheResult() async throws {
        var duty = try Self.state(tickets: 0)
        _ = try duty.apply(.upsertChannelInspection(id: "hooks", channel: "webhook", timesPerDay: 3), at: Self.now - 1_000,
                           actor: ActorID("admin")).get()
        let host = FakePagingHost(duty: duty, term: 1)
        let (scheduler, channel) = try Self.scheduler(host)
        await Self.drive(scheduler) { host.readDuty { !($0.channelInspections["hooks"]?.results.isEmpty ?? true) } }
        let result = try #require(host.readDuty { $0.channelInspections["hooks"]?.results.first })
        #expect(result.passed && result.detail == "1 of 1 delivered" && result.actor == ActorID("scheduler"))
        #expect(channel.sent.withLock { $0.map(\.address) } == ["http://127.0.0.1:9/ann"])
        #expect(host.readDuty { $0.channelInspections["hooks"]!.nextDueAt } > Self.now, "the next run is a third of a day later")
    }

    @Test func theRateLimiterRefillsAndForgets() {
        var limiter = PageRateLimiter(burst: 2, refillMilliseconds: 1_000)
        var taken: [Bool] = []
        for (person, now) in [("a", 0), ("a", 0), ("a", 10)] as [(String, Int64)] {
            taken.append(limiter.take(personID: person, contactMethodID: "m", now: now))
        }
        #expect(taken == [true, true, false])
        #expect(limiter.nextTokenAt(personID: "a", contactMethodID: "m") == 1_000)
        let other = limiter.take(personID: "b", contactMethodID: "m", now: 10)
        #expect(other, "buckets are per person and method")
        let refilled = limiter.take(personID: "a", contactMethodID: "m", now: 1_010)
        #expect(refilled)
        limiter.forgetFull(now: 10_000)
        #expect(limiter.nextTokenAt(personID: "a", contactMethodID: "m") == nil)
    }
}

@Suite struct SchedulerBackoffTests {
    /// A command the model refuses is not proposed again at once: the log would fill with refusals.
    @Test func aRefusedCommandIsRetriedAfterABackoffNotInALoop() async throws {
        var duty = try SchedulerTests.state(tickets: 0)
        _ = try duty.apply(.upsertHeartbeatMonitor(id: "backup", serviceID: "svc", intervalSeconds: 10, graceSeconds: 0),
                           at: SchedulerTests.now - 20_000, actor: ActorID("admin")).get()
        // The heartbeat stays due in the plan while the (fake) log refuses `heartbeatMissed`: the situation of
        // any command the model refuses, such as a ticket limit reached.
        let host = FakePagingHost(duty: duty, term: 1)
        host.state.withLock { $0.refuse = "heartbeatMissed" }
        let (scheduler, _) = try SchedulerTests.scheduler(host)
        let started = ContinuousClock.now
        for _ in 0..<100 {
            _ = await scheduler.pass()
            try await Task.sleep(for: .milliseconds(5))
        }
        // Counted against the time the passes took (a loaded machine is slow): one try, one more at once (a
        // plan can race a commit), then one per back-off period; a loop would be a try per pass (100).
        let elapsedSeconds = (ContinuousClock.now - started).components.seconds
        let attempts = host.log.filter { $0.hasPrefix("refused heartbeatMissed") }.count
        #expect(attempts >= 1)
        #expect(attempts <= 2 + Int(elapsedSeconds / 5), "proposed \(attempts) times in \(elapsedSeconds) s of 100 passes")
    }

    @Test func detailsAreCutOnACharacterBoundary() {
        #expect(SchedulerCore.truncated("ab€", toBytes: 4) == "ab")
        #expect(SchedulerCore.truncated("abc", toBytes: 4) == "abc")
    }
}
