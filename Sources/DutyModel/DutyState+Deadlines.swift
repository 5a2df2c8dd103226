extension DutyState {
    /// The earliest instant the scheduler may owe `ticket` something, exactly as the scanners below decide it;
    /// nil when it owes nothing (closed, or every clock and step settled).
    func schedulerDeadline(of ticket: Ticket) -> Timestamp? {
        guard ticket.stage.isOpen else { return nil }
        var earliest: Timestamp?
        func consider(_ instant: Timestamp?) {
            guard let instant else { return }
            if earliest.map({ instant < $0 }) ?? true { earliest = instant }
        }
        consider(acknowledgementExpiry(of: ticket))
        consider(nextStepDue(of: ticket)?.dueAt)
        for clock in ticket.clocks where clock.isRunning {
            if let dueAt = clock.dueAt, !clock.breachRecordedForCurrentCycle { consider(dueAt) }
            consider(clock.warnAt)
        }
        return earliest
    }

    /// Re-files the tickets the last command wrote; a command that changes what others depend on (a service's
    /// acknowledgement timeout or maintenance windows, a policy) re-files all of them.
    mutating func reindexDeadlines(after command: DutyCommand) {
        switch command {
        case .upsertService, .addMaintenanceWindow, .upsertEscalationPolicy:
            reindexAllDeadlines()
        default:
            for id in tickets.live.takeTouched() {
                tickets.deadlines.set(id, tickets.live[id].flatMap { schedulerDeadline(of: $0) })
            }
        }
    }

    /// Builds the index from scratch (after a restore, or a configuration change).
    mutating func reindexAllDeadlines() {
        _ = tickets.live.takeTouched()
        var index = DeadlineIndex<TicketID>()
        for ticket in tickets.live.values {
            if let deadline = schedulerDeadline(of: ticket) { index.set(ticket.id, deadline) }
        }
        tickets.deadlines = index
    }

    /// Unarchived tickets that may owe the scheduler something by `instant`, earliest first: O(due).
    func ticketsDue(until instant: Timestamp) -> [TicketID] { tickets.deadlines.due(until: instant) }

    /// The earliest ticket deadline, in O(1).
    var earliestTicketDeadline: Timestamp? { tickets.deadlines.earliest }

    /// Whether the deadline and outbox indexes hold exactly what a rebuild would (tests; O(open tickets + outbox)).
    public func deadlineIndexIsExact() -> Bool {
        var rebuilt = self
        rebuilt.reindexAllDeadlines()
        guard tickets.deadlines.isConsistent(), tickets.deadlines.count == rebuilt.tickets.deadlines.count,
              outbox.indexesAreExact() else { return false }
        return tickets.live.values.allSatisfy { tickets.deadlines.deadline(of: $0.id) == rebuilt.tickets.deadlines.deadline(of: $0.id) }
    }
}
