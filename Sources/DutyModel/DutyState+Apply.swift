extension DutyState {
    /// Applies one committed command. Validates everything first; on error nothing changed.
    ///
    /// Leader timestamps can step back slightly after a leader change (clock skew between
    /// nodes); the model clamps them to the last applied time so its time never runs backwards.
    ///
    /// `intendingFirstPagesIn`: the term of the leader that proposed the command, when it asked for it. A ticket the
    /// command registers then records its first escalation step, and intends the pages due at once, in this same
    /// entry (an alert is paged one commit after intake, not three). Without it the scheduler records the step.
    public mutating func apply(_ command: DutyCommand, at leaderTimestamp: Timestamp, actor: ActorID,
                               intendingFirstPagesIn leaderTerm: UInt64? = nil) -> Result<[DutyEvent], DutyError> {
        if actor.rawValue.isEmpty || actor.rawValue.utf8.count > DutyLimits.maxIdentifierLength * 2 {
            return .failure(.invalid("actor", "must be 1–\(DutyLimits.maxIdentifierLength * 2) bytes"))
        }
        if leaderTerm == 0 { return .failure(.invalid("leaderTerm", "must be a Raft term (≥ 1)")) }
        var context = ApplyContext(at: max(leaderTimestamp, lastAppliedAt), actor: actor)
        do {
            try execute(command, &context)
            if let leaderTerm { recordFirstSteps(registeredBy: &context, leaderTerm: leaderTerm) }
        } catch {
            reindexDeadlines(after: command)
            return .failure(error)
        }
        reindexDeadlines(after: command)
        if !customerBook.customers.isEmpty { queueCustomerMail(&context) }
        planSLANotices(&context)
        planPolicyAnnouncements(&context)
        if !outbox.isEmpty {
            for event in context.events {
                switch event.kind {
                case let .ticketAcknowledged(id): cancelPlannedPages(of: id, &context)
                case let .stageChanged(id, _, to) where !to.isOpen: cancelPlannedPages(of: id, &context)
                default: break
                }
            }
        }
        appliedCommands += 1
        lastAppliedAt = context.at
        audit.record(at: context.at, actor: actor, command: command.name, subject: command.subject)
        return .success(context.events)
    }

    /// The first step of every ticket the command registered whose first level is due now. A step the model refuses
    /// (outbox full, nobody to page, a maintenance window) is left to the scheduler, as it would be without a term:
    /// every refusal of `recordEscalationStep` comes before it changes anything.
    private mutating func recordFirstSteps(registeredBy context: inout ApplyContext, leaderTerm: UInt64) {
        let registered = context.events.compactMap { event -> TicketID? in
            if case let .ticketRegistered(id, _, _) = event.kind { id } else { nil }
        }
        for id in registered {
            guard let step = nextDueStep(id), step.stepIndex == 0, step.dueAt <= context.at else { continue }
            try? recordEscalationStep(id, stepIndex: 0, leaderTerm: leaderTerm, &context)
        }
    }

    private mutating func execute(_ command: DutyCommand, _ context: inout ApplyContext) throws(DutyError) {
        switch command {
        case .upsertCalendar(let calendar): try upsertCalendar(calendar, &context)
        case .upsertSLAPolicy(let draft): try upsertSLAPolicy(draft, &context)
        case .upsertEscalationPolicy(let draft): try upsertEscalationPolicy(draft, &context)
        case .upsertPerson(let person): try upsertPerson(person, &context)
        case .upsertTeam(let team): try upsertTeam(team, &context)
        case .upsertSchedule(let schedule): try upsertSchedule(schedule, &context)
        case .addScheduleOverride(let scheduleID, let override): try addScheduleOverride(scheduleID, override, &context)
        case .removeScheduleOverride(let scheduleID, let override): try removeScheduleOverride(scheduleID, override, &context)
        case .upsertService(let service): try upsertService(service, &context)
        case .addIntegrationKey(let serviceID, let key): try addIntegrationKey(serviceID, key, &context)
        case .addMaintenanceWindow(let serviceID, let window): try addMaintenanceWindow(serviceID, window, &context)
        case .setCustomerSLAOverride(let customerID, let policyID): try setCustomerSLAOverride(customerID, policyID, &context)
        case .upsertCustomer(let customer): try upsertCustomer(customer, &context)
        case .removeCustomer(let id): try removeCustomer(id, &context)
        case .recordCustomerContactAccess(let id, let reason): try recordCustomerContactAccess(id, reason: reason, &context)
        case .receiveMail(let mail): try receiveMail(mail, &context)
        case .recordHandoffReminders(let reminders): try recordHandoffReminders(reminders, &context)
        case .registerTicket(let new): try registerTicket(new, &context)
        case .advanceTicket(let id, let stage): try advanceTicket(id, to: stage, &context)
        case .reopenTicket(let id, let reason): try reopenTicket(id, reason: reason, &context)
        case .acknowledgeTicket(let id): try acknowledgeTicket(id, &context)
        case .resolveTicket(let id): try resolveTicket(id, &context)
        case .assignTicket(let id, let ownerID): try assignTicket(id, ownerID: ownerID, &context)
        case .changePriority(let id, let priority): try changePriority(id, priority, &context)
        case .addNote(let id, let text, let visible): try addNote(id, text: text, customerVisible: visible, &context)
        case .provideInitialSolution(let id, let text): try provideInitialSolution(id, text: text, &context)
        case .setWaitingForCustomer(let id, let waiting): try setWaitingForCustomer(id, waiting, &context)
        case .recordSLAWarning(let id, let target): try recordSLAWarning(id, target, &context)
        case .recordSLABreach(let id, let target): try recordSLABreach(id, target, &context)
        case .recordSLAEvents(let records): try recordSLAEvents(records, &context)
        case .recordEscalationStep(let id, let step, let term): try recordEscalationStep(id, stepIndex: step, leaderTerm: term, &context)
        case .recordEscalationSteps(let records, let term): try recordEscalationSteps(records, leaderTerm: term, &context)
        case .expireAcknowledgement(let id): try expireAcknowledgement(id, &context)
        case .expireAcknowledgements(let ids): try expireAcknowledgements(ids, &context)
        case .recordPageIntents(let keys, let term): try recordPageIntents(keys, leaderTerm: term, &context)
        case .recordPageOutcomes(let outcomes): try recordPageOutcomes(outcomes, &context)
        case .pagerDutyEvent(let event): try handlePagerDuty(event, &context)
        case .alertmanagerNotification(let notification): try handleAlertmanager(notification, &context)
        case .changeEvent(let event): try recordChange(event, &context)
        case .upsertHeartbeatMonitor(let id, let serviceID, let interval, let grace):
            try upsertHeartbeatMonitor(id, serviceID: serviceID, intervalSeconds: interval, graceSeconds: grace, &context)
        case .heartbeatPing(let id): try heartbeatPing(id, &context)
        case .heartbeatMissed(let id): try heartbeatMissed(id, &context)
        case .upsertChannelInspection(let id, let channel, let times, let serviceID):
            try upsertChannelInspection(id, channel: channel, timesPerDay: times, serviceID: serviceID, &context)
        case .recordInspectionResult(let id, let passed, let detail): try recordInspectionResult(id, passed: passed, detail: detail, &context)
        case .upsertArticle(let draft): try upsertArticle(draft, &context)
        case .recordArticleHit(let id): try recordArticleHit(id, &context)
        case .submitFeedback(let id, let rating, let comment): try submitFeedback(id, rating: rating, comment: comment, &context)
        case .drawSupervisionSample(let id, let seed, let size): try drawSupervisionSample(id, seed: seed, size: size, &context)
        case .recordReviewVerdict(let sampleID, let ticketID, let verdict, let note):
            try recordReviewVerdict(sampleID, ticketID: ticketID, verdict: verdict, note: note, &context)
        case .recordContactAccess(let personID, let reason): try recordContactAccess(personID, reason: reason, &context)
        }
    }
}

extension DutyCommand {
    /// The command's name for the audit trail.
    public var name: String {
        switch self {
        case .upsertCalendar: "upsertCalendar"
        case .upsertSLAPolicy: "upsertSLAPolicy"
        case .upsertEscalationPolicy: "upsertEscalationPolicy"
        case .upsertPerson: "upsertPerson"
        case .upsertTeam: "upsertTeam"
        case .upsertSchedule: "upsertSchedule"
        case .addScheduleOverride: "addScheduleOverride"
        case .removeScheduleOverride: "removeScheduleOverride"
        case .upsertService: "upsertService"
        case .addIntegrationKey: "addIntegrationKey"
        case .addMaintenanceWindow: "addMaintenanceWindow"
        case .setCustomerSLAOverride: "setCustomerSLAOverride"
        case .upsertCustomer: "upsertCustomer"
        case .removeCustomer: "removeCustomer"
        case .recordCustomerContactAccess: "recordCustomerContactAccess"
        case .receiveMail: "receiveMail"
        case .recordHandoffReminders: "recordHandoffReminders"
        case .registerTicket: "registerTicket"
        case .advanceTicket: "advanceTicket"
        case .reopenTicket: "reopenTicket"
        case .acknowledgeTicket: "acknowledgeTicket"
        case .resolveTicket: "resolveTicket"
        case .assignTicket: "assignTicket"
        case .changePriority: "changePriority"
        case .addNote: "addNote"
        case .provideInitialSolution: "provideInitialSolution"
        case .setWaitingForCustomer: "setWaitingForCustomer"
        case .recordSLAWarning: "recordSLAWarning"
        case .recordSLABreach: "recordSLABreach"
        case .recordSLAEvents: "recordSLAEvents"
        case .recordEscalationStep: "recordEscalationStep"
        case .recordEscalationSteps: "recordEscalationSteps"
        case .expireAcknowledgement: "expireAcknowledgement"
        case .expireAcknowledgements: "expireAcknowledgements"
        case .recordPageIntents: "recordPageIntents"
        case .recordPageOutcomes: "recordPageOutcomes"
        case .pagerDutyEvent: "pagerDutyEvent"
        case .alertmanagerNotification: "alertmanagerNotification"
        case .changeEvent: "changeEvent"
        case .upsertHeartbeatMonitor: "upsertHeartbeatMonitor"
        case .heartbeatPing: "heartbeatPing"
        case .heartbeatMissed: "heartbeatMissed"
        case .upsertChannelInspection: "upsertChannelInspection"
        case .recordInspectionResult: "recordInspectionResult"
        case .upsertArticle: "upsertArticle"
        case .recordArticleHit: "recordArticleHit"
        case .submitFeedback: "submitFeedback"
        case .drawSupervisionSample: "drawSupervisionSample"
        case .recordReviewVerdict: "recordReviewVerdict"
        case .recordContactAccess: "recordContactAccess"
        }
    }

    /// What the command is about, without personal data (contact addresses are never included).
    public var subject: String {
        switch self {
        case .upsertCalendar(let calendar): "calendar:\(calendar.id)"
        case .upsertSLAPolicy(let draft): "slaPolicy:\(draft.id)"
        case .upsertEscalationPolicy(let draft): "escalationPolicy:\(draft.id)"
        case .upsertPerson(let person): "person:\(person.id)"
        case .upsertTeam(let team): "team:\(team.id)"
        case .upsertSchedule(let schedule): "schedule:\(schedule.id)"
        case .addScheduleOverride(let id, _), .removeScheduleOverride(let id, _): "schedule:\(id)"
        case .upsertService(let service): "service:\(service.id)"
        case .addIntegrationKey(let id, _), .addMaintenanceWindow(let id, _): "service:\(id)"
        case .setCustomerSLAOverride(let id, _), .removeCustomer(let id), .recordCustomerContactAccess(let id, _): "customer:\(id)"
        case .upsertCustomer(let customer): "customer:\(customer.id)"
        // The sender's address is contact data; the audit names the mailbox's service.
        case .receiveMail(let mail): "service:\(mail.serviceID)"
        case .recordHandoffReminders(let reminders): "schedule:\(reminders.first?.scheduleID ?? "-")\(reminders.count > 1 ? "+\(reminders.count - 1)" : "")"
        case .registerTicket(let new): "service:\(new.serviceID)"
        case .advanceTicket(let id, _), .reopenTicket(let id, _), .acknowledgeTicket(let id), .resolveTicket(let id), .assignTicket(let id, _),
             .changePriority(let id, _), .addNote(let id, _, _), .provideInitialSolution(let id, _),
             .setWaitingForCustomer(let id, _), .recordSLAWarning(let id, _), .recordSLABreach(let id, _),
             .recordEscalationStep(let id, _, _), .submitFeedback(let id, _, _), .expireAcknowledgement(let id):
            "ticket:\(id)"
        case .recordSLAEvents(let records): "tickets:\(records.first.map { "\($0.ticketID)" } ?? "-")\(records.count > 1 ? "+\(records.count - 1)" : "")"
        case .recordEscalationSteps(let records, _):
            "tickets:\(records.first.map { "\($0.ticketID)" } ?? "-")\(records.count > 1 ? "+\(records.count - 1)" : "")"
        case .expireAcknowledgements(let ids): "tickets:\(ids.first.map { "\($0)" } ?? "-")\(ids.count > 1 ? "+\(ids.count - 1)" : "")"
        case .recordPageIntents(let keys, _): "page:\(keys.first ?? "-")\(keys.count > 1 ? "+\(keys.count - 1)" : "")"
        case .recordPageOutcomes(let outcomes): "page:\(outcomes.first?.key ?? "-")\(outcomes.count > 1 ? "+\(outcomes.count - 1)" : "")"
        case .pagerDutyEvent(let event): "dedup:\(event.dedupKey ?? "-")"
        case .alertmanagerNotification(let notification): "group:\(notification.groupKey)"
        case .changeEvent(let event): "change:\(event.routingKey.prefix(6))"
        case .upsertHeartbeatMonitor(let id, _, _, _), .heartbeatPing(let id), .heartbeatMissed(let id): "heartbeat:\(id)"
        case .upsertChannelInspection(let id, _, _, _), .recordInspectionResult(let id, _, _): "inspection:\(id)"
        case .upsertArticle(let draft): "article:\(draft.id)"
        case .recordArticleHit(let id): "article:\(id)"
        case .drawSupervisionSample(let id, _, _), .recordReviewVerdict(let id, _, _, _): "sample:\(id)"
        case .recordContactAccess(let id, _): "person:\(id)"
        }
    }
}
