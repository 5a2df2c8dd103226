import Testing
@testable import DutyModel

@Suite struct LimitsTests {
    @Test func aFullTimelineCountsRepeatedAlertsAndRejectsHumanEdits() throws {
        var state = try Fixture.state()
        let trigger = DutyCommand.pagerDutyEvent(PagerDutyEvent(routingKey: Fixture.routingKey, action: .trigger, dedupKey: "flap", summary: "flapping"))
        for index in 0..<(DutyLimits.maxTimelineEntriesPerTicket + 10) {
            try Fixture.ok(&state, trigger, at: Fixture.t0 + Int64(index), actor: ActorID("pagerduty"))
        }
        let ticket = try #require(state.ticket(1))
        #expect(state.ticketCount == 1)
        #expect(ticket.timeline.count == DutyLimits.maxTimelineEntriesPerTicket)
        #expect(ticket.droppedTimelineEntries > 0)
        #expect(ticket.alertCount == DutyLimits.maxTimelineEntriesPerTicket + 10)
        let error = Fixture.failure(&state, .addNote(ticketID: 1, text: "hello", customerVisible: false), at: Fixture.t0 + Fixture.hour)
        #expect(error?.reason == .limitExceeded)
        #expect(error?.field == "ticketID")
    }

    @Test func identifiersAndTextsAreBounded() throws {
        var state = try Fixture.state()
        let longID = String(repeating: "x", count: DutyLimits.maxIdentifierLength + 1)
        #expect(Fixture.failure(&state, .upsertPerson(Person(id: longID, name: "X", role: .viewer)), at: Fixture.t0)?.reason == .limitExceeded)
        let id = try Fixture.register(&state)
        let longText = String(repeating: "字", count: DutyLimits.maxTextLength + 1)
        #expect(Fixture.failure(&state, .addNote(ticketID: id, text: longText, customerVisible: true), at: Fixture.t0)?.field == "text")
        #expect(Fixture.failure(&state, .drawSupervisionSample(sampleID: "s", seed: 1, size: DutyLimits.maxSampleSize + 1), at: Fixture.t0)?.field == "size")
        #expect(Fixture.failure(&state, .heartbeatPing(monitorID: "none"), at: Fixture.t0, actor: ActorID(""))?.field == "actor", "the actor is checked first")
    }
}
