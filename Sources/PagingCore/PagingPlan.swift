import DutyModel

/// Everything the leader owes at one instant, read from the applied state (pure: no clock, no I/O).
///
/// The scheduler makes a plan on every wake-up and acts on it; because the plan is derived from replicated
/// state alone, a new leader's first plan picks up exactly what the old one left unfinished.
public struct PagingPlan: Sendable, Equatable {
    /// One page ready to send: the outbox row and what the message needs (the address is personal data:
    /// it lives only in memory, long enough to send).
    public struct PageJob: Sendable, Equatable {
        public let row: OutboxPage
        /// Nil when the contact method was removed after the step was planned.
        public let address: String?
        public let ticketTitle: String
        public let priority: Priority
        public let serviceName: String
    }

    /// An SLA warning or breach to record.
    public struct SLADue: Sendable, Equatable {
        public let ticketID: TicketID
        public let target: SLATarget
        public let isBreach: Bool
        public let dueAt: Timestamp
    }

    /// A channel inspection to run: a test message to each contact method of its channel.
    public struct InspectionDue: Sendable, Equatable {
        public let inspectionID: String
        public let channel: String
        public let dueAt: Timestamp
        /// (person, contact method, kind, address), at most `maxInspectionTargets`.
        public let targets: [InspectionTarget]
    }

    /// One contact method an inspection tests.
    public struct InspectionTarget: Sendable, Equatable {
        public let personID: String
        public let contactMethodID: String
        public let kind: ContactMethod.Kind
        public let address: String
    }

    public static let maxInspectionTargets = 100

    public var steps: [EscalationStep] = []
    /// Due rows to claim in this term (planned, or intended by an earlier leader without an outcome).
    public var toIntend: [PageJob] = []
    /// Rows intended in this very term that this process is not sending (its intent reply was lost).
    public var toSend: [PageJob] = []
    /// Recipients with rows to claim that storm control holds back now (their rows are not in `toIntend`).
    public var heldRecipients: Set<Recipient> = []
    /// Intended rows whose ticket was acknowledged or closed before they were sent.
    public var toCancel: [OutboxPage] = []
    public var sla: [SLADue] = []
    public var heartbeats: [(monitorID: String, dueAt: Timestamp)] = []
    /// Acknowledgements past their service's timeout: the tickets page again.
    public var acknowledgementExpiries: [(ticketID: TicketID, dueAt: Timestamp)] = []
    public var inspections: [InspectionDue] = []
    /// When to plan again at the latest (nil: nothing pending; wait for a change).
    public var nextDeadline: Timestamp?

    /// Pages for one person through one contact method: the unit of storm control and of one message.
    public typealias Recipient = OutboxTable.Recipient

    public static func == (lhs: PagingPlan, rhs: PagingPlan) -> Bool {
        lhs.steps == rhs.steps && lhs.toIntend == rhs.toIntend && lhs.toSend == rhs.toSend && lhs.toCancel == rhs.toCancel
            && lhs.heldRecipients == rhs.heldRecipients
            && lhs.sla == rhs.sla && lhs.heartbeats.map(\.monitorID) == rhs.heartbeats.map(\.monitorID)
            && lhs.acknowledgementExpiries.map(\.ticketID) == rhs.acknowledgementExpiries.map(\.ticketID)
            && lhs.inspections == rhs.inspections && lhs.nextDeadline == rhs.nextDeadline
    }

    public init() {}

    /// What is due at `now` for the leader of `term`; `busy` names work this process already has in hand
    /// (outbox keys and the scheduler's own keys for steps, SLA, heartbeats, inspections).
    ///
    /// Rows to claim are limited to what one pass can act on: none for a recipient `admits` refuses (storm
    /// control), at most `DutyLimits.maxPagesPerCommand` for any other. A backlog held back by storm control
    /// (up to `DutyLimits.maxOutboxPages` rows for a few people) then costs nothing per row.
    public static func make(_ state: DutyState, now: Timestamp, term: UInt64, busy: Set<String>,
                            admits: (Recipient) -> Bool = { _ in true }) -> PagingPlan {
        var plan = PagingPlan()
        for step in state.dueEscalationSteps(until: now) where !busy.contains(stepKey(step)) {
            plan.steps.append(step)
        }
        var claimed: [Recipient: Int] = [:]
        /// Whether one more row of `recipient` may be claimed in this pass.
        func claim(_ recipient: Recipient) -> Bool {
            if plan.heldRecipients.contains(recipient) { return false }
            let count = claimed[recipient] ?? 0
            if count == 0, !admits(recipient) {
                plan.heldRecipients.insert(recipient)
                return false
            }
            guard count < DutyLimits.maxPagesPerCommand else { return false }
            claimed[recipient] = count + 1
            return true
        }
        for row in state.outbox.intendedRows() where row.dueAt <= now && !busy.contains(row.key) {
            if !state.rowWanted(row) {
                plan.toCancel.append(row)
            } else if let intentTerm = row.intentTerm, intentTerm >= term {
                if intentTerm == term { plan.toSend.append(job(for: row, in: state)) }
            } else if claim(row.recipient) {
                plan.toIntend.append(job(for: row, in: state))
            }
        }
        for recipient in state.outbox.recipientsDue(until: now) {
            state.outbox.forEachPlannedDue(of: recipient, until: now) { row in
                // Claimed rows are in flight (at most a few commands' worth); a row of a ticket that no longer
                // wants pages is dropped by the command that acknowledged or closed it.
                guard !busy.contains(row.key), state.rowWanted(row) else { return true }
                guard claim(recipient) else { return false }
                plan.toIntend.append(job(for: row, in: state))
                return true
            }
        }
        plan.toIntend.sort { ($0.row.dueAt, $0.row.key) < ($1.row.dueAt, $1.row.key) }
        for due in state.dueSLAEvents(at: now) {
            let item = SLADue(ticketID: due.ticketID, target: due.target, isBreach: due.isBreach, dueAt: due.dueAt)
            if !busy.contains(slaKey(item)) { plan.sla.append(item) }
        }
        for monitor in state.heartbeatMonitors.values.sorted(by: { $0.id < $1.id })
        where monitor.openIncidentID == nil && monitor.deadline <= now && !busy.contains(heartbeatKey(monitor.id)) {
            plan.heartbeats.append((monitor.id, monitor.deadline))
        }
        for expiry in state.dueAcknowledgementExpiries(until: now) where !busy.contains(acknowledgementKey(expiry.ticketID)) {
            plan.acknowledgementExpiries.append(expiry)
        }
        for inspection in state.channelInspections.values.sorted(by: { $0.id < $1.id })
        where inspection.nextDueAt <= now && !busy.contains(inspectionKey(inspection.id)) {
            plan.inspections.append(InspectionDue(inspectionID: inspection.id, channel: inspection.channel, dueAt: inspection.nextDueAt,
                                                  targets: inspectionTargets(channel: inspection.channel, in: state)))
        }
        plan.nextDeadline = state.nextSchedulerDeadline()
        return plan
    }

    public static func stepKey(_ step: EscalationStep) -> String { step.idempotencyKey }
    public static func slaKey(_ due: SLADue) -> String { "sla-\(due.ticketID)-\(due.target.rawValue)-\(due.isBreach ? "breach" : "warning")" }
    public static func heartbeatKey(_ monitorID: String) -> String { "heartbeat-\(monitorID)" }
    public static func acknowledgementKey(_ ticketID: TicketID) -> String { "ack-expiry-\(ticketID)" }
    public static func inspectionKey(_ inspectionID: String) -> String { "inspection-\(inspectionID)" }

    static func job(for row: OutboxPage, in state: DutyState) -> PageJob {
        let ticket = state.ticket(row.ticketID)
        // The pager reads contact data as an admin would (S16); it never logs it.
        let methods = (try? state.contactMethods(of: row.personID, readerRole: .admin).get()) ?? []
        let address = methods.first { $0.id == row.contactMethodID }?.address
        let serviceName = ticket.flatMap { state.services[$0.serviceID]?.name } ?? ticket?.serviceID ?? "?"
        var title = ticket?.title ?? "ticket \(row.ticketID)"
        if let (scheduleID, start) = row.reminderShift {
            let schedule = state.schedules[scheduleID]
            let zone = schedule?.timeZoneIdentifier ?? "UTC"
            let local = ZoneClock(identifier: zone).map { clock -> String in
                let minute = clock.minuteOfDay(at: start)
                let hh = minute / 60 < 10 ? "0\(minute / 60)" : "\(minute / 60)", mm = minute % 60 < 10 ? "0\(minute % 60)" : "\(minute % 60)"
                return "\(clock.localDate(at: start)) \(hh):\(mm)"
            } ?? "\(start)"
            title = "On-call hand-off: your shift on \(schedule?.name ?? scheduleID) starts at \(local) (\(zone))"
        } else if let (kind, version, policyID) = row.announcedPolicy {
            let name = kind == .sla ? state.slaPolicy(policyID, version: version)?.name : state.escalationPolicies[policyID]?.first { $0.version == version }?.name
            title = "Policy change: \(kind == .sla ? "SLA" : "escalation") policy '\(name ?? policyID)' is now version \(version)"
        } else if let label = row.noticeLabel {
            title = "\(label): \(title)"
        }
        return PageJob(row: row, address: address, ticketTitle: title,
                       priority: ticket?.priority ?? .p1, serviceName: serviceName)
    }

    /// Contact methods of the inspected channel; the channel names a contact-method kind ("email", "sms", …).
    static func inspectionTargets(channel: String, in state: DutyState) -> [InspectionTarget] {
        guard let kind = ContactMethod.Kind(rawValue: channel) else { return [] }
        var targets: [InspectionTarget] = []
        for person in state.people.values.sorted(by: { $0.id < $1.id }) {
            let methods = (try? state.contactMethods(of: person.id, readerRole: .admin).get()) ?? []
            for method in methods where method.kind == kind {
                guard targets.count < maxInspectionTargets else { return targets }
                targets.append(InspectionTarget(personID: person.id, contactMethodID: method.id, kind: kind, address: method.address))
            }
        }
        return targets
    }
}
