import Foundation
import Testing
@testable import DutyModel

/// The replicated outbox: planned rows per person and rule, intents fenced by term, outcomes on the timeline.
@Suite struct OutboxTests {
    let t0 = Fixture.t0
    let minute = Fixture.minute
    let scheduler = ActorID("scheduler")

    /// Ticket on "web" (level 0 = the primary schedule: bob on 2026-03-02 before 09:00 is the day's first user).
    func openEmergency(_ state: inout DutyState) throws -> TicketID {
        try Fixture.register(&state, kind: .emergency, priority: .p1, service: "web", at: t0)
    }

    @Test func aRecordedStepPlansOneRowPerPersonAndRuleDelay() throws {
        var state = try Fixture.state()
        let id = try openEmergency(&state)
        let step = try #require(state.nextDueStep(id))
        try Fixture.ok(&state, .recordEscalationStep(ticketID: id, stepIndex: 0), at: t0, actor: scheduler)
        let rows = state.outbox.values.sorted { ($0.dueAt, $0.key) < ($1.dueAt, $1.key) }
        // bob's rules: chat at once, SMS after 1 min, call after 3 min.
        #expect(rows.map(\.contactMethodID) == ["chat", "sms", "call"])
        #expect(rows.map(\.dueAt) == [t0, t0 + minute, t0 + 3 * minute])
        #expect(rows.allSatisfy { $0.personID == step.personIDs.first && !$0.isIntended && $0.ticketID == id })
        #expect(rows.map(\.key) == ["ticket-\(id)-step-0-bob-chat", "ticket-\(id)-step-0-bob-sms", "ticket-\(id)-step-0-bob-call"])
        #expect(state.duePages(until: t0).map(\.key) == ["ticket-\(id)-step-0-bob-chat"])
        #expect(state.nextSchedulerDeadline() == t0, "the chat page is owed now")
    }

    @Test func intentsAreFencedByTermAndOutcomesLandOnTheTimeline() throws {
        var state = try Fixture.state()
        let id = try openEmergency(&state)
        try Fixture.ok(&state, .recordEscalationStep(ticketID: id, stepIndex: 0), at: t0, actor: scheduler)
        let key = "ticket-\(id)-step-0-bob-chat"
        #expect(Fixture.failure(&state, .recordPageIntents(keys: ["ticket-\(id)-step-0-bob-sms"], leaderTerm: 3), at: t0)?.reason == .notDue,
                "a page is not intended before its rule delay")
        try Fixture.ok(&state, .recordPageIntents(keys: [key], leaderTerm: 3), at: t0, actor: scheduler)
        #expect(state.outbox[key]?.intentTerm == 3)
        // A stale leader of the same or an older term cannot claim the page again.
        #expect(Fixture.failure(&state, .recordPageIntents(keys: [key], leaderTerm: 3), at: t0)?.reason == .conflict)
        #expect(Fixture.failure(&state, .recordPageIntents(keys: [key], leaderTerm: 2), at: t0)?.reason == .conflict)
        // A new leader re-intends a page without an outcome: same key, higher term.
        try Fixture.ok(&state, .recordPageIntents(keys: [key], leaderTerm: 4), at: t0 + 500, actor: scheduler)
        #expect(state.outbox[key]?.intentCount == 2)
        try Fixture.ok(&state, .recordPageOutcomes([PageOutcome(key: key, result: .delivered, attempts: 1, detail: "")]),
                       at: t0 + 600, actor: scheduler)
        #expect(state.outbox[key] == nil)
        #expect(Fixture.failure(&state, .recordPageOutcomes([PageOutcome(key: key, result: .delivered, attempts: 1, detail: "")]),
                                at: t0 + 700)?.reason == .notFound, "an outcome is recorded once")
        let paged = state.ticket(id)!.timeline.compactMap { entry -> String? in
            if case let .paged(key, person, channel, result, attempts) = entry.action { return "\(key) \(person) \(channel) \(result) \(attempts)" }
            return nil
        }
        #expect(paged == ["\(key) bob chat delivered 1"])
    }

    @Test func badIntentsAndOutcomesChangeNothing() throws {
        var state = try Fixture.state()
        let id = try openEmergency(&state)
        try Fixture.ok(&state, .recordEscalationStep(ticketID: id, stepIndex: 0), at: t0, actor: scheduler)
        let key = "ticket-\(id)-step-0-bob-chat"
        let before = state.snapshot()
        let cases: [(DutyCommand, DutyError.Reason, String)] = [
            (.recordPageIntents(keys: [], leaderTerm: 1), .invalid, "keys"),
            (.recordPageIntents(keys: [key], leaderTerm: 0), .invalid, "leaderTerm"),
            (.recordPageIntents(keys: [key, key], leaderTerm: 1), .conflict, "keys[1]"),
            (.recordPageIntents(keys: [key, "nope"], leaderTerm: 1), .notFound, "keys[1]"),
            (.recordPageIntents(keys: Array(repeating: key, count: DutyLimits.maxPagesPerCommand + 1), leaderTerm: 1), .limitExceeded, "keys"),
            (.recordPageOutcomes([PageOutcome(key: key, result: .delivered, attempts: 1, detail: "")]), .conflict, "outcomes[0].key"),
            (.recordPageOutcomes([]), .invalid, "outcomes"),
        ]
        for (command, reason, field) in cases {
            let error = try #require(Fixture.failure(&state, command, at: t0), "\(command.name) \(field)")
            #expect(error.reason == reason, "\(field): \(error)")
            #expect(error.field == field, "\(error)")
        }
        try Fixture.ok(&state, .recordPageIntents(keys: [key], leaderTerm: 1), at: t0)
        let intended = state.snapshot()
        for outcome in [PageOutcome(key: key, result: .failed, attempts: 101, detail: ""),
                        PageOutcome(key: key, result: .failed, attempts: 1, detail: String(repeating: "x", count: 501))] {
            #expect(Fixture.failure(&state, .recordPageOutcomes([outcome]), at: t0) != nil)
        }
        #expect(state.snapshot() == intended)
        #expect(before != intended)
    }

    @Test func acknowledgementCancelsPlannedPagesButNotIntendedOnes() throws {
        var state = try Fixture.state()
        let id = try openEmergency(&state)
        try Fixture.ok(&state, .recordEscalationStep(ticketID: id, stepIndex: 0), at: t0, actor: scheduler)
        try Fixture.ok(&state, .recordPageIntents(keys: ["ticket-\(id)-step-0-bob-chat"], leaderTerm: 2), at: t0, actor: scheduler)
        try Fixture.ok(&state, .acknowledgeTicket(ticketID: id), at: t0 + 30_000, actor: ActorID("bob"))
        #expect(state.outbox.keys.sorted() == ["ticket-\(id)-step-0-bob-chat"], "the SMS and the call are not sent")
        #expect(state.ticketWantsPages(id) == false)
        #expect(Fixture.failure(&state, .recordPageIntents(keys: ["ticket-\(id)-step-0-bob-chat"], leaderTerm: 3), at: t0 + minute)?.reason == .conflict,
                "an acknowledged ticket's page is not re-sent by a new leader")
        try Fixture.ok(&state, .recordPageOutcomes([PageOutcome(key: "ticket-\(id)-step-0-bob-chat", result: .cancelled, attempts: 0,
                                                                detail: "acknowledged before sending")]), at: t0 + minute)
        #expect(state.outbox.isEmpty)
        #expect(state.ticket(id)!.timeline.contains { $0.action == .pagesCancelled(count: 2) })
    }

    @Test func resolvingCancelsPlannedPages() throws {
        var state = try Fixture.state()
        let id = try openEmergency(&state)
        try Fixture.ok(&state, .recordEscalationStep(ticketID: id, stepIndex: 0), at: t0, actor: scheduler)
        try Fixture.ok(&state, .resolveTicket(ticketID: id), at: t0 + 1_000, actor: ActorID("bob"))
        #expect(state.outbox.isEmpty)
    }

    @Test func secondDelaysGiveSubMinuteLevelsAndRules() throws {
        var state = try Fixture.state()
        try Fixture.ok(&state, .upsertPerson(Person(
            id: "fast", name: "Fast", role: .responder,
            contactMethods: [ContactMethod(id: "hook", kind: .webhook, address: "http://127.0.0.1:9/hook"),
                             ContactMethod(id: "mail", kind: .email, address: "fast@example.org")],
            notificationRules: [NotificationRule(contactMethodID: "hook", delaySeconds: 0),
                                NotificationRule(contactMethodID: "mail", delaySeconds: 10)])), at: t0)
        try Fixture.ok(&state, .upsertEscalationPolicy(.init(id: "drill", name: "Drill", levels: [
            .init(targets: [.person("fast")], delaySeconds: 3), .init(targets: [.person("dave")], delaySeconds: 3),
        ])), at: t0)
        try Fixture.ok(&state, .upsertService(Service(id: "drill", name: "Drill", teamID: "ops", escalationPolicyID: "drill")), at: t0)
        let id = try Fixture.register(&state, kind: .incident, priority: .p1, service: "drill", at: t0)
        try Fixture.ok(&state, .recordEscalationStep(ticketID: id, stepIndex: 0), at: t0, actor: scheduler)
        #expect(state.nextDueStep(id)?.dueAt == t0 + 3_000)
        #expect(state.outbox.values.map(\.dueAt).sorted() == [t0, t0 + 10_000])
        // Decoded from JSON with either unit; a level without a delay is refused by the decoder.
        let level = try JSONDecoder().decode(EscalationPolicy.Level.self, from: Data(#"{"targets":[{"person":"fast"}],"delaySeconds":5}"#.utf8))
        #expect(level.delayMillis == 5_000)
        let minutes = try JSONDecoder().decode(EscalationPolicy.Level.self, from: Data(#"{"targets":[{"person":"fast"}],"delayMinutes":2}"#.utf8))
        #expect(minutes.delayMillis == 120_000)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(EscalationPolicy.Level.self, from: Data(#"{"targets":[{"person":"fast"}]}"#.utf8))
        }
        #expect(Fixture.failure(&state, .upsertEscalationPolicy(.init(id: "bad", name: "Bad", levels: [
            .init(targets: [.person("fast")], delaySeconds: 0)])), at: t0)?.field == "escalationPolicy.levels[0].delaySeconds")
    }

    @Test func theOutboxSurvivesSnapshotAndIsIdenticalOnReplicas() throws {
        var a = try Fixture.state()
        let id = try openEmergency(&a)
        try Fixture.ok(&a, .recordEscalationStep(ticketID: id, stepIndex: 0), at: t0, actor: scheduler)
        try Fixture.ok(&a, .recordPageIntents(keys: ["ticket-\(id)-step-0-bob-chat"], leaderTerm: 7), at: t0, actor: scheduler)
        let restored = try DutyState.restore(from: a.snapshot())
        #expect(restored.outbox == a.outbox)
        #expect(restored.snapshot() == a.snapshot())
    }
}

/// PagerDuty's acknowledgement timeout: an acknowledged ticket left open pages again from its next level.
@Suite struct AcknowledgementTimeoutTests {
    let t0 = Fixture.t0
    let minute = Fixture.minute

    @Test func anAcknowledgementThatRunsOutResumesEscalationAtTheNextLevel() throws {
        var state = try Fixture.state()
        try Fixture.ok(&state, .upsertService(Service(id: "web", name: "Web shop", teamID: "ops", escalationPolicyID: "emergency",
                                                      acknowledgementTimeoutSeconds: 1_800)), at: t0)
        let id = try Fixture.register(&state, kind: .emergency, priority: .p1, service: "web", at: t0)
        try Fixture.ok(&state, .recordEscalationStep(ticketID: id, stepIndex: 0), at: t0, actor: ActorID("scheduler"))
        try Fixture.ok(&state, .acknowledgeTicket(ticketID: id), at: t0 + minute, actor: ActorID("bob"))
        #expect(state.acknowledgementExpiry(id) == t0 + 31 * minute)
        #expect(state.nextSchedulerDeadline()! <= t0 + 31 * minute, "the scheduler wakes for it (or for an SLA clock before it)")
        #expect(Fixture.failure(&state, .expireAcknowledgement(ticketID: id), at: t0 + 30 * minute)?.reason == .notDue)
        #expect(state.dueAcknowledgementExpiries(until: t0 + 30 * minute).isEmpty)
        #expect(state.dueAcknowledgementExpiries(until: t0 + 31 * minute).map(\.ticketID) == [id])

        try Fixture.ok(&state, .expireAcknowledgement(ticketID: id), at: t0 + 31 * minute, actor: ActorID("scheduler"))
        #expect(state.ticket(id)?.acknowledgedAt == nil)
        #expect(state.ticket(id)!.timeline.last?.action == .acknowledgementExpired)
        let step = try #require(state.nextDueStep(id))
        #expect(step.stepIndex == 1 && step.levelIndex == 1, "on from the next level, not from the start")
        #expect(step.dueAt == t0 + 31 * minute, "due at once")
        #expect(step.idempotencyKey == "ticket-\(id)-step-1", "keys stay unique: steps only count up")
        #expect(Fixture.failure(&state, .expireAcknowledgement(ticketID: id), at: t0 + 40 * minute)?.reason == .conflict,
                "nothing left to expire")
    }

    @Test func withoutATimeoutAnAcknowledgementLastsAndBadTimeoutsAreRefused() throws {
        var state = try Fixture.state()
        let id = try Fixture.register(&state, kind: .emergency, priority: .p1, service: "web", at: t0)
        try Fixture.ok(&state, .acknowledgeTicket(ticketID: id), at: t0, actor: ActorID("bob"))
        #expect(state.acknowledgementExpiry(id) == nil)
        #expect(Fixture.failure(&state, .expireAcknowledgement(ticketID: id), at: t0 + 1_000 * minute)?.reason == .conflict)
        for seconds in [0, 9, 86_401] {
            #expect(Fixture.failure(&state, .upsertService(Service(id: "web", name: "Web", acknowledgementTimeoutSeconds: seconds)),
                                    at: t0)?.field == "service.acknowledgementTimeoutSeconds")
        }
    }
}

@Suite struct StepWithIntentTests {
    @Test func aStepRecordedWithATermIntendsOnlyThePagesDueAtOnce() throws {
        var state = try Fixture.state()
        let id = try Fixture.register(&state, kind: .emergency, priority: .p1, service: "web", at: Fixture.t0)
        #expect(Fixture.failure(&state, .recordEscalationStep(ticketID: id, stepIndex: 0, leaderTerm: 0), at: Fixture.t0)?.field == "leaderTerm")
        try Fixture.ok(&state, .recordEscalationStep(ticketID: id, stepIndex: 0, leaderTerm: 4), at: Fixture.t0, actor: ActorID("scheduler"))
        // bob: chat at once (intended now), SMS after 1 min and a call after 3 min (planned).
        #expect(state.outbox["ticket-\(id)-step-0-bob-chat"]?.intentTerm == 4)
        #expect(state.outbox["ticket-\(id)-step-0-bob-sms"]?.isIntended == false)
        #expect(state.outbox["ticket-\(id)-step-0-bob-call"]?.isIntended == false)
    }

    @Test func anAlertAppliedWithATermRecordsItsFirstStepAndIntendsItsDuePagesInTheSameEntry() throws {
        var withTerm = try Fixture.state()
        var without = try Fixture.state()
        let trigger = DutyCommand.pagerDutyEvent(PagerDutyEvent(routingKey: Fixture.routingKey, action: .trigger, dedupKey: "db",
                                                                summary: "DB down", source: "db1", severity: "critical"))
        let intake = ActorID("pagerduty:aaaaaa")
        guard case let .success(events) = withTerm.apply(trigger, at: Fixture.t0, actor: intake, intendingFirstPagesIn: 7) else {
            Issue.record("the trigger was refused")
            return
        }
        let id = withTerm.ticketCount
        #expect(events.contains { if case .escalationStepFired(let step) = $0.kind { step.ticketID == id && step.stepIndex == 0 } else { false } })
        #expect(events.contains { $0.kind == .pageIntended(key: "ticket-\(id)-step-0-bob-chat", ticketID: id, leaderTerm: 7) })
        // Only the page due now is intended; bob's SMS and call wait for their rule delays, as from the scheduler.
        #expect(withTerm.outbox["ticket-\(id)-step-0-bob-chat"]?.intentTerm == 7)
        #expect(withTerm.outbox["ticket-\(id)-step-0-bob-sms"].map { !$0.isIntended } == true)
        #expect(withTerm.nextDueStep(id)?.stepIndex == 1, "the next step is level 2's")
        let escalated = withTerm.ticket(id)!.timeline.filter { if case .escalated = $0.action { true } else { false } }
        #expect(escalated.map(\.actor) == [intake] && escalated.map(\.at) == [Fixture.t0])

        // Without a term the entry only registers; the scheduler's own entry then reaches the same state.
        _ = without.apply(trigger, at: Fixture.t0, actor: intake)
        #expect(without.outbox.isEmpty && without.nextDueStep(id)?.stepIndex == 0)
        try Fixture.ok(&without, .recordEscalationSteps([EscalationStepRecord(ticketID: id, stepIndex: 0, intendDuePages: true)], leaderTerm: 7),
                       at: Fixture.t0, actor: intake)
        #expect(without.outbox == withTerm.outbox)

        // A dedup update registers nothing, so it records no step; a term of 0 is refused and changes nothing.
        #expect(Fixture.failure(&withTerm, trigger, at: Fixture.t0 + Fixture.minute, actor: intake) == nil)
        #expect(withTerm.nextDueStep(id)?.stepIndex == 1)
        let before = withTerm.snapshot()
        guard case .failure(let error) = withTerm.apply(trigger, at: Fixture.t0 + Fixture.minute, actor: intake, intendingFirstPagesIn: 0) else {
            Issue.record("term 0 was accepted")
            return
        }
        #expect(error.field == "leaderTerm")
        #expect(withTerm.snapshot() == before)
    }

    @Test func anAlertInAMaintenanceWindowRecordsNoStepAtIntake() throws {
        var state = try Fixture.state()
        try Fixture.ok(&state, .addMaintenanceWindow(serviceID: "web", window: .init(start: Fixture.t0, end: Fixture.t0 + Fixture.hour, reason: "DB upgrade")), at: Fixture.t0)
        let trigger = DutyCommand.pagerDutyEvent(PagerDutyEvent(routingKey: Fixture.routingKey, action: .trigger, dedupKey: "db",
                                                                summary: "DB down", source: "db1", severity: "critical"))
        guard case .success = state.apply(trigger, at: Fixture.t0 + Fixture.minute, actor: ActorID("pagerduty:aaaaaa"), intendingFirstPagesIn: 3) else {
            Issue.record("the trigger was refused")
            return
        }
        #expect(state.outbox.isEmpty)
        #expect(state.ticket(state.ticketCount)!.escalation?.stepsFired == 0)
    }
}

@Suite struct EscalationBatchTests {
    /// An alert storm's steps share one entry: each due step fires as it would alone, one no longer due is
    /// skipped without a trace, and only the items marked for it intend their pages.
    @Test func aBatchFiresEveryDueStepAndSkipsTheRest() throws {
        var state = try Fixture.state()
        let first = try Fixture.register(&state, kind: .emergency, priority: .p1, service: "web", at: Fixture.t0)
        let second = try Fixture.register(&state, kind: .emergency, priority: .p1, service: "web", at: Fixture.t0)
        let acknowledged = try Fixture.register(&state, kind: .emergency, priority: .p1, service: "web", at: Fixture.t0)
        try Fixture.ok(&state, .acknowledgeTicket(ticketID: acknowledged), at: Fixture.t0, actor: ActorID("bob"))
        let before = state.ticket(acknowledged)
        let records = [
            EscalationStepRecord(ticketID: first, stepIndex: 0, intendDuePages: true),
            EscalationStepRecord(ticketID: second, stepIndex: 0, intendDuePages: false),
            EscalationStepRecord(ticketID: acknowledged, stepIndex: 0, intendDuePages: true),
            EscalationStepRecord(ticketID: second, stepIndex: 0, intendDuePages: false),
        ]
        let events = try Fixture.ok(&state, .recordEscalationSteps(records, leaderTerm: 7), at: Fixture.t0, actor: ActorID("scheduler"))
        let fired = events.compactMap { event -> TicketID? in
            if case let .escalationStepFired(step) = event.kind { return step.ticketID }
            return nil
        }
        #expect(fired == [first, second], "the acknowledged ticket and the repeated step are skipped")
        #expect(state.ticket(acknowledged) == before)
        #expect(state.outbox["ticket-\(first)-step-0-bob-chat"]?.intentTerm == 7)
        #expect(state.outbox["ticket-\(second)-step-0-bob-chat"]?.isIntended == false)
        #expect(state.nextDueStep(first)?.stepIndex == 1)
        #expect(state.nextDueStep(second)?.stepIndex == 1)
    }

    @Test func aMalformedBatchChangesNothing() throws {
        var state = try Fixture.state()
        let id = try Fixture.register(&state, kind: .emergency, priority: .p1, service: "web", at: Fixture.t0)
        let one = [EscalationStepRecord(ticketID: id, stepIndex: 0, intendDuePages: true)]
        let tooMany = Array(repeating: EscalationStepRecord(ticketID: id, stepIndex: 0, intendDuePages: false),
                            count: DutyLimits.maxSchedulerBatch + 1)
        #expect(Fixture.failure(&state, .recordEscalationSteps([], leaderTerm: nil), at: Fixture.t0)?.reason == .limitExceeded)
        #expect(Fixture.failure(&state, .recordEscalationSteps(tooMany, leaderTerm: nil), at: Fixture.t0)?.reason == .limitExceeded)
        #expect(Fixture.failure(&state, .recordEscalationSteps(one, leaderTerm: 0), at: Fixture.t0)?.field == "leaderTerm")
        #expect(Fixture.failure(&state, .recordEscalationSteps(one, leaderTerm: nil), at: Fixture.t0)?.field == "leaderTerm")
        #expect(state.nextDueStep(id)?.stepIndex == 0)
    }
}
