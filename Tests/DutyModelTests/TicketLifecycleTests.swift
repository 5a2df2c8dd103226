import Testing
@testable import DutyModel

@Suite struct TicketLifecycleTests {
    /// Every (from, to) pair: only the four forward steps are legal.
    static let table: [(TicketStage, TicketStage, Bool)] = TicketStage.allCases.flatMap { from in
        TicketStage.allCases.map { to in
            let legal = (from, to) == (.registered, .analysing) || (from, to) == (.analysing, .handling)
                || (from, to) == (.handling, .feedback) || (from, to) == (.feedback, .archived)
            return (from, to, legal)
        }
    }

    @Test(arguments: table)
    func transitionTable(from: TicketStage, to: TicketStage, legal: Bool) throws {
        var state = try Fixture.state()
        let id = try Fixture.register(&state)
        for stage in TicketLifecycle.path(from: .registered, to: from) {
            try Fixture.ok(&state, .advanceTicket(ticketID: id, to: stage), at: Fixture.t0 + Fixture.minute)
        }
        #expect(state.ticket(id)?.stage == from)
        let before = state
        let result = state.apply(.advanceTicket(ticketID: id, to: to), at: Fixture.t0 + 2 * Fixture.minute, actor: Fixture.admin)
        switch result {
        case .success:
            #expect(legal, "\(from) → \(to) must be rejected")
            #expect(state.ticket(id)?.stage == to)
        case .failure(let error):
            #expect(!legal, "\(from) → \(to) must be allowed")
            #expect(error.reason == .illegalTransition)
            #expect(error.field == "to")
            #expect(state == before, "a rejected command changes nothing")
        }
    }

    @Test(arguments: TicketStage.allCases)
    func reopenOnlyFromFeedbackOrArchived(stage: TicketStage) throws {
        var state = try Fixture.state()
        let id = try Fixture.register(&state)
        for next in TicketLifecycle.path(from: .registered, to: stage) {
            try Fixture.ok(&state, .advanceTicket(ticketID: id, to: next), at: Fixture.t0 + Fixture.minute)
        }
        let result = state.apply(.reopenTicket(ticketID: id, reason: "customer says it still fails"), at: Fixture.t0 + Fixture.hour, actor: ActorID("bob"))
        if stage == .feedback || stage == .archived {
            #expect(throws: Never.self) { try result.get() }
            let ticket = try #require(state.ticket(id))
            #expect(ticket.stage == .analysing)
            #expect(ticket.reopenCount == 1)
            #expect(ticket.resolvedAt == nil && ticket.archivedAt == nil)
            #expect(state.openTicketCount == 1)
        } else {
            #expect(throws: DutyError.self) { try result.get() }
        }
    }

    @Test func timelineRecordsActorsAndTimesInOrder() throws {
        var state = try Fixture.state()
        let id = try Fixture.register(&state, at: Fixture.t0)
        try Fixture.ok(&state, .acknowledgeTicket(ticketID: id), at: Fixture.t0 + 2 * Fixture.minute, actor: ActorID("bob"))
        try Fixture.ok(&state, .assignTicket(ticketID: id, ownerID: "carol"), at: Fixture.t0 + 3 * Fixture.minute, actor: ActorID("dave"))
        try Fixture.ok(&state, .advanceTicket(ticketID: id, to: .analysing), at: Fixture.t0 + 4 * Fixture.minute, actor: ActorID("carol"))
        let ticket = try #require(state.ticket(id))
        #expect(ticket.ownerID == "carol")
        let actions = ticket.timeline.map(\.action)
        #expect(actions.contains(.ownerChanged(from: nil, to: "bob")), "whoever acknowledges an unowned ticket owns it")
        #expect(actions.contains(.ownerChanged(from: "bob", to: "carol")))
        #expect(ticket.timeline.map(\.at) == ticket.timeline.map(\.at).sorted())
        #expect(ticket.timeline.last?.actor == ActorID("carol"))
        #expect(ticket.timeline.last?.action == .stageChanged(from: .registered, to: .analysing))
    }

    @Test func rejectedCommandsNameTheField() throws {
        var state = try Fixture.state()
        let cases: [(DutyCommand, String, DutyError.Reason)] = [
            (.registerTicket(NewTicket(kind: .consultation, priority: .p3, title: "", serviceID: "helpdesk")), "ticket.title", .invalid),
            (.registerTicket(NewTicket(kind: .consultation, priority: .p3, title: String(repeating: "x", count: 201), serviceID: "helpdesk")), "ticket.title", .limitExceeded),
            (.registerTicket(NewTicket(kind: .consultation, priority: .p3, title: "ok", serviceID: "nope")), "ticket.serviceID", .notFound),
            (.registerTicket(NewTicket(kind: .consultation, priority: .p3, title: "ok", serviceID: "helpdesk", ownerID: "zed")), "ticket.ownerID", .notFound),
            (.acknowledgeTicket(ticketID: 99), "ticketID", .notFound),
            (.addNote(ticketID: 99, text: "x", customerVisible: false), "ticketID", .notFound),
            (.submitFeedback(ticketID: 99, rating: 3, comment: ""), "ticketID", .notFound),
        ]
        let before = state
        for (command, field, reason) in cases {
            let error = try #require(Fixture.failure(&state, command, at: Fixture.t0))
            #expect(error.field == field, "\(command.name)")
            #expect(error.reason == reason, "\(command.name)")
            #expect(!error.message.isEmpty)
        }
        #expect(state == before)
    }

    @Test func timeNeverRunsBackwards() throws {
        var state = try Fixture.state()
        let id = try Fixture.register(&state, at: Fixture.t0 + Fixture.hour)
        // A new leader with a slow clock stamps an earlier time: the model clamps it.
        try Fixture.ok(&state, .acknowledgeTicket(ticketID: id), at: Fixture.t0, actor: ActorID("bob"))
        #expect(state.ticket(id)?.acknowledgedAt == Fixture.t0 + Fixture.hour)
    }

    @Test func waitingForCustomerOnlyWhileWorking() throws {
        var state = try Fixture.state()
        let id = try Fixture.register(&state)
        #expect(Fixture.failure(&state, .setWaitingForCustomer(ticketID: id, waiting: true), at: Fixture.t0)?.reason == .conflict)
        try Fixture.ok(&state, .advanceTicket(ticketID: id, to: .analysing), at: Fixture.t0)
        try Fixture.ok(&state, .setWaitingForCustomer(ticketID: id, waiting: true), at: Fixture.t0)
        #expect(Fixture.failure(&state, .setWaitingForCustomer(ticketID: id, waiting: true), at: Fixture.t0)?.field == "waiting")
        #expect(state.ticket(id)?.waitingForCustomer == true)
    }
}
