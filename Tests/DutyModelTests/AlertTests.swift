import Testing
@testable import DutyModel

@Suite struct AlertTests {
    let t0 = Fixture.t0
    let minute = Fixture.minute

    func event(_ action: PagerDutyEvent.Action, _ key: String?, severity: String = "critical") -> DutyCommand {
        .pagerDutyEvent(PagerDutyEvent(routingKey: Fixture.routingKey, action: action, dedupKey: key, summary: "DB down", source: "db1", severity: severity))
    }

    @Test func triggerOnOpenKeyAppendsThenResolveAndTriggerOpensNew() throws {
        var state = try Fixture.state()
        try Fixture.ok(&state, event(.trigger, "db"), at: t0, actor: ActorID("pagerduty"))
        let first = state.ticketCount
        #expect(state.ticket(first)?.kind == .emergency && state.ticket(first)?.priority == .p1)
        let repeated = try Fixture.ok(&state, event(.trigger, "db"), at: t0 + minute, actor: ActorID("pagerduty"))
        #expect(state.ticketCount == first, "a trigger with an open dedup key adds to that ticket")
        #expect(repeated.map(\.kind) == [.alertDeduplicated(first, dedupKey: "db", alertCount: 2)])
        try Fixture.ok(&state, event(.acknowledge, "db"), at: t0 + 2 * minute, actor: ActorID("bob"))
        #expect(state.ticket(first)?.acknowledgedAt == t0 + 2 * minute)
        #expect(state.nextDueStep(first) == nil)
        try Fixture.ok(&state, event(.resolve, "db"), at: t0 + 3 * minute, actor: ActorID("pagerduty"))
        #expect(state.ticket(first)?.stage == .feedback)
        #expect(state.ticket(first)?.resolvedAt == t0 + 3 * minute)
        #expect(Fixture.failure(&state, event(.resolve, "db"), at: t0 + 4 * minute)?.field == "dedupKey")
        try Fixture.ok(&state, event(.trigger, "db"), at: t0 + 5 * minute, actor: ActorID("pagerduty"))
        #expect(state.ticketCount == first + 1, "a trigger after resolve opens a new ticket")
    }

    @Test func keysAreScopedPerIntegrationKey() throws {
        var state = try Fixture.state()
        let other = String(repeating: "b", count: 32)
        try Fixture.ok(&state, .addIntegrationKey(serviceID: "helpdesk", key: other), at: t0)
        try Fixture.ok(&state, event(.trigger, "db"), at: t0)
        try Fixture.ok(&state, .pagerDutyEvent(PagerDutyEvent(routingKey: other, action: .trigger, dedupKey: "db")), at: t0)
        #expect(state.ticketCount == 2)
        #expect(try state.allTickets().map(\.serviceID) == ["web", "helpdesk"])
    }

    @Test func badEventsAreRejected() throws {
        var state = try Fixture.state()
        #expect(Fixture.failure(&state, .pagerDutyEvent(PagerDutyEvent(routingKey: "nope", action: .trigger, dedupKey: "x")), at: t0)?.field == "routingKey")
        #expect(Fixture.failure(&state, event(.acknowledge, nil), at: t0)?.field == "dedupKey")
        #expect(Fixture.failure(&state, event(.trigger, ""), at: t0)?.field == "dedupKey")
        #expect(Fixture.failure(&state, .addIntegrationKey(serviceID: "web", key: "short"), at: t0)?.field == "integrationKey")
        #expect(Fixture.failure(&state, .addIntegrationKey(serviceID: "helpdesk", key: Fixture.routingKey), at: t0)?.reason == .conflict)
    }

    @Test func warningSeverityOpensAnIncident() throws {
        var state = try Fixture.state()
        try Fixture.ok(&state, event(.trigger, nil, severity: "warning"), at: t0)
        #expect(state.ticket(state.ticketCount)?.kind == .incident)
        #expect(state.ticket(state.ticketCount)?.priority == .p3)
        #expect(state.openAlerts["\(Fixture.routingKey)/ticket-1"] == 1, "a trigger without a key gets the ticket number")
    }

    @Test func alertmanagerGroupStaysOpenWhilePartiallyResolved() throws {
        var state = try Fixture.state()
        func notify(_ alerts: [(String, Bool)]) -> DutyCommand {
            .alertmanagerNotification(AlertmanagerNotification(routingKey: Fixture.routingKey, groupKey: "{}:{alertname=\"HighLatency\"}",
                                                               alerts: alerts.map { .init(fingerprint: $0.0, firing: $0.1, summary: "latency") }))
        }
        try Fixture.ok(&state, notify([("f1", true), ("f2", true)]), at: t0, actor: ActorID("alertmanager"))
        #expect(state.ticketCount == 1)
        try Fixture.ok(&state, notify([("f1", false), ("f2", true)]), at: t0 + minute, actor: ActorID("alertmanager"))
        #expect(state.ticket(1)?.stage == .registered, "one fingerprint still fires")
        #expect(state.alertGroups.first?.value.firingFingerprints == ["f2"])
        try Fixture.ok(&state, notify([("f3", true)]), at: t0 + 2 * minute, actor: ActorID("alertmanager"))
        #expect(state.ticketCount == 1)
        try Fixture.ok(&state, notify([("f2", false), ("f3", false)]), at: t0 + 3 * minute, actor: ActorID("alertmanager"))
        #expect(state.ticket(1)?.stage == .feedback)
        #expect(state.alertGroups.isEmpty)
        try Fixture.ok(&state, notify([("f1", true)]), at: t0 + 4 * minute, actor: ActorID("alertmanager"))
        #expect(state.ticketCount == 2)
    }

    @Test func heartbeatMissOpensOneIncident() throws {
        var state = try Fixture.state()
        try Fixture.ok(&state, .upsertHeartbeatMonitor(id: "backup", serviceID: "web", intervalSeconds: 600, graceSeconds: 60), at: t0)
        #expect(state.heartbeatMonitors["backup"]?.deadline == t0 + 11 * minute)
        #expect(Fixture.failure(&state, .heartbeatMissed(monitorID: "backup"), at: t0 + 10 * minute)?.reason == .notDue)
        try Fixture.ok(&state, .heartbeatPing(monitorID: "backup"), at: t0 + 10 * minute)
        #expect(state.heartbeatMonitors["backup"]?.deadline == t0 + 21 * minute)
        let events = try Fixture.ok(&state, .heartbeatMissed(monitorID: "backup"), at: t0 + 21 * minute, actor: ActorID("scheduler"))
        #expect(events.contains(.init(at: t0 + 21 * minute, actor: ActorID("scheduler"), kind: .heartbeatMissed(monitorID: "backup", ticketID: 1))))
        #expect(state.ticket(1)?.kind == .incident)
        #expect(Fixture.failure(&state, .heartbeatMissed(monitorID: "backup"), at: t0 + 30 * minute)?.reason == .conflict)
    }

    @Test func channelInspectionsAreScheduledAndRecorded() throws {
        var state = try Fixture.state()
        try Fixture.ok(&state, .upsertChannelInspection(id: "phone", channel: "phone", timesPerDay: 4), at: t0)
        #expect(state.channelInspections["phone"]?.nextDueAt == t0)
        try Fixture.ok(&state, .recordInspectionResult(inspectionID: "phone", passed: true, detail: "test call answered"), at: t0 + minute, actor: ActorID("scheduler"))
        #expect(state.channelInspections["phone"]?.nextDueAt == t0 + 6 * Fixture.hour)
        try Fixture.ok(&state, .recordInspectionResult(inspectionID: "phone", passed: false, detail: "no answer"), at: t0 + 6 * Fixture.hour, actor: ActorID("scheduler"))
        #expect(state.channelInspections["phone"]?.results.map(\.passed) == [true, false])
        #expect(state.channelInspections["phone"]?.nextDueAt == t0 + 12 * Fixture.hour)
        #expect(Fixture.failure(&state, .upsertChannelInspection(id: "x", channel: "sms", timesPerDay: 0), at: t0)?.field == "timesPerDay")
    }
}

/// S8: a failing channel becomes a ticket for the service's team, once per failure streak.
@Suite struct InspectionTicketTests {
    @Test func aFailedInspectionOpensOneTicketUntilTheChannelPassesAgain() throws {
        let t0 = Fixture.t0
        var state = try Fixture.state()
        try Fixture.ok(&state, .upsertChannelInspection(id: "sms-check", channel: "sms", timesPerDay: 3, serviceID: "helpdesk"), at: t0)
        let before = state.ticketCount
        try Fixture.ok(&state, .recordInspectionResult(inspectionID: "sms-check", passed: false, detail: "bob/sms: 502"), at: t0 + 1)
        #expect(state.ticketCount == before + 1)
        let ticket = try #require(state.ticket(before + 1))
        #expect(ticket.title == "Channel inspection 'sms-check' failed (sms)" && ticket.serviceID == "helpdesk")
        #expect(state.channelInspections["sms-check"]?.openTicketID == ticket.id)
        try Fixture.ok(&state, .recordInspectionResult(inspectionID: "sms-check", passed: false, detail: "still 502"), at: t0 + 2)
        #expect(state.ticketCount == before + 1, "one ticket per failure streak")
        try Fixture.ok(&state, .recordInspectionResult(inspectionID: "sms-check", passed: true, detail: ""), at: t0 + 3)
        try Fixture.ok(&state, .recordInspectionResult(inspectionID: "sms-check", passed: false, detail: "502 again"), at: t0 + 4)
        #expect(state.ticketCount == before + 2, "a new streak, a new ticket")
        #expect(Fixture.failure(&state, .upsertChannelInspection(id: "x", channel: "sms", timesPerDay: 1, serviceID: "nope"), at: t0)?.field
                == "serviceID")
    }
}

/// Issue 5: what PagerDuty and Alertmanager send beside the summary stays on the ticket.
@Suite struct AlertDetailsTests {
    let t0 = Fixture.t0

    func details(_ state: DutyState, _ id: TicketID) -> [String] {
        state.ticket(id)!.timeline.compactMap { if case let .alertDetails(_, json) = $0.action { json } else { nil } }
    }

    @Test func pagerDutyDetailsAreKeptOncePerChange() throws {
        var state = try Fixture.state()
        let first = #"{"component":"db","custom_details":{"disk":"95%"},"links":[{"href":"https://grafana/d/1"}]}"#
        func trigger(_ details: String?) -> DutyCommand {
            .pagerDutyEvent(PagerDutyEvent(routingKey: Fixture.routingKey, action: .trigger, dedupKey: "disk", summary: "Disk full",
                                           source: "db1", severity: "critical", details: details))
        }
        try Fixture.ok(&state, trigger(first), at: t0)
        let id = state.ticketCount
        #expect(details(state, id) == [first])
        try Fixture.ok(&state, trigger(first), at: t0 + 1)
        #expect(details(state, id) == [first], "a repeat with the same details adds nothing")
        let second = #"{"component":"db","custom_details":{"disk":"99%"}}"#
        try Fixture.ok(&state, trigger(second), at: t0 + 2)
        #expect(details(state, id) == [first, second])
        let before = state.snapshot()
        let huge = String(repeating: "x", count: DutyLimits.maxAlertDetailsBytes + 1)
        #expect(Fixture.failure(&state, trigger(huge), at: t0 + 3)?.field == "details")
        #expect(state.snapshot() == before, "a refused event changes nothing")
        // Archived records keep them too (the ticket codec round-trips the new timeline entry).
        let restored = try DutyState.restore(from: state.snapshot())
        #expect(details(restored, id) == [first, second])
    }

    @Test func alertmanagerLabelsAreKeptWhenTheyChange() throws {
        var state = try Fixture.state()
        let labels = #"{"alerts":[{"fingerprint":"f1","labels":{"alertname":"DiskFull"},"status":"firing"}]}"#
        let notification = AlertmanagerNotification(routingKey: Fixture.routingKey, groupKey: "{}:{alertname=\"DiskFull\"}",
                                                     alerts: [.init(fingerprint: "f1", firing: true, summary: "Disk full")], details: labels)
        try Fixture.ok(&state, .alertmanagerNotification(notification), at: t0)
        try Fixture.ok(&state, .alertmanagerNotification(notification), at: t0 + 1)
        #expect(details(state, state.ticketCount) == [labels])
    }
}
