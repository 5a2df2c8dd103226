import Testing
@testable import DutyModel

@Suite struct SLATests {
    let t0 = Fixture.t0
    let minute = Fixture.minute
    let hour = Fixture.hour

    /// The commitment's figures, per priority and target: (priority, target, due offset or nil).
    static let defaults: [(Priority, SLATarget, Int64?)] = [
        (.p1, .firstResponse, 5), (.p1, .initialSolution, 30), (.p1, .updateInterval, 30), (.p1, .resolution, 120),
        (.p2, .firstResponse, 5), (.p2, .initialSolution, 30), (.p2, .updateInterval, 30), (.p2, .resolution, nil),
        (.p3, .firstResponse, 5), (.p3, .initialSolution, nil), (.p4, .firstResponse, 5), (.p4, .resolution, nil),
    ]

    @Test(arguments: defaults)
    func defaultPolicyCarriesTheCommitmentFigures(priority: Priority, target: SLATarget, minutes: Int64?) throws {
        var state = try Fixture.state()
        let id = try Fixture.register(&state, priority: priority, at: t0)
        let clock = state.ticket(id)?.clock(target)
        #expect(clock?.dueAt == minutes.map { t0 + $0 * minute })
    }

    @Test func generalConsultationGetsTwoWorkingHours() throws {
        var state = try Fixture.state()
        // Friday 2026-03-06 17:00 Asia/Shanghai (09:00 UTC): the default calendar is Mon–Fri 09–18 there.
        let friday1700 = LocalDate(year: 2026, month: 3, day: 6).daysSinceEpoch * 86_400_000 + 9 * hour
        let id = try Fixture.register(&state, priority: .p3, at: friday1700)
        let clock = try #require(state.ticket(id)?.clock(.updateInterval))
        #expect(clock.clockMode == .businessTime)
        #expect(clock.dueAt == LocalDate(year: 2026, month: 3, day: 9).daysSinceEpoch * 86_400_000 + 2 * hour)
        // 80 % of 2 h = 96 min of business time: 1 h on Friday, 36 min on Monday.
        #expect(clock.warnAt == LocalDate(year: 2026, month: 3, day: 9).daysSinceEpoch * 86_400_000 + 1 * hour + 36 * minute)
    }

    @Test func warningsAndBreachesAreRecordedOnlyWhenDue() throws {
        var state = try Fixture.state()
        let id = try Fixture.register(&state, priority: .p2, at: t0)
        #expect(Fixture.failure(&state, .recordSLAWarning(ticketID: id, target: .firstResponse), at: t0 + 3 * minute)?.reason == .notDue)
        #expect(state.dueSLAEvents(at: t0 + 4 * minute).map(\.target) == [.firstResponse])
        try Fixture.ok(&state, .recordSLAWarning(ticketID: id, target: .firstResponse), at: t0 + 4 * minute, actor: ActorID("scheduler"))
        #expect(Fixture.failure(&state, .recordSLAWarning(ticketID: id, target: .firstResponse), at: t0 + 4 * minute)?.reason == .conflict)
        #expect(Fixture.failure(&state, .recordSLABreach(ticketID: id, target: .firstResponse), at: t0 + 4 * minute)?.reason == .notDue)
        let events = try Fixture.ok(&state, .recordSLABreach(ticketID: id, target: .firstResponse), at: t0 + 5 * minute)
        #expect(events.map(\.kind) == [.slaBreached(id, .firstResponse, dueAt: t0 + 5 * minute)])
        try Fixture.ok(&state, .acknowledgeTicket(ticketID: id), at: t0 + 7 * minute, actor: ActorID("bob"))
        let clock = try #require(state.ticket(id)?.clock(.firstResponse))
        #expect(clock.met == false)
        #expect(clock.breachCount == 1, "the late acknowledgement does not count the same breach twice")
    }

    @Test func acknowledgementInTimeMeetsFirstResponse() throws {
        var state = try Fixture.state()
        let id = try Fixture.register(&state, priority: .p1, at: t0)
        let events = try Fixture.ok(&state, .acknowledgeTicket(ticketID: id), at: t0 + 4 * minute, actor: ActorID("bob"))
        #expect(events.map(\.kind).contains(.slaMet(id, .firstResponse)))
        #expect(state.ticket(id)?.clock(.firstResponse)?.met == true)
        #expect(state.ticket(id)?.clock(.initialSolution)?.isRunning == true)
    }

    @Test func waitingForCustomerPausesEveryClock() throws {
        var state = try Fixture.state()
        let id = try Fixture.register(&state, priority: .p1, at: t0)
        try Fixture.ok(&state, .advanceTicket(ticketID: id, to: .analysing), at: t0 + 2 * minute, actor: ActorID("bob"))
        try Fixture.ok(&state, .setWaitingForCustomer(ticketID: id, waiting: true), at: t0 + 10 * minute)
        #expect(state.ticket(id)?.clock(.initialSolution)?.isPaused == true)
        #expect(state.dueSLAEvents(at: t0 + 10 * hour).isEmpty, "paused clocks never come due")
        try Fixture.ok(&state, .setWaitingForCustomer(ticketID: id, waiting: false), at: t0 + 70 * minute)
        #expect(state.ticket(id)?.clock(.initialSolution)?.dueAt == t0 + 90 * minute)
        #expect(state.ticket(id)?.clock(.resolution)?.dueAt == t0 + 180 * minute)
    }

    @Test func customerUpdatesRearmTheUpdateInterval() throws {
        var state = try Fixture.state()
        let id = try Fixture.register(&state, priority: .p2, at: t0)
        try Fixture.ok(&state, .addNote(ticketID: id, text: "We are on it", customerVisible: true), at: t0 + 20 * minute, actor: ActorID("bob"))
        #expect(state.ticket(id)?.clock(.updateInterval)?.dueAt == t0 + 50 * minute)
        #expect(state.ticket(id)?.acknowledgedAt == t0 + 20 * minute, "a reply is a first response")
        try Fixture.ok(&state, .addNote(ticketID: id, text: "internal only", customerVisible: false), at: t0 + 40 * minute, actor: ActorID("bob"))
        #expect(state.ticket(id)?.clock(.updateInterval)?.dueAt == t0 + 50 * minute)
        try Fixture.ok(&state, .addNote(ticketID: id, text: "Still working", customerVisible: true), at: t0 + 60 * minute, actor: ActorID("bob"))
        let clock = try #require(state.ticket(id)?.clock(.updateInterval))
        #expect(clock.breachCount == 1, "the silence from 20 to 60 min broke the 30 min promise")
        #expect(clock.dueAt == t0 + 90 * minute)
    }

    @Test func ticketsKeepThePolicyVersionTheyStartedWith() throws {
        var state = try Fixture.state()
        let first = try Fixture.register(&state, priority: .p1, at: t0)
        let draft = SLAPolicy.Draft(id: "default", name: "Revised commitment",
                                    rules: [SLAPolicy.Rule(.p1, .firstResponse, seconds: 180)])
        let events = try Fixture.ok(&state, .upsertSLAPolicy(draft), at: t0 + minute)
        guard case .policyAnnounced(let announcement) = events.first?.kind else {
            Issue.record("a policy change must be announced")
            return
        }
        #expect(announcement.version == 2 && announcement.policyKind == .sla)
        let second = try Fixture.register(&state, priority: .p1, at: t0 + 2 * minute)
        #expect(state.ticket(first)?.slaPolicyVersion == 1)
        #expect(state.ticket(first)?.clock(.firstResponse)?.dueAt == t0 + 5 * minute)
        #expect(state.ticket(first)?.clocks.count == 4)
        #expect(state.ticket(second)?.slaPolicyVersion == 2)
        #expect(state.ticket(second)?.clock(.firstResponse)?.dueAt == t0 + 5 * minute)
        #expect(state.ticket(second)?.clocks.count == 1)
    }

    @Test func customerOverrideBeatsServiceOverrideBeatsDefault() throws {
        var state = try Fixture.state()
        try Fixture.ok(&state, .upsertSLAPolicy(.init(id: "gold", name: "Gold", rules: [.init(.p3, .firstResponse, seconds: 60)])), at: t0)
        try Fixture.ok(&state, .upsertSLAPolicy(.init(id: "silver", name: "Silver", rules: [.init(.p3, .firstResponse, seconds: 120)])), at: t0)
        try Fixture.ok(&state, .upsertService(Service(id: "shop", name: "Shop", teamID: "ops", slaPolicyID: "silver")), at: t0)
        try Fixture.ok(&state, .setCustomerSLAOverride(customerID: "acme", slaPolicyID: "gold"), at: t0)
        let plain = try Fixture.register(&state, service: "helpdesk", at: t0)
        let service = try Fixture.register(&state, service: "shop", at: t0)
        let customer = try Fixture.register(&state, service: "shop", at: t0, customer: "acme")
        #expect(state.ticket(plain)?.slaPolicyID == "default")
        #expect(state.ticket(service)?.slaPolicyID == "silver")
        #expect(state.ticket(customer)?.slaPolicyID == "gold")
        #expect(state.ticket(customer)?.clock(.firstResponse)?.dueAt == t0 + minute)
    }

    @Test func policyValidation() throws {
        var state = try Fixture.state()
        let cases: [(SLAPolicy.Draft, String)] = [
            (.init(id: "x", name: "X", rules: []), "slaPolicy.rules"),
            (.init(id: "x", name: "X", rules: [.init(.p1, .firstResponse, seconds: 10)]), "slaPolicy.rules[0].targetSeconds"),
            (.init(id: "x", name: "X", rules: [.init(.p1, .firstResponse, seconds: 600, .businessTime)]), "slaPolicy.calendarID"),
            (.init(id: "x", name: "X", rules: [.init(.p1, .firstResponse, seconds: 600)], warningThresholdPercent: 100), "slaPolicy.warningThresholdPercent"),
            (.init(id: "x", name: "X", rules: [.init(.p1, .firstResponse, seconds: 600), .init(.p1, .firstResponse, seconds: 700)]), "slaPolicy.rules[1]"),
        ]
        for (draft, field) in cases {
            #expect(Fixture.failure(&state, .upsertSLAPolicy(draft), at: t0)?.field == field)
        }
    }
}
