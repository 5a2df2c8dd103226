import Testing
@testable import DutyModel

/// A small organisation used by most tests.
enum Fixture {
    /// Monday 2026-03-02 00:00 UTC.
    static let t0: Timestamp = LocalDate(year: 2026, month: 3, day: 2).daysSinceEpoch * 86_400_000
    static let minute: Int64 = 60_000
    static let hour: Int64 = 3_600_000
    static let admin = ActorID("alice")
    static let routingKey = String(repeating: "a", count: 32)

    static func state() throws -> DutyState {
        var state = DutyState()
        let people = [
            Person(id: "alice", name: "Alice", role: .admin,
                   contactMethods: [ContactMethod(id: "mail", kind: .email, address: "alice@example.org")],
                   notificationRules: [NotificationRule(contactMethodID: "mail", delayMinutes: 0)]),
            Person(id: "bob", name: "Bob", role: .responder,
                   contactMethods: [ContactMethod(id: "chat", kind: .chat, address: "@bob"),
                                    ContactMethod(id: "sms", kind: .sms, address: "+8613800000000"),
                                    ContactMethod(id: "call", kind: .phone, address: "+8613800000000")],
                   notificationRules: [NotificationRule(contactMethodID: "call", delayMinutes: 3),
                                       NotificationRule(contactMethodID: "chat", delayMinutes: 0),
                                       NotificationRule(contactMethodID: "sms", delayMinutes: 1)]),
            Person(id: "carol", name: "Carol", role: .responder),
            Person(id: "dave", name: "Dave", role: .manager),
            Person(id: "erin", name: "Erin", role: .viewer),
        ]
        for person in people { try ok(&state, .upsertPerson(person), at: t0) }
        try ok(&state, .upsertTeam(Team(id: "ops", name: "Operations", memberIDs: ["bob", "carol"], managerID: "dave")), at: t0)
        try ok(&state, .upsertTeam(Team(id: "special", name: "Emergency team", memberIDs: ["carol", "dave"])), at: t0)
        try ok(&state, .upsertSchedule(OnCallSchedule(
            id: "primary", name: "Primary", timeZoneIdentifier: "UTC",
            layers: [.init(name: "daily", userIDs: ["bob", "carol"], rotation: .daily,
                           startDate: LocalDate(year: 2026, month: 3, day: 1), handoffMinute: 9 * 60)])), at: t0)
        try ok(&state, .upsertEscalationPolicy(EscalationPolicy.defaultEmergencyDraft(
            onCallScheduleID: "primary", leadPersonID: "dave", specialTeamID: "special")), at: t0)
        try ok(&state, .upsertService(Service(id: "web", name: "Web shop", teamID: "ops", escalationPolicyID: "emergency")), at: t0)
        try ok(&state, .upsertService(Service(id: "helpdesk", name: "Help desk", teamID: "ops")), at: t0)
        try ok(&state, .addIntegrationKey(serviceID: "web", key: routingKey), at: t0)
        return state
    }

    @discardableResult
    static func ok(_ state: inout DutyState, _ command: DutyCommand, at: Timestamp, actor: ActorID = admin,
                   sourceLocation: SourceLocation = #_sourceLocation) throws -> [DutyEvent] {
        switch state.apply(command, at: at, actor: actor) {
        case .success(let events): return events
        case .failure(let error):
            Issue.record("\(command.name) failed: \(error)", sourceLocation: sourceLocation)
            throw error
        }
    }

    static func failure(_ state: inout DutyState, _ command: DutyCommand, at: Timestamp, actor: ActorID = admin) -> DutyError? {
        if case .failure(let error) = state.apply(command, at: at, actor: actor) { return error }
        return nil
    }

    static func register(_ state: inout DutyState, kind: TicketKind = .consultation, priority: Priority = .p3,
                         service: String = "helpdesk", title: String = "Cannot log in", at: Timestamp = t0,
                         customer: String? = nil) throws -> TicketID {
        try ok(&state, .registerTicket(NewTicket(kind: kind, priority: priority, title: title, serviceID: service,
                                                 customerID: customer)), at: at)
        return state.ticketCount
    }
}
