import DutyModel
import RaftCore

/// The outside world of a whole-node run, drawn from the seed: the configuration every run starts from, and the
/// alerts, acknowledgements, resolves and changes that arrive while it runs.
struct Workload {
    /// 2027-03-14 06:59:50 UTC: New York leaves standard time 10 s in (02:00 local becomes 03:00), and the
    /// schedule's daily hand-off is at 02:00 local, the hour that does not exist that night.
    static let startMillis: Timestamp = 1_805_007_590_000
    static let people = ["ann", "bob", "cy", "dee"]
    static let integrationKeys = ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2"]
    static let scheduleZone = "America/New_York"

    /// Commands applied before the run, in the state every node starts from (its first snapshot).
    static func setup() -> [DutyCommand] {
        var commands: [DutyCommand] = []
        for (index, id) in people.enumerated() {
            let methods = [ContactMethod(id: "hook", kind: .webhook, address: "http://127.0.0.1:9/\(id)"),
                           ContactMethod(id: "sms", kind: .sms, address: "+1555000\(index)")]
            // Half the people want a second message through another channel a little later.
            var rules = [NotificationRule(contactMethodID: "hook", delaySeconds: 0)]
            if index % 2 == 1 { rules.append(NotificationRule(contactMethodID: "sms", delaySeconds: 6)) }
            commands.append(.upsertPerson(Person(id: id, name: id.capitalized, role: index == 0 ? .manager : .responder,
                                                 contactMethods: methods, notificationRules: rules)))
        }
        commands.append(.upsertTeam(Team(id: "ops", name: "Ops", memberIDs: people, managerID: "ann")))
        let layer = OnCallSchedule.Layer(name: "days", userIDs: ["ann", "bob", "cy"], rotation: .daily,
                                         startDate: LocalDate(year: 2027, month: 3, day: 1), handoffMinute: 120)
        commands.append(.upsertSchedule(OnCallSchedule(id: "primary", name: "Primary", timeZoneIdentifier: scheduleZone, layers: [layer])))
        commands.append(.upsertEscalationPolicy(policy(id: "ep-a", delays: [10, 12, 8], repeats: 1)))
        commands.append(.upsertEscalationPolicy(.init(id: "ep-b", name: "B", levels: [
            .init(targets: [.person("bob"), .person("dee")], delaySeconds: 8), .init(targets: [.team("ops")], mode: .roundRobin, delaySeconds: 8),
        ])))
        commands.append(.upsertSLAPolicy(slaPolicy))
        commands.append(.upsertService(Service(id: "svc-a", name: "Payments", teamID: "ops", escalationPolicyID: "ep-a",
                                               slaPolicyID: slaPolicy.id, acknowledgementTimeoutSeconds: 12)))
        commands.append(.upsertService(Service(id: "svc-b", name: "Search", teamID: "ops", escalationPolicyID: "ep-b",
                                               slaPolicyID: slaPolicy.id)))
        commands.append(.addIntegrationKey(serviceID: "svc-a", key: integrationKeys[0]))
        commands.append(.addIntegrationKey(serviceID: "svc-b", key: integrationKeys[1]))
        commands.append(.upsertHeartbeatMonitor(id: "cron", serviceID: "svc-b", intervalSeconds: 10, graceSeconds: 2))
        // Due as the run starts: the first test messages go out while the first leader is elected.
        commands.append(.upsertChannelInspection(id: "hooks", channel: "webhook", timesPerDay: 288, serviceID: "svc-b"))
        return commands
    }

    /// The shortest targets the model accepts (60 s), warned at 10 %: warnings fall inside a run, and pauses, stops
    /// and re-arms move them. Resolution counts business time on the default calendar (Shanghai weekdays; the run
    /// falls on a Sunday, so that clock never moves).
    static let slaPolicy: SLAPolicy.Draft = {
        var rules: [SLAPolicy.Rule] = []
        for (offset, priority) in Priority.allCases.enumerated() {
            let step = Int64(offset) * 10
            rules.append(.init(priority, .firstResponse, seconds: 60 + step))
            rules.append(.init(priority, .initialSolution, seconds: 90 + step))
            rules.append(.init(priority, .updateInterval, seconds: 70 + step))
            rules.append(.init(priority, .resolution, seconds: 120, .businessTime))
        }
        return .init(id: "fast", name: "Fast", rules: rules, calendarID: DutyState.defaultCalendarID, warningThresholdPercent: 10)
    }()

    /// The first level pages whoever is on call in the schedule; later ones name people.
    static func policy(id: String, delays: [Int], repeats: Int) -> EscalationPolicy.Draft {
        .init(id: id, name: id.uppercased(), levels: [
            .init(targets: [.schedule("primary")], delaySeconds: delays[0]),
            .init(targets: [.person("cy")], delaySeconds: delays[1]),
            .init(targets: [.person("dee"), .person("ann")], delaySeconds: delays[2]),
        ], repeatCount: repeats)
    }

    /// One client operation: the command, who acts, and whether it may page in its own entry (intake).
    struct Operation {
        let command: DutyCommand
        let actor: ActorID
        let pagesInItsEntry: Bool
        let label: String
    }

    /// A random operation at `now`, reading the open tickets from `state`; `links` are the acknowledgement links of
    /// pages sent lately (ticket and page key), which people follow as `HTTPAPI.followAckLink` does.
    static func operation(rng: inout RaftCore.SplitMix64, now: Timestamp, state: DutyState,
                          links: [(ticketID: TicketID, key: String)]) -> Operation {
        let open = state.workingSetTickets().filter { $0.stage.isOpen }.map(\.id)
        let roll = rng.below(100)
        let person = ActorID(people[rng.below(people.count)])
        func pick() -> TicketID? { open.isEmpty ? nil : open[rng.below(open.count)] }
        switch roll {
        case 0..<30:
            let key = integrationKeys[rng.below(2)]
            let event = PagerDutyEvent(routingKey: key, action: .trigger, dedupKey: "d\(rng.below(8))", summary: "disk full on db-\(rng.below(4))",
                                       source: "db", severity: rng.chance(0.7) ? "critical" : "warning")
            return Operation(command: .pagerDutyEvent(event), actor: ActorID("integration"), pagesInItsEntry: true, label: "pd-trigger")
        case 30..<40:
            let alerts = (0..<1 + rng.below(3)).map { _ in AlertmanagerNotification.Alert(fingerprint: "f\(rng.below(4))", firing: rng.chance(0.8)) }
            let notification = AlertmanagerNotification(routingKey: integrationKeys[rng.below(2)], groupKey: "g\(rng.below(4))", alerts: alerts)
            return Operation(command: .alertmanagerNotification(notification), actor: ActorID("integration"), pagesInItsEntry: true,
                             label: "am-notify")
        case 40..<46:
            let ticket = NewTicket(kind: .incident, priority: rng.chance(0.5) ? .p1 : .p2, title: "Checkout fails", serviceID: "svc-a")
            return Operation(command: .registerTicket(ticket), actor: person, pagesInItsEntry: false, label: "register")
        case 46..<58:
            if let id = pick() { return Operation(command: .acknowledgeTicket(ticketID: id), actor: person, pagesInItsEntry: false, label: "ack") }
        case 58..<64:
            // A link in a page: the ticket may be acknowledged or closed by now, which the model refuses as a conflict
            // (the link answers "already acknowledged").
            if !links.isEmpty {
                let link = links[rng.below(links.count)]
                let resolves = roll >= 62
                return Operation(command: resolves ? .resolveTicket(ticketID: link.ticketID) : .acknowledgeTicket(ticketID: link.ticketID),
                                 actor: .ackLink(idempotencyKey: link.key), pagesInItsEntry: false,
                                 label: resolves ? "resolve-by-link" : "ack-by-link")
            }
        case 64..<72:
            if let id = pick() { return Operation(command: .resolveTicket(ticketID: id), actor: person, pagesInItsEntry: false, label: "resolve") }
        case 72..<76:
            let event = PagerDutyEvent(routingKey: integrationKeys[rng.below(2)], action: rng.chance(0.5) ? .resolve : .acknowledge,
                                       dedupKey: "d\(rng.below(8))")
            return Operation(command: .pagerDutyEvent(event), actor: ActorID("integration"), pagesInItsEntry: true, label: "pd-\(event.action)")
        case 76..<79:
            let id = TicketID(1 + rng.below(max(1, state.ticketCount)))
            return Operation(command: .reopenTicket(ticketID: id, reason: "came back"), actor: person, pagesInItsEntry: false, label: "reopen")
        case 79..<83:
            let delays = (0..<3).map { _ in 4 + rng.below(16) }
            return Operation(command: .upsertEscalationPolicy(policy(id: "ep-a", delays: delays, repeats: rng.below(3))), actor: ActorID("ann"),
                             pagesInItsEntry: false, label: "policy")
        case 83..<86:
            let window = Service.MaintenanceWindow(start: now, end: now + Int64(3 + rng.below(10)) * 1_000, reason: "deploy")
            return Operation(command: .addMaintenanceWindow(serviceID: "svc-b", window: window), actor: ActorID("ann"), pagesInItsEntry: false,
                             label: "maintenance")
        case 86..<89:
            let override = OnCallSchedule.Override(personID: people[rng.below(people.count)], start: now,
                                                   end: now + Int64(5 + rng.below(30)) * 1_000)
            return Operation(command: .addScheduleOverride(scheduleID: "primary", override: override), actor: ActorID("ann"),
                             pagesInItsEntry: false, label: "override")
        case 89..<91:
            if let id = pick() {
                return Operation(command: .addNote(ticketID: id, text: "looking into it", customerVisible: true), actor: person,
                                 pagesInItsEntry: false, label: "reply")
            }
        case 91..<92:
            if let id = pick() {
                return Operation(command: .provideInitialSolution(ticketID: id, text: "restart the pool"), actor: person,
                                 pagesInItsEntry: false, label: "solution")
            }
        case 92..<94:
            // Only a ticket under analysis or in handling can wait for the customer.
            if let id = pick() {
                return Operation(command: .advanceTicket(ticketID: id, to: .analysing), actor: person, pagesInItsEntry: false, label: "analyse")
            }
        case 94..<96:
            if let id = pick() {
                return Operation(command: .setWaitingForCustomer(ticketID: id, waiting: rng.chance(0.6)), actor: person,
                                 pagesInItsEntry: false, label: "waiting")
            }
        case 96..<97:
            // A new inspection is due at once; one already known keeps its results and next comes due in 5 minutes.
            let channel = rng.chance(0.5) ? "webhook" : "sms"
            return Operation(command: .upsertChannelInspection(id: "\(channel)-\(rng.below(2))", channel: channel, timesPerDay: 288,
                                                               serviceID: "svc-a"),
                             actor: ActorID("ann"), pagesInItsEntry: false, label: "inspection")
        default:
            break
        }
        return Operation(command: .heartbeatPing(monitorID: "cron"), actor: ActorID("integration"), pagesInItsEntry: false, label: "heartbeat")
    }
}
