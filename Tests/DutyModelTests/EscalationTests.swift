import Testing
@testable import DutyModel

@Suite struct EscalationTests {
    let t0 = Fixture.t0
    let minute = Fixture.minute

    @Test func stepsFollowLevelsDelaysAndRepeatFromLevel() throws {
        var state = try Fixture.state()
        let id = try Fixture.register(&state, kind: .emergency, priority: .p1, service: "web", at: t0)
        // Levels: on-call (5 min), lead dave (25 min), special team (30 min); repeat twice from level 1.
        let expected: [(level: Int, dueMinutes: Int64, people: [String])] = [
            (0, 0, ["bob"]), (1, 5, ["dave"]), (2, 30, ["carol", "dave"]),
            (1, 60, ["dave"]), (2, 85, ["carol", "dave"]), (1, 115, ["dave"]), (2, 140, ["carol", "dave"]),
        ]
        for (index, step) in expected.enumerated() {
            let due = try #require(state.nextDueStep(id), "step \(index)")
            #expect(due.stepIndex == index)
            #expect(due.levelIndex == step.level)
            #expect(due.dueAt == t0 + step.dueMinutes * minute)
            #expect(due.personIDs == step.people)
            #expect(due.idempotencyKey == "ticket-\(id)-step-\(index)")
            if index > 0 {
                #expect(Fixture.failure(&state, .recordEscalationStep(ticketID: id, stepIndex: index), at: due.dueAt - 1)?.reason == .notDue)
            }
            // The scheduler is late by a minute: later deadlines do not drift.
            try Fixture.ok(&state, .recordEscalationStep(ticketID: id, stepIndex: index), at: due.dueAt + minute, actor: ActorID("scheduler"))
            #expect(Fixture.failure(&state, .recordEscalationStep(ticketID: id, stepIndex: index), at: due.dueAt + minute)?.reason == .conflict,
                    "a step is recorded once")
        }
        #expect(state.nextDueStep(id) == nil, "the policy is exhausted after 7 steps")
        let escalated = state.ticket(id)!.timeline.filter { if case .escalated = $0.action { true } else { false } }
        #expect(escalated.count == 7, "every page names the people in the timeline")
    }

    @Test func acknowledgementStopsEscalation() throws {
        var state = try Fixture.state()
        let id = try Fixture.register(&state, kind: .emergency, priority: .p1, service: "web", at: t0)
        try Fixture.ok(&state, .recordEscalationStep(ticketID: id, stepIndex: 0), at: t0)
        #expect(state.nextDueStep(id)?.dueAt == t0 + 5 * minute)
        try Fixture.ok(&state, .acknowledgeTicket(ticketID: id), at: t0 + 2 * minute, actor: ActorID("bob"))
        #expect(state.nextDueStep(id) == nil)
        #expect(Fixture.failure(&state, .recordEscalationStep(ticketID: id, stepIndex: 1), at: t0 + 6 * minute)?.reason == .conflict)
        #expect(state.dueEscalationSteps(until: t0 + 10 * Fixture.hour).isEmpty)
    }

    @Test func maintenanceWindowSuppressesPagingButKeepsTheTicket() throws {
        var state = try Fixture.state()
        try Fixture.ok(&state, .addMaintenanceWindow(serviceID: "web", window: .init(start: t0, end: t0 + Fixture.hour, reason: "DB upgrade")), at: t0)
        let inside = try Fixture.register(&state, kind: .incident, priority: .p1, service: "web", at: t0 + 10 * minute)
        let after = try Fixture.register(&state, kind: .incident, priority: .p1, service: "web", at: t0 + 2 * Fixture.hour)
        #expect(state.ticket(inside) != nil)
        #expect(state.nextDueStep(inside) == nil)
        #expect(state.nextDueStep(after)?.dueAt == t0 + 2 * Fixture.hour)
    }

    @Test func stepsFallingIntoALaterMaintenanceWindowWaitForItsEnd() throws {
        var state = try Fixture.state()
        let id = try Fixture.register(&state, kind: .incident, priority: .p1, service: "web", at: t0)
        try Fixture.ok(&state, .recordEscalationStep(ticketID: id, stepIndex: 0), at: t0)
        try Fixture.ok(&state, .addMaintenanceWindow(serviceID: "web", window: .init(start: t0 + 2 * minute, end: t0 + 20 * minute, reason: "failover test")), at: t0 + minute)
        let step = try #require(state.nextDueStep(id))
        #expect(step.dueAt == t0 + 20 * minute, "level 1 was due at 5 min, inside the window")
        #expect(state.dueEscalationSteps(until: t0 + 10 * minute).isEmpty)
        #expect(Fixture.failure(&state, .recordEscalationStep(ticketID: id, stepIndex: 1), at: t0 + 10 * minute)?.reason == .notDue)
        try Fixture.ok(&state, .recordEscalationStep(ticketID: id, stepIndex: 1), at: t0 + 20 * minute)
        #expect(state.nextDueStep(id)?.dueAt == t0 + 45 * minute)
    }

    @Test func lowPriorityConsultationsDoNotPageUntilUpgraded() throws {
        var state = try Fixture.state()
        let id = try Fixture.register(&state, kind: .consultation, priority: .p3, service: "web", at: t0)
        #expect(state.ticket(id)?.escalation == nil)
        #expect(state.nextDueStep(id) == nil)
        try Fixture.ok(&state, .changePriority(ticketID: id, priority: .p1), at: t0 + 3 * minute, actor: ActorID("dave"))
        #expect(state.nextDueStep(id)?.dueAt == t0 + 3 * minute)
        #expect(state.ticket(id)?.clock(.firstResponse)?.dueAt == t0 + 5 * minute, "clocks keep their original targets")
    }

    @Test func roundRobinRotatesAcrossTickets() throws {
        var state = try Fixture.state()
        try Fixture.ok(&state, .upsertEscalationPolicy(.init(id: "rr", name: "Round robin", levels: [
            .init(targets: [.person("bob"), .person("carol")], mode: .roundRobin, delayMinutes: 10),
        ])), at: t0)
        try Fixture.ok(&state, .upsertService(Service(id: "api", name: "API", escalationPolicyID: "rr")), at: t0)
        var paged: [String] = []
        for _ in 0..<3 {
            let id = try Fixture.register(&state, kind: .incident, priority: .p1, service: "api", at: t0)
            paged += try #require(state.nextDueStep(id)).personIDs
            try Fixture.ok(&state, .recordEscalationStep(ticketID: id, stepIndex: 0), at: t0)
        }
        #expect(paged == ["bob", "carol", "bob"])
    }

    @Test func ticketsKeepTheirEscalationPolicyVersion() throws {
        var state = try Fixture.state()
        let old = try Fixture.register(&state, kind: .emergency, priority: .p1, service: "web", at: t0)
        let events = try Fixture.ok(&state, .upsertEscalationPolicy(.init(id: "emergency", name: "Shorter", levels: [
            .init(targets: [.person("erin")], delayMinutes: 1),
        ])), at: t0)
        #expect(events.contains { if case .policyAnnounced(let a) = $0.kind { a.version == 2 } else { false } })
        let new = try Fixture.register(&state, kind: .emergency, priority: .p1, service: "web", at: t0)
        #expect(state.nextDueStep(old)?.personIDs == ["bob"])
        #expect(state.ticket(old)?.escalation?.policyVersion == 1)
        #expect(state.nextDueStep(new)?.personIDs == ["erin"])
    }

    @Test func policyValidationNamesTheField() throws {
        var state = try Fixture.state()
        let level = EscalationPolicy.Level(targets: [.person("bob")], delayMinutes: 5)
        let cases: [(EscalationPolicy.Draft, String)] = [
            (.init(id: "x", name: "X", levels: []), "escalationPolicy.levels"),
            (.init(id: "x", name: "X", levels: [level], repeatCount: 99), "escalationPolicy.repeatCount"),
            (.init(id: "x", name: "X", levels: [level], repeatCount: 1, repeatFromLevel: 1), "escalationPolicy.repeatFromLevel"),
            (.init(id: "x", name: "X", levels: [.init(targets: [.team("nope")], delayMinutes: 5)]), "escalationPolicy.levels[0].targets[0]"),
            (.init(id: "x", name: "X", levels: [.init(targets: [.person("bob")], delayMinutes: 0)]), "escalationPolicy.levels[0].delayMinutes"),
        ]
        for (draft, field) in cases {
            #expect(Fixture.failure(&state, .upsertEscalationPolicy(draft), at: t0)?.field == field)
        }
    }
}
