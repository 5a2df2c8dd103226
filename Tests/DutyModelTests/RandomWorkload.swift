import Testing
@testable import DutyModel

/// Generates plausible command logs (valid and invalid mixed) from a seed.
struct RandomWorkload {
    var random: SplitMix64
    var now: Timestamp = Fixture.t0
    let actors = ["alice", "bob", "carol", "dave", "erin", "scheduler"].map(ActorID.init)

    init(seed: UInt64) { random = SplitMix64(seed: seed) }

    mutating func pick<T>(_ values: [T]) -> T { values[random.next(below: values.count)] }

    /// The next command given what the state looks like now (as the API and scheduler would see it).
    mutating func next(for state: DutyState) -> (DutyCommand, Timestamp, ActorID) {
        now += Int64(random.next(below: 10)) * Fixture.minute + Int64(random.next(below: 1000))
        let actor = pick(actors)
        let ticketID = (state.ticketCount == 0) ? 1 : 1 + random.next(below: state.ticketCount + 1)
        let command: DutyCommand
        switch random.next(below: 24) {
        case 0, 1, 2:
            command = .registerTicket(NewTicket(
                kind: pick(TicketKind.allCases), priority: pick(Priority.allCases),
                title: pick(["Cannot log in", "无法登录 密码重置", "Payment failed", "Site is down", "建议增加夜间值班", ""]),
                serviceID: pick(["web", "helpdesk", "nope"]), customerID: pick([nil, "acme", "globex"])))
        case 3, 4:
            command = .advanceTicket(ticketID: ticketID, to: pick(TicketStage.allCases))
        case 5:
            command = .acknowledgeTicket(ticketID: ticketID)
        case 6:
            command = .addNote(ticketID: ticketID, text: pick(["update", "", "正在处理"]), customerVisible: random.next(below: 2) == 0)
        case 7:
            command = .setWaitingForCustomer(ticketID: ticketID, waiting: random.next(below: 2) == 0)
        case 8:
            command = .reopenTicket(ticketID: ticketID, reason: "not fixed")
        case 9:
            let allDue = state.dueEscalationSteps(until: now)
            // The deadlines alone must be those of the full steps, in the same order.
            #expect(state.dueStepDeadlines(until: now).elementsEqual(allDue) {
                $0.ticketID == $1.ticketID && $0.stepIndex == $1.stepIndex && $0.dueAt == $1.dueAt
            }, "dueStepDeadlines disagrees with dueEscalationSteps")
            let due = allDue.prefix(3)
            if due.count > 1 {
                let records = due.map { EscalationStepRecord(ticketID: $0.ticketID, stepIndex: $0.stepIndex, intendDuePages: random.next(below: 2) == 0) }
                command = .recordEscalationSteps(records + [EscalationStepRecord(ticketID: ticketID, stepIndex: 0, intendDuePages: false)],
                                                 leaderTerm: UInt64(1 + random.next(below: 3)))
            } else if let step = due.first {
                command = .recordEscalationStep(ticketID: step.ticketID, stepIndex: step.stepIndex)
            } else {
                command = .recordEscalationStep(ticketID: ticketID, stepIndex: random.next(below: 3))
            }
        case 10:
            if let due = state.dueSLAEvents(at: now).first {
                command = due.isBreach ? .recordSLABreach(ticketID: due.ticketID, target: due.target)
                    : .recordSLAWarning(ticketID: due.ticketID, target: due.target)
            } else {
                command = .recordSLABreach(ticketID: ticketID, target: pick(SLATarget.allCases))
            }
        case 11, 12:
            command = .pagerDutyEvent(PagerDutyEvent(routingKey: Fixture.routingKey, action: pick([.trigger, .trigger, .acknowledge, .resolve]),
                                                     dedupKey: pick(["db-down", "disk-full", "cpu", nil]), summary: "alert", severity: pick(["critical", "warning"])))
        case 13:
            command = .alertmanagerNotification(AlertmanagerNotification(
                routingKey: Fixture.routingKey, groupKey: pick(["{}:{alertname=\"A\"}", "{}:{alertname=\"B\"}"]),
                alerts: (0..<(1 + random.next(below: 3))).map { _ in
                    .init(fingerprint: pick(["f1", "f2", "f3"]), firing: random.next(below: 3) != 0, summary: "x")
                }))
        case 14:
            command = .submitFeedback(ticketID: ticketID, rating: 1 + random.next(below: 5), comment: "ok")
        case 15:
            command = .upsertArticle(ArticleDraft(id: pick(["login", "payment", "night"]), title: pick(["How to reset a password", "密码重置", "支付失败怎么办"]),
                                                  body: "Steps 步骤", category: pick(["account", "billing"])))
        case 16:
            command = .drawSupervisionSample(sampleID: "s\(random.next(below: 5))", seed: random.next(), size: 1 + random.next(below: 5))
        case 17:
            command = .assignTicket(ticketID: ticketID, ownerID: pick(["bob", "carol", "zed"]))
        case 18:
            command = .provideInitialSolution(ticketID: ticketID, text: "try restarting")
        case 19:
            command = pick([.heartbeatPing(monitorID: "cron"), .heartbeatMissed(monitorID: "cron")])
        case 20:
            command = .upsertSLAPolicy(.init(id: pick(["default", "gold"]), name: "Policy",
                                             rules: [.init(pick(Priority.allCases), .firstResponse, seconds: Int64(60 * (1 + random.next(below: 30))))]))
        case 22:
            // The scheduler's batch: what is due, plus an item that is not (skipped, not fatal).
            let due = state.dueSLAEvents(at: now).prefix(5).map { SLAEventRecord(ticketID: $0.ticketID, target: $0.target, isBreach: $0.isBreach) }
            command = .recordSLAEvents(due + [SLAEventRecord(ticketID: ticketID, target: pick(SLATarget.allCases), isBreach: true)])
        case 21:
            // The outbox: intend some due rows (planned or of an older term), or record outcomes of intended ones.
            let due = state.duePages(until: now)
            let intended = due.filter(\.isIntended).prefix(3)
            if !intended.isEmpty, random.next(below: 2) == 0 {
                command = .recordPageOutcomes(intended.map { PageOutcome(key: $0.key, result: pick(PageOutcome.Result.allCases), attempts: 1, detail: "") })
            } else if !due.isEmpty {
                command = .recordPageIntents(keys: due.prefix(3).map(\.key), leaderTerm: UInt64(1 + random.next(below: 4)))
            } else {
                command = .recordPageIntents(keys: ["ticket-\(ticketID)-step-0-bob-chat"], leaderTerm: 1)
            }
        case 23:
            command = .expireAcknowledgements(ticketIDs: state.dueAcknowledgementExpiries(until: now).prefix(5).map(\.ticketID) + [ticketID])
        default:
            command = .changePriority(ticketID: ticketID, priority: pick(Priority.allCases))
        }
        return (command, now, actor)
    }

    static func initialState() throws -> DutyState {
        var state = try Fixture.state()
        try Fixture.ok(&state, .upsertHeartbeatMonitor(id: "cron", serviceID: "web", intervalSeconds: 600, graceSeconds: 60), at: Fixture.t0)
        return state
    }
}
