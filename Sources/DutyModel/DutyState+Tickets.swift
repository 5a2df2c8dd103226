extension DutyState {
    /// Escalation pages only for urgent work: P1/P2, or any emergency or monitoring incident.
    static func escalates(kind: TicketKind, priority: Priority) -> Bool {
        priority <= .p2 || kind == .emergency || kind == .incident
    }

    func calendar(for policy: SLAPolicy) -> BusinessCalendar? { policy.calendarID.flatMap { calendars[$0] } }

    func calendar(forTicket ticket: Ticket) -> BusinessCalendar? {
        slaPolicy(ticket.slaPolicyID, version: ticket.slaPolicyVersion).flatMap(calendar(for:))
    }

    func validateNewTicket(_ new: NewTicket) -> DutyError? {
        if let error = Validate.title(new.title, field: "ticket.title") { return error }
        if let error = Validate.text(new.description, field: "ticket.description") { return error }
        if services[new.serviceID] == nil { return .notFound("ticket.serviceID", "no service '\(new.serviceID)'") }
        if let customerID = new.customerID, let error = Validate.identifier(customerID, field: "ticket.customerID") { return error }
        if let ownerID = new.ownerID, people[ownerID] == nil { return .notFound("ticket.ownerID", "no person '\(ownerID)'") }
        if tickets.count >= DutyLimits.maxTickets { return .limit("ticket", "at most \(DutyLimits.maxTickets) tickets") }
        return nil
    }

    /// Opens a validated ticket: SLA clocks from the resolved policy version, escalation from the
    /// service's policy version, and knowledge-base suggestions.
    @discardableResult
    mutating func openTicket(_ new: NewTicket, followUpOf: TicketID? = nil, alertKey: String? = nil,
                             _ context: inout ApplyContext) -> TicketID {
        let id = tickets.count + 1
        let policy = resolveSLAPolicy(serviceID: new.serviceID, customerID: new.customerID)
        let calendar = calendar(for: policy)
        let clocks = policy.rules(for: new.priority).map {
            SLAClock(rule: $0, warningThresholdPercent: policy.warningThresholdPercent, startedAt: context.at, calendar: calendar)
        }
        let service = services[new.serviceID]!
        var escalation: EscalationProgress?
        if Self.escalates(kind: new.kind, priority: new.priority),
           let policyID = service.escalationPolicyID, let escalationPolicy = escalationPolicies[policyID]?.last {
            escalation = EscalationProgress(policyID: policyID, policyVersion: escalationPolicy.version, startedAt: context.at,
                                            stepsFired: 0, nextDueAt: context.at,
                                            suppressedByMaintenance: service.inMaintenance(at: context.at))
        }
        let suggestions = knowledgeBase.search(new.title + " " + new.description, limit: DutyLimits.maxSuggestedArticles).map(\.articleID)
        var ticket = Ticket(
            id: id, kind: new.kind, priority: new.priority, title: new.title, serviceID: new.serviceID,
            customerID: new.customerID, ownerID: new.ownerID, stage: .registered, waitingForCustomer: false,
            registeredAt: context.at, acknowledgedAt: nil, acknowledgedBy: nil, resolvedAt: nil, archivedAt: nil,
            reopenCount: 0, slaPolicyID: policy.id, slaPolicyVersion: policy.version, clocks: clocks,
            escalation: escalation, timeline: [], droppedTimelineEntries: 0, alertKey: alertKey, alertCount: alertKey == nil ? 0 : 1,
            suggestedArticleIDs: suggestions, feedback: nil, followUpOf: followUpOf, followUpTicketID: nil)
        ticket.append(.registered(kind: new.kind, priority: new.priority), at: context.at, actor: context.actor)
        if let followUpOf { ticket.append(.followUpOf(followUpOf), at: context.at, actor: context.actor) }
        if let ownerID = new.ownerID { ticket.append(.ownerChanged(from: nil, to: ownerID), at: context.at, actor: context.actor) }
        if !suggestions.isEmpty { ticket.append(.articlesSuggested(suggestions), at: context.at, actor: context.actor) }
        tickets.appendNew(ticket)
        openTicketCount += 1
        context.emit(.ticketRegistered(id, kind: new.kind, priority: new.priority))
        if escalation?.suppressedByMaintenance == true { context.emit(.escalationSuppressed(id, serviceID: new.serviceID)) }
        if !suggestions.isEmpty { context.emit(.articlesSuggested(id, articleIDs: suggestions)) }
        return id
    }

    mutating func registerTicket(_ new: NewTicket, _ context: inout ApplyContext) throws(DutyError) {
        if let error = validateNewTicket(new) { throw error }
        openTicket(new, &context)
    }

    /// Looks up a ticket for a human command that will add to its timeline (archived ones come from the archive).
    func editableTicket(_ id: TicketID, field: String = "ticketID") throws(DutyError) -> Ticket {
        guard let ticket = ticket(id) else { throw .notFound(field, "no ticket \(id)") }
        if !ticket.hasRoomInTimeline {
            throw .limit(field, "ticket \(id) reached \(DutyLimits.maxTimelineEntriesPerTicket) timeline entries; open a follow-up")
        }
        return ticket
    }

    mutating func advanceTicket(_ id: TicketID, to stage: TicketStage, _ context: inout ApplyContext) throws(DutyError) {
        let ticket = try editableTicket(id)
        guard TicketLifecycle.canMove(from: ticket.stage, to: stage) else {
            throw DutyError(.illegalTransition, field: "to", "a ticket cannot move from \(ticket.stage.rawValue) to \(stage.rawValue)")
        }
        moveStage(id, to: stage, &context)
    }

    /// Moves a ticket one legal step and applies what the stage implies for clocks and alerts.
    mutating func moveStage(_ id: TicketID, to stage: TicketStage, _ context: inout ApplyContext) {
        let from = tickets.live[id]!.stage
        if from == .registered { markAcknowledged(id, &context) }
        tickets.live[id]!.stage = stage
        tickets.live[id]!.append(.stageChanged(from: from, to: stage), at: context.at, actor: context.actor)
        context.emit(.stageChanged(id, from: from, to: stage))
        switch stage {
        case .feedback:
            tickets.live[id]!.resolvedAt = context.at
            tickets.live[id]!.waitingForCustomer = false
            openTicketCount -= 1
            stopClocks(id, [.firstResponse, .initialSolution, .updateInterval, .resolution], &context)
            closeAlertKey(of: id)
        case .archived:
            tickets.live[id]!.archivedAt = context.at
            tickets.moveToArchive(id)
        default:
            break
        }
    }

    private mutating func closeAlertKey(of id: TicketID) {
        guard let key = tickets.live[id]!.alertKey else { return }
        if openAlerts[key] == id { openAlerts[key] = nil }
        if alertGroups[key]?.ticketID == id { alertGroups[key] = nil }
        tickets.live[id]!.alertKey = nil
    }

    mutating func stopClocks(_ id: TicketID, _ targets: [SLATarget], _ context: inout ApplyContext) {
        for clockIndex in tickets.live[id]!.clocks.indices where targets.contains(tickets.live[id]!.clocks[clockIndex].target) {
            guard !tickets.live[id]!.clocks[clockIndex].isStopped else { continue }
            tickets.live[id]!.clocks[clockIndex].stop(at: context.at)
            let clock = tickets.live[id]!.clocks[clockIndex]
            if clock.met == true {
                context.emit(.slaMet(id, clock.target))
            } else if let breachedAt = clock.breachedAt {
                context.emit(.slaBreached(id, clock.target, dueAt: breachedAt))
            }
        }
    }

    /// First acknowledgement or reply: stops the first-response clock and escalation (S2).
    mutating func markAcknowledged(_ id: TicketID, _ context: inout ApplyContext) {
        guard tickets.live[id]!.acknowledgedAt == nil else { return }
        tickets.live[id]!.acknowledgedAt = context.at
        tickets.live[id]!.acknowledgedBy = context.actor
        tickets.live[id]!.append(.acknowledged, at: context.at, actor: context.actor)
        context.emit(.ticketAcknowledged(id))
        stopClocks(id, [.firstResponse], &context)
        // S7: whoever picks up an unowned ticket owns it.
        if tickets.live[id]!.ownerID == nil, people[context.actor.rawValue] != nil {
            tickets.live[id]!.ownerID = context.actor.rawValue
            tickets.live[id]!.append(.ownerChanged(from: nil, to: context.actor.rawValue), at: context.at, actor: context.actor)
            context.emit(.ownerChanged(id, from: nil, to: context.actor.rawValue))
        }
    }

    mutating func reopenTicket(_ id: TicketID, reason: String, _ context: inout ApplyContext) throws(DutyError) {
        let ticket = try editableTicket(id)
        guard TicketLifecycle.canReopen(from: ticket.stage) else {
            throw DutyError(.illegalTransition, field: "ticketID", "only tickets in feedback or archived can be reopened (ticket \(id) is \(ticket.stage.rawValue))")
        }
        if let error = Validate.title(reason, field: "reason") { throw error }
        if ticket.stage == .archived { tickets.moveOutOfArchive(ticket) }
        let calendar = calendar(forTicket: ticket)
        tickets.live[id]!.stage = .analysing
        tickets.live[id]!.resolvedAt = nil
        tickets.live[id]!.archivedAt = nil
        tickets.live[id]!.reopenCount += 1
        // The old rating stays in the timeline; the next feedback stage collects a fresh one.
        tickets.live[id]!.feedback = nil
        openTicketCount += 1
        for clockIndex in tickets.live[id]!.clocks.indices
        where [.updateInterval, .resolution].contains(tickets.live[id]!.clocks[clockIndex].target) {
            tickets.live[id]!.clocks[clockIndex].rearm(at: context.at, calendar: calendar)
        }
        tickets.live[id]!.append(.reopened(from: ticket.stage, reason: reason), at: context.at, actor: context.actor)
        context.emit(.ticketReopened(id))
        context.emit(.stageChanged(id, from: ticket.stage, to: .analysing))
    }

    mutating func acknowledgeTicket(_ id: TicketID, _ context: inout ApplyContext) throws(DutyError) {
        let ticket = try editableTicket(id)
        guard ticket.stage.isOpen else { throw .conflict("ticketID", "ticket \(id) is \(ticket.stage.rawValue), nothing to acknowledge") }
        guard ticket.acknowledgedAt == nil else { throw .conflict("ticketID", "ticket \(id) is already acknowledged") }
        markAcknowledged(id, &context)
    }

    mutating func assignTicket(_ id: TicketID, ownerID: String, _ context: inout ApplyContext) throws(DutyError) {
        let ticket = try editableTicket(id)
        guard people[ownerID] != nil else { throw .notFound("ownerID", "no person '\(ownerID)'") }
        guard ticket.stage != .archived else { throw .conflict("ticketID", "ticket \(id) is archived") }
        guard ticket.ownerID != ownerID else { throw .conflict("ownerID", "'\(ownerID)' already owns ticket \(id)") }
        tickets.live[id]!.ownerID = ownerID
        tickets.live[id]!.append(.ownerChanged(from: ticket.ownerID, to: ownerID), at: context.at, actor: context.actor)
        context.emit(.ownerChanged(id, from: ticket.ownerID, to: ownerID))
    }

    mutating func changePriority(_ id: TicketID, _ priority: Priority, _ context: inout ApplyContext) throws(DutyError) {
        let ticket = try editableTicket(id)
        guard ticket.stage.isOpen else { throw .conflict("ticketID", "ticket \(id) is \(ticket.stage.rawValue)") }
        guard ticket.priority != priority else { throw .conflict("priority", "ticket \(id) already has \(priority.rawValue)") }
        // Clocks keep the targets they started with; the policy version is fixed at registration.
        tickets.live[id]!.priority = priority
        // An upgrade to urgent starts paging now if nobody has picked the ticket up yet.
        if ticket.escalation == nil, ticket.acknowledgedAt == nil, Self.escalates(kind: ticket.kind, priority: priority),
           let service = services[ticket.serviceID], let policyID = service.escalationPolicyID,
           let policy = escalationPolicies[policyID]?.last {
            tickets.live[id]!.escalation = EscalationProgress(policyID: policyID, policyVersion: policy.version, startedAt: context.at,
                                                            stepsFired: 0, nextDueAt: context.at,
                                                            suppressedByMaintenance: service.inMaintenance(at: context.at))
        }
        tickets.live[id]!.append(.priorityChanged(from: ticket.priority, to: priority), at: context.at, actor: context.actor)
        context.emit(.priorityChanged(id, from: ticket.priority, to: priority))
    }

    mutating func addNote(_ id: TicketID, text: String, customerVisible: Bool, _ context: inout ApplyContext) throws(DutyError) {
        let ticket = try editableTicket(id)
        if text.trimmingWhitespace().isEmpty { throw .invalid("text", "must not be empty") }
        if let error = Validate.text(text, field: "text") { throw error }
        guard ticket.stage != .archived else { throw .conflict("ticketID", "ticket \(id) is archived; reopen it first") }
        tickets.live[id]!.append(.note(text: text, customerVisible: customerVisible), at: context.at, actor: context.actor)
        context.emit(.noteAdded(id, customerVisible: customerVisible))
        guard customerVisible, ticket.stage.isOpen else { return }
        markAcknowledged(id, &context)
        let calendar = calendar(forTicket: ticket)
        if let clockIndex = tickets.live[id]!.clocks.firstIndex(where: { $0.target == .updateInterval && !$0.isStopped }) {
            tickets.live[id]!.clocks[clockIndex].rearm(at: context.at, calendar: calendar)
            if ticket.waitingForCustomer { tickets.live[id]!.clocks[clockIndex].pause(at: context.at, calendar: calendar) }
        }
    }

    mutating func provideInitialSolution(_ id: TicketID, text: String, _ context: inout ApplyContext) throws(DutyError) {
        let ticket = try editableTicket(id)
        if text.trimmingWhitespace().isEmpty { throw .invalid("text", "must not be empty") }
        if let error = Validate.text(text, field: "text") { throw error }
        guard ticket.stage.isOpen else { throw .conflict("ticketID", "ticket \(id) is \(ticket.stage.rawValue)") }
        if ticket.clock(.initialSolution)?.isStopped == true {
            throw .conflict("ticketID", "ticket \(id) already has its initial solution")
        }
        markAcknowledged(id, &context)
        tickets.live[id]!.append(.initialSolution(text: text), at: context.at, actor: context.actor)
        context.emit(.initialSolutionProvided(id))
        stopClocks(id, [.initialSolution], &context)
    }

    mutating func setWaitingForCustomer(_ id: TicketID, _ waiting: Bool, _ context: inout ApplyContext) throws(DutyError) {
        let ticket = try editableTicket(id)
        guard ticket.stage == .analysing || ticket.stage == .handling else {
            throw .conflict("ticketID", "only tickets in analysing or handling can wait for the customer (ticket \(id) is \(ticket.stage.rawValue))")
        }
        guard ticket.waitingForCustomer != waiting else { throw .conflict("waiting", "ticket \(id) already has waiting = \(waiting)") }
        let calendar = calendar(forTicket: ticket)
        tickets.live[id]!.waitingForCustomer = waiting
        for clockIndex in tickets.live[id]!.clocks.indices {
            if waiting {
                tickets.live[id]!.clocks[clockIndex].pause(at: context.at, calendar: calendar)
            } else {
                tickets.live[id]!.clocks[clockIndex].resume(at: context.at, calendar: calendar)
            }
        }
        tickets.live[id]!.append(.waitingForCustomer(waiting), at: context.at, actor: context.actor)
        context.emit(.waitingForCustomerChanged(id, waiting: waiting))
    }

    /// The ticket's clock for `target`, for recording a warning or breach on it.
    private func slaClock(_ id: TicketID, _ target: SLATarget) throws(DutyError) -> (index: Int, clock: SLAClock) {
        let ticket = try editableTicket(id)
        // Archived tickets stopped every clock at feedback; the guard keeps them out of the working-set writes below.
        guard ticket.stage != .archived else { throw .conflict("ticketID", "ticket \(id) is archived; its clocks are stopped") }
        guard let clockIndex = ticket.clocks.firstIndex(where: { $0.target == target }) else {
            throw .notFound("target", "ticket \(id) has no \(target.rawValue) clock")
        }
        return (clockIndex, ticket.clocks[clockIndex])
    }

    mutating func recordSLAWarning(_ id: TicketID, _ target: SLATarget, _ context: inout ApplyContext) throws(DutyError) {
        let (clockIndex, clock) = try slaClock(id, target)
        guard let warnAt = clock.warnAt, clock.isRunning else {
            throw .conflict("target", "the \(target.rawValue) clock of ticket \(id) owes no warning")
        }
        guard context.at >= warnAt else { throw DutyError(.notDue, field: "target", "warning is due at \(warnAt)") }
        tickets.live[id]!.clocks[clockIndex].recordWarning(at: context.at)
        tickets.live[id]!.append(.slaWarning(target), at: context.at, actor: context.actor)
        context.emit(.slaWarning(id, target, dueAt: clock.dueAt ?? context.at))
    }

    mutating func recordSLABreach(_ id: TicketID, _ target: SLATarget, _ context: inout ApplyContext) throws(DutyError) {
        let (clockIndex, clock) = try slaClock(id, target)
        guard let dueAt = clock.dueAt, clock.isRunning else {
            throw .conflict("target", "the \(target.rawValue) clock of ticket \(id) is not running")
        }
        guard context.at >= dueAt else { throw DutyError(.notDue, field: "target", "the deadline is \(dueAt)") }
        guard !clock.breachRecordedForCurrentCycle else { throw .conflict("target", "breach already recorded") }
        tickets.live[id]!.clocks[clockIndex].recordBreach()
        tickets.live[id]!.append(.slaBreached(target), at: context.at, actor: context.actor)
        context.emit(.slaBreached(id, target, dueAt: dueAt))
    }

    /// The scheduler's batch: each item is recorded as `recordSLAWarning`/`recordSLABreach` would, or skipped when
    /// it is no longer owed (the clock stopped or paused, or the item was recorded already), so that one ticket
    /// closed meanwhile does not hold back the others. A malformed batch (empty, too long) changes nothing.
    mutating func recordSLAEvents(_ records: [SLAEventRecord], _ context: inout ApplyContext) throws(DutyError) {
        guard (1...DutyLimits.maxSchedulerBatch).contains(records.count) else {
            throw .limit("records", "a batch holds 1–\(DutyLimits.maxSchedulerBatch) SLA events, not \(records.count)")
        }
        if records.contains(where: { $0.keysNoticesByCycle == true }) { noticeKeysByCycle = true }
        for record in records {
            do {
                if record.isBreach {
                    try recordSLABreach(record.ticketID, record.target, &context)
                } else {
                    try recordSLAWarning(record.ticketID, record.target, &context)
                }
            } catch {
                // Any refusal of one item is the same on every replica: skip it, keep the rest.
                continue
            }
        }
    }

    /// SLA warnings and breaches due at `instant` that the scheduler should record, oldest first.
    public func dueSLAEvents(at instant: Timestamp) -> [(ticketID: TicketID, target: SLATarget, isBreach: Bool, dueAt: Timestamp)] {
        var result: [(dueAt: Timestamp, ticketID: TicketID, clockIndex: Int, target: SLATarget, isBreach: Bool)] = []
        for id in ticketsDue(until: instant) {
            guard let ticket = tickets.live[id], ticket.stage.isOpen else { continue }
            for (clockIndex, clock) in ticket.clocks.enumerated() where clock.isRunning {
                if let dueAt = clock.dueAt, dueAt <= instant, !clock.breachRecordedForCurrentCycle {
                    result.append((dueAt, ticket.id, clockIndex, clock.target, true))
                } else if let warnAt = clock.warnAt, warnAt <= instant {
                    result.append((warnAt, ticket.id, clockIndex, clock.target, false))
                }
            }
        }
        // Tickets come in deadline order, their clocks not: one total order for the answer.
        result.sort { ($0.dueAt, $0.ticketID, $0.clockIndex) < ($1.dueAt, $1.ticketID, $1.clockIndex) }
        return result.map { ($0.ticketID, $0.target, $0.isBreach, $0.dueAt) }
    }
}
