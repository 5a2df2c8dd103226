extension DutyState {
    /// The next page owed for a ticket and its deadline; nil once acknowledged, resolved,
    /// suppressed by a maintenance window, exhausted, or for tickets that do not escalate.
    public func nextDueStep(_ ticketID: TicketID) -> EscalationStep? {
        // Only unarchived tickets can owe a page, so the archive is never read here.
        guard let ticket = tickets.live[ticketID], let (policy, dueAt) = nextStepDue(of: ticket),
              let stepsFired = ticket.escalation?.stepsFired else { return nil }
        let levelIndex = policy.levelIndex(ofStep: stepsFired)
        return EscalationStep(
            ticketID: ticketID, stepIndex: stepsFired, levelIndex: levelIndex, dueAt: dueAt,
            personIDs: resolveTargets(policy: policy, levelIndex: levelIndex, at: dueAt),
            idempotencyKey: "ticket-\(ticketID)-step-\(stepsFired)")
    }

    /// When `ticket`'s next step falls due and under which policy, or nil when it owes none. Resolves no targets:
    /// the deadline index asks this of every ticket each command writes.
    func nextStepDue(of ticket: Ticket) -> (policy: EscalationPolicy, dueAt: Timestamp)? {
        guard ticket.stage.isOpen, ticket.acknowledgedAt == nil,
              let progress = ticket.escalation, !progress.suppressedByMaintenance,
              let policy = escalationPolicy(progress.policyID, version: progress.policyVersion),
              progress.stepsFired < policy.stepCount else { return nil }
        let dueAt = services[ticket.serviceID].map { Self.deferred(progress.nextDueAt, pastWindowsOf: $0) } ?? progress.nextDueAt
        return (policy, dueAt)
    }

    /// A step that falls due inside a maintenance window that began after the ticket was
    /// registered waits for the window to end (windows may chain, hence the loop).
    static func deferred(_ instant: Timestamp, pastWindowsOf service: Service) -> Timestamp {
        var due = instant
        var moved = true
        var rounds = 0
        while moved && rounds <= service.maintenanceWindows.count {
            moved = false
            rounds += 1
            for window in service.maintenanceWindows where window.start <= due && due < window.end {
                due = window.end
                moved = true
            }
        }
        return due
    }

    /// Every open ticket's next step, earliest deadline first (what the paging scheduler polls).
    public func dueEscalationSteps(until instant: Timestamp) -> [EscalationStep] {
        var steps: [EscalationStep] = []
        for id in ticketsDue(until: instant) {
            if let step = nextDueStep(id), step.dueAt <= instant { steps.append(step) }
        }
        return steps.sorted { ($0.dueAt, $0.ticketID) < ($1.dueAt, $1.ticketID) }
    }

    /// When each open ticket's next step due by `instant` fell due, without resolving whom it pages: what a
    /// checker of deadlines needs, at a fraction of `dueEscalationSteps`' cost. Same order.
    public func dueStepDeadlines(until instant: Timestamp) -> [(ticketID: TicketID, stepIndex: Int, dueAt: Timestamp)] {
        var steps: [(ticketID: TicketID, stepIndex: Int, dueAt: Timestamp)] = []
        for id in ticketsDue(until: instant) {
            guard let ticket = tickets.live[id], let stepIndex = ticket.escalation?.stepsFired,
                  let (_, dueAt) = nextStepDue(of: ticket), dueAt <= instant else { continue }
            steps.append((id, stepIndex, dueAt))
        }
        return steps.sorted { ($0.dueAt, $0.ticketID) < ($1.dueAt, $1.ticketID) }
    }

    private func roundRobinKey(_ policy: EscalationPolicy, _ levelIndex: Int) -> String { "\(policy.id)#\(levelIndex)" }

    /// People paged by a level at an instant, in target order, without duplicates.
    func resolveTargets(policy: EscalationPolicy, levelIndex: Int, at instant: Timestamp) -> [String] {
        let level = policy.levels[levelIndex]
        var targets = level.targets
        if level.mode == .roundRobin {
            let cursor = roundRobinCursors[roundRobinKey(policy, levelIndex)] ?? 0
            targets = [level.targets[cursor % level.targets.count]]
        }
        var seen: Set<String> = []
        var persons: [String] = []
        for target in targets {
            let resolved: [String]
            switch target {
            case .person(let id): resolved = [id]
            case .schedule(let id): resolved = schedules[id]?.onCall(at: instant).map { [$0] } ?? []
            case .team(let id): resolved = teams[id]?.memberIDs ?? []
            }
            for person in resolved where seen.insert(person).inserted { persons.append(person) }
        }
        return persons
    }

    /// When an acknowledged ticket's acknowledgement runs out, or nil (no timeout, not acknowledged, closed).
    public func acknowledgementExpiry(_ ticketID: TicketID) -> Timestamp? {
        tickets.live[ticketID].flatMap(acknowledgementExpiry(of:))
    }

    func acknowledgementExpiry(of ticket: Ticket) -> Timestamp? {
        guard ticket.stage.isOpen, let acknowledgedAt = ticket.acknowledgedAt,
              let seconds = services[ticket.serviceID]?.acknowledgementTimeoutSeconds else { return nil }
        return acknowledgedAt + Int64(seconds) * Millis.second
    }

    /// Acknowledged tickets whose acknowledgement ran out by `instant`, earliest first.
    public func dueAcknowledgementExpiries(until instant: Timestamp) -> [(ticketID: TicketID, dueAt: Timestamp)] {
        ticketsDue(until: instant).compactMap { id in acknowledgementExpiry(id).flatMap { $0 <= instant ? (id, $0) : nil } }
            .sorted { ($0.dueAt, $0.ticketID) < ($1.dueAt, $1.ticketID) }
    }

    /// Un-acknowledges the ticket; its escalation goes on from the next level at once (keys stay unique
    /// because steps only count up). An exhausted policy pages nobody more, but the ticket shows unacknowledged.
    mutating func expireAcknowledgement(_ id: TicketID, _ context: inout ApplyContext) throws(DutyError) {
        _ = try editableTicket(id)
        guard let expiry = acknowledgementExpiry(id) else {
            throw .conflict("ticketID", "ticket \(id) has no acknowledgement that can expire")
        }
        guard context.at >= expiry else { throw DutyError(.notDue, field: "ticketID", "the acknowledgement lasts until \(expiry)") }
        tickets.live[id]!.acknowledgedAt = nil
        tickets.live[id]!.acknowledgedBy = nil
        if tickets.live[id]!.escalation != nil { tickets.live[id]!.escalation!.nextDueAt = context.at }
        tickets.live[id]!.append(.acknowledgementExpired, at: context.at, actor: context.actor)
        context.emit(.acknowledgementExpired(id))
    }

    /// The scheduler's batch of expiries; a ticket whose acknowledgement no longer expires (closed, acknowledged
    /// again or un-acknowledged meanwhile) is skipped.
    mutating func expireAcknowledgements(_ ids: [TicketID], _ context: inout ApplyContext) throws(DutyError) {
        guard (1...DutyLimits.maxSchedulerBatch).contains(ids.count) else {
            throw .limit("ticketIDs", "a batch holds 1–\(DutyLimits.maxSchedulerBatch) tickets, not \(ids.count)")
        }
        for id in ids {
            do {
                try expireAcknowledgement(id, &context)
            } catch {
                // Any refusal of one item is the same on every replica: skip it, keep the rest.
                continue
            }
        }
    }

    /// The scheduler's batch of steps. Every refusal of `recordEscalationStep` comes before it changes anything,
    /// so a skipped item leaves no trace; a malformed batch (empty, too long, term 0) changes nothing.
    mutating func recordEscalationSteps(_ records: [EscalationStepRecord], leaderTerm: UInt64?,
                                        _ context: inout ApplyContext) throws(DutyError) {
        guard (1...DutyLimits.maxSchedulerBatch).contains(records.count) else {
            throw .limit("records", "a batch holds 1–\(DutyLimits.maxSchedulerBatch) escalation steps, not \(records.count)")
        }
        if leaderTerm == 0 { throw .invalid("leaderTerm", "must be a Raft term (≥ 1)") }
        if leaderTerm == nil, records.contains(where: \.intendDuePages) {
            throw .invalid("leaderTerm", "required when a step intends its pages")
        }
        for record in records {
            do {
                try recordEscalationStep(record.ticketID, stepIndex: record.stepIndex,
                                         leaderTerm: record.intendDuePages ? leaderTerm : nil, &context)
            } catch {
                // The same on every replica: skip it, keep the rest.
                continue
            }
        }
    }

    mutating func recordEscalationStep(_ id: TicketID, stepIndex: Int, leaderTerm: UInt64? = nil,
                                       _ context: inout ApplyContext) throws(DutyError) {
        if leaderTerm == 0 { throw .invalid("leaderTerm", "must be a Raft term (≥ 1)") }
        _ = try editableTicket(id)
        guard let step = nextDueStep(id) else { throw .conflict("ticketID", "ticket \(id) has no escalation step due") }
        guard step.stepIndex == stepIndex else {
            throw .conflict("stepIndex", "the next step of ticket \(id) is \(step.stepIndex), not \(stepIndex)")
        }
        guard context.at >= step.dueAt else { throw DutyError(.notDue, field: "stepIndex", "step \(stepIndex) is due at \(step.dueAt)") }
        let progress = tickets.live[id]!.escalation!
        let policy = escalationPolicy(progress.policyID, version: progress.policyVersion)!
        let level = policy.levels[step.levelIndex]
        let pages = try plannedPages(for: step)
        if level.mode == .roundRobin { roundRobinCursors[roundRobinKey(policy, step.levelIndex), default: 0] += 1 }
        tickets.live[id]!.escalation!.stepsFired += 1
        tickets.live[id]!.escalation!.nextDueAt = step.dueAt + level.delayMillis
        tickets.live[id]!.append(.escalated(step: step.stepIndex, level: step.levelIndex, personIDs: step.personIDs,
                                         idempotencyKey: step.idempotencyKey), at: context.at, actor: context.actor)
        for var page in pages {
            if let leaderTerm, page.dueAt <= context.at {
                page.intentTerm = leaderTerm
                page.intentCount = 1
                page.intendedAt = context.at
                context.emit(.pageIntended(key: page.key, ticketID: id, leaderTerm: leaderTerm))
            }
            outbox[page.key] = page
        }
        context.emit(.escalationStepFired(step))
    }
}
