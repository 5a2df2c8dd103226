/// One page the scheduler owes or is sending: a row of the replicated outbox (DESIGN §4).
///
/// A row is planned when an escalation step is recorded (one per person and contact method, due after the
/// person's notification-rule delay), intended once a leader's `recordPageIntents` commits, and leaves the
/// outbox with its outcome, which goes onto the ticket's timeline. Rows hold no address: the scheduler
/// reads the contact method when it sends, so personal data is not copied around.
public struct OutboxPage: Codable, Sendable, Equatable {
    /// Same on every replica and for every resend ("ticket-7-step-2-alice-sms"), so receivers can de-duplicate.
    public let key: String
    public let ticketID: TicketID
    public let stepIndex: Int
    public let levelIndex: Int
    public let personID: String
    public let contactMethodID: String
    public let kind: ContactMethod.Kind
    public let dueAt: Timestamp
    /// The term of the leader whose intent committed last; nil while the row is only planned.
    public internal(set) var intentTerm: UInt64?
    /// How many intents committed for this row: more than one means a later leader re-sent it.
    public internal(set) var intentCount: Int
    public internal(set) var intendedAt: Timestamp?

    public var isIntended: Bool { intentTerm != nil }

    /// Notices (SLA warnings and breaches to the owner and the team's manager) share the outbox with escalation
    /// pages but not their end: they are still owed after an acknowledgement, as long as the ticket exists.
    public static let noticePrefix = "notice-"
    public var isNotice: Bool { key.hasPrefix(Self.noticePrefix) }

    /// Hand-off reminders: `reminder-<shift start ms>-<schedule>/<person>/<method>` ('/' is in no identifier). They
    /// belong to no ticket (id 0) and are owed until sent.
    public static let reminderPrefix = "reminder-"
    public var isReminder: Bool { key.hasPrefix(Self.reminderPrefix) }

    /// Policy announcements to people (S14): `announce-<sla|escalation>-<version>-<policy>/<person>/<method>`; no ticket.
    public static let announcementPrefix = "announce-"

    /// The policy an announcement row is about.
    public var announcedPolicy: (kind: PolicyAnnouncement.PolicyKind, version: Int, policyID: String)? {
        guard key.hasPrefix(Self.announcementPrefix) else { return nil }
        let parts = key.dropFirst(Self.announcementPrefix.count).split(separator: "-", maxSplits: 2)
        guard parts.count == 3, let kind = PolicyAnnouncement.PolicyKind(rawValue: String(parts[0])), let version = Int(parts[1]),
              let policyID = parts[2].split(separator: "/").first else { return nil }
        return (kind, version, String(policyID))
    }

    /// The schedule and shift start of a reminder row.
    public var reminderShift: (scheduleID: String, start: Timestamp)? {
        guard isReminder else { return nil }
        let rest = key.dropFirst(Self.reminderPrefix.count)
        guard let dash = rest.firstIndex(of: "-"), let start = Timestamp(rest[..<dash]) else { return nil }
        guard let schedule = rest[rest.index(after: dash)...].split(separator: "/").first else { return nil }
        return (String(schedule), start)
    }

    /// What a notice is about, for the message's title ("SLA breach (first response)"); nil for a page.
    public var noticeLabel: String? {
        guard isNotice else { return nil }
        // notice-<ticket>-<target>-<warning|breach>-…
        let parts = key.split(separator: "-")
        guard parts.count >= 4 else { return "Notice" }
        return "SLA \(parts[3]) (\(parts[2]))"
    }

    /// The row `step` plans for one of its notifications, before any intent.
    public static func planned(by step: EscalationStep, _ notification: PlannedNotification) -> OutboxPage {
        OutboxPage(key: notification.idempotencyKey, ticketID: step.ticketID, stepIndex: step.stepIndex, levelIndex: step.levelIndex,
                   personID: notification.personID, contactMethodID: notification.contactMethodID, kind: notification.kind,
                   dueAt: notification.dueAt, intentTerm: nil, intentCount: 0, intendedAt: nil)
    }
}

/// What became of an intended page, as the leader that sent it (or a later one) records it.
public struct PageOutcome: Codable, Sendable, Equatable {
    /// Delivered, given up on, or not sent because the ticket no longer needed it.
    public enum Result: String, Codable, Sendable, CaseIterable { case delivered, failed, cancelled }
    public let key: String
    public let result: Result
    public let attempts: Int
    /// Why, without addresses or secrets (at most `maxDetailBytes`).
    public let detail: String

    public static let maxDetailBytes = 500

    public init(key: String, result: Result, attempts: Int, detail: String) {
        self.key = key
        self.result = result
        self.attempts = attempts
        self.detail = detail
    }
}

extension DutyState {
    /// Whether a ticket still wants pages: open, unacknowledged, in the working set.
    public func ticketWantsPages(_ id: TicketID) -> Bool {
        guard let ticket = tickets.live[id] else { return false }
        return ticket.stage.isOpen && ticket.acknowledgedAt == nil
    }

    /// Whether the row is still owed: a page while its ticket wants pages, a notice while its ticket is in the
    /// working set.
    public func rowWanted(_ row: OutboxPage) -> Bool {
        // Reminders and announcements belong to no ticket: owed until sent.
        if row.ticketID == 0 { return true }
        return row.isNotice ? tickets.live.contains(row.ticketID) : ticketWantsPages(row.ticketID)
    }

    /// Shifts starting within their schedule's reminder lead of `now` whose person was not reminded yet: what the
    /// leader proposes as `recordHandoffReminders`. O(schedules with reminders).
    public func dueHandoffReminders(at now: Timestamp) -> [HandoffReminder] {
        var due: [HandoffReminder] = []
        for schedule in schedules.values.sorted(by: { $0.id < $1.id }) {
            guard let minutes = schedule.handoffReminderMinutes else { continue }
            let lead = Int64(minutes) * Millis.minute
            for shift in schedule.finalTimeline(from: now, to: now + lead + 1) where shift.start > now && shift.start - lead <= now {
                if (handoffsReminded["\(schedule.id)/\(shift.personID)"] ?? Timestamp.min) < shift.start {
                    due.append(HandoffReminder(scheduleID: schedule.id, personID: shift.personID, shiftStart: shift.start))
                }
            }
        }
        return due
    }

    /// S14: each policy change is announced in writing to the people who asked for announcements, through their
    /// notification rules, as a page would be.
    mutating func planPolicyAnnouncements(_ context: inout ApplyContext) {
        for event in context.events {
            guard case let .policyAnnounced(announcement) = event.kind else { continue }
            for person in people.values.sorted(by: { $0.id < $1.id }) where person.announcements == true {
                let rules = person.notificationRules.isEmpty
                    ? person.contactMethods.map { NotificationRule(contactMethodID: $0.id, delayMinutes: 0) } : person.notificationRules
                for rule in rules {
                    guard let method = person.contactMethods.first(where: { $0.id == rule.contactMethodID }),
                          outbox.count < DutyLimits.maxOutboxPages else { continue }
                    let key = "\(OutboxPage.announcementPrefix)\(announcement.policyKind.rawValue)-\(announcement.version)-"
                        + "\(announcement.policyID)/\(person.id)/\(method.id)"
                    guard outbox[key] == nil else { continue }
                    outbox[key] = OutboxPage(key: key, ticketID: 0, stepIndex: -1, levelIndex: -1, personID: person.id,
                                             contactMethodID: method.id, kind: method.kind, dueAt: context.at + rule.delayMillis,
                                             intentTerm: nil, intentCount: 0, intendedAt: nil)
                }
            }
        }
    }

    /// S9: each reminder becomes one outbox row per contact method of the person's notification rules; a shift is
    /// reminded once, whoever leads.
    mutating func recordHandoffReminders(_ reminders: [HandoffReminder], _ context: inout ApplyContext) throws(DutyError) {
        if reminders.isEmpty { throw .invalid("reminders", "name at least one") }
        if reminders.count > DutyLimits.maxSchedulerBatch { throw .limit("reminders", "at most \(DutyLimits.maxSchedulerBatch)") }
        for (index, reminder) in reminders.enumerated() {
            let field = "reminders[\(index)]"
            guard let schedule = schedules[reminder.scheduleID], let minutes = schedule.handoffReminderMinutes else {
                throw .notFound("\(field).scheduleID", "no schedule '\(reminder.scheduleID)' with hand-off reminders")
            }
            guard people[reminder.personID] != nil else { throw .notFound("\(field).personID", "no person '\(reminder.personID)'") }
            guard reminder.shiftStart - Int64(minutes) * Millis.minute <= context.at else {
                throw DutyError(.notDue, field: field, "the reminder is due at \(reminder.shiftStart - Int64(minutes) * Millis.minute)")
            }
        }
        for reminder in reminders {
            let remindedKey = "\(reminder.scheduleID)/\(reminder.personID)"
            // A shift already reminded (another leader's proposal committed first) is skipped, not refused.
            guard (handoffsReminded[remindedKey] ?? Timestamp.min) < reminder.shiftStart else { continue }
            handoffsReminded[remindedKey] = reminder.shiftStart
            let person = people[reminder.personID]!
            let rules = person.notificationRules.isEmpty
                ? person.contactMethods.map { NotificationRule(contactMethodID: $0.id, delayMinutes: 0) } : person.notificationRules
            for rule in rules {
                guard let method = person.contactMethods.first(where: { $0.id == rule.contactMethodID }), outbox.count < DutyLimits.maxOutboxPages else {
                    continue
                }
                let key = "\(OutboxPage.reminderPrefix)\(reminder.shiftStart)-\(reminder.scheduleID)/\(person.id)/\(method.id)"
                guard outbox[key] == nil else { continue }
                outbox[key] = OutboxPage(key: key, ticketID: 0, stepIndex: -1, levelIndex: -1, personID: person.id, contactMethodID: method.id,
                                         kind: method.kind, dueAt: context.at + rule.delayMillis, intentTerm: nil, intentCount: 0, intendedAt: nil)
            }
        }
    }

    /// S5 for every ticket, not only alerts: an SLA warning tells the owner (or, with none, the team's manager); a
    /// breach tells both. Each person through their notification rules, as a page would.
    mutating func planSLANotices(_ context: inout ApplyContext) {
        for event in context.events {
            let id: TicketID, target: SLATarget, isBreach: Bool, dueAt: Timestamp
            switch event.kind {
            case let .slaWarning(ticketID, slaTarget, due): (id, target, isBreach, dueAt) = (ticketID, slaTarget, false, due)
            case let .slaBreached(ticketID, slaTarget, due): (id, target, isBreach, dueAt) = (ticketID, slaTarget, true, due)
            default: continue
            }
            guard let ticket = tickets.live[id] else { continue }
            let manager = services[ticket.serviceID]?.teamID.flatMap { teams[$0]?.managerID }
            var recipients = [ticket.ownerID ?? manager].compactMap { $0 }
            if isBreach, let manager, !recipients.contains(manager) { recipients.append(manager) }
            let kind = isBreach ? "breach" : "warning"
            // Each warning or breach is recorded once per due time: with it in the key, every cycle has its own.
            let cycle = noticeKeysByCycle ? "\(ticket.reopenCount).\(dueAt)" : "\(ticket.reopenCount)"
            for personID in recipients {
                guard let person = people[personID] else { continue }
                let rules = person.notificationRules.isEmpty
                    ? person.contactMethods.map { NotificationRule(contactMethodID: $0.id, delayMinutes: 0) } : person.notificationRules
                for rule in rules {
                    guard let method = person.contactMethods.first(where: { $0.id == rule.contactMethodID }),
                          outbox.count < DutyLimits.maxOutboxPages else { continue }
                    let key = "\(OutboxPage.noticePrefix)\(id)-\(target.rawValue)-\(kind)-\(cycle)-\(personID)-\(method.id)"
                    guard outbox[key] == nil else { continue }
                    outbox[key] = OutboxPage(key: key, ticketID: id, stepIndex: -1, levelIndex: -1, personID: personID,
                                             contactMethodID: method.id, kind: method.kind, dueAt: context.at + rule.delayMillis,
                                             intentTerm: nil, intentCount: 0, intendedAt: nil)
                }
            }
        }
    }

    /// Rows due by `instant`, planned or intended, earliest first; `ticketWantsPages` says which to send.
    public func duePages(until instant: Timestamp) -> [OutboxPage] { outbox.due(until: instant) }

    /// The earliest instant at which the scheduler may owe something: a planned page, an escalation step,
    /// an SLA warning or breach, a heartbeat deadline or a channel inspection. Nil when nothing is pending.
    public func nextSchedulerDeadline() -> Timestamp? {
        var earliest: Timestamp?
        func consider(_ instant: Timestamp?) {
            guard let instant else { return }
            if earliest == nil || instant < earliest! { earliest = instant }
        }
        consider(outbox.earliestPlanned)
        // Escalation steps, SLA warnings and breaches, acknowledgement expiries: the deadline index's first.
        consider(earliestTicketDeadline)
        for monitor in heartbeatMonitors.values where monitor.openIncidentID == nil { consider(monitor.deadline) }
        for inspection in channelInspections.values { consider(inspection.nextDueAt) }
        return earliest
    }

    /// The rows a step plans (one per person and contact method); refused when the outbox is full, so
    /// `recordEscalationStep` can check before it changes anything.
    func plannedPages(for step: EscalationStep) throws(DutyError) -> [OutboxPage] {
        guard case let .success(plan) = notificationPlan(for: step, readerRole: .admin) else { return [] }
        let fresh = plan.filter { outbox[$0.idempotencyKey] == nil }
        if outbox.count + fresh.count > DutyLimits.maxOutboxPages {
            throw .limit("outbox", "at most \(DutyLimits.maxOutboxPages) pages may wait for an outcome; is every channel down?")
        }
        return fresh.map { OutboxPage.planned(by: step, $0) }
    }

    mutating func recordPageIntents(_ keys: [String], leaderTerm: UInt64, _ context: inout ApplyContext) throws(DutyError) {
        if keys.isEmpty { throw .invalid("keys", "name at least one page") }
        if keys.count > DutyLimits.maxPagesPerCommand { throw .limit("keys", "at most \(DutyLimits.maxPagesPerCommand) pages per command") }
        if leaderTerm == 0 { throw .invalid("leaderTerm", "must be a Raft term (≥ 1)") }
        var seen: Set<String> = []
        for (index, key) in keys.enumerated() {
            let field = "keys[\(index)]"
            guard seen.insert(key).inserted else { throw .conflict(field, "page '\(key)' is named twice") }
            if key.hasPrefix(CustomerMail.keyPrefix) {
                // Customer mail: the same claim, fenced by the term, with nothing else to wait for.
                guard let mail = customerBook.mailOutbox[key] else { throw .notFound(field, "no mail '\(key)' waits in the outbox") }
                if let term = mail.intentTerm, term >= leaderTerm { throw .conflict(field, "mail '\(key)' was already intended in term \(term)") }
                continue
            }
            guard let row = outbox[key] else { throw .notFound(field, "no page '\(key)' waits in the outbox") }
            if let term = row.intentTerm, term >= leaderTerm {
                throw .conflict(field, "page '\(key)' was already intended in term \(term)")
            }
            guard context.at >= row.dueAt else { throw DutyError(.notDue, field: field, "page '\(key)' is due at \(row.dueAt)") }
            guard rowWanted(row) else {
                throw .conflict(field, "ticket \(row.ticketID) no longer wants pages (acknowledged or closed)")
            }
        }
        for key in keys {
            if key.hasPrefix(CustomerMail.keyPrefix) {
                customerBook.mailOutbox[key]!.intentTerm = leaderTerm
                customerBook.mailOutbox[key]!.intentCount += 1
                context.emit(.pageIntended(key: key, ticketID: customerBook.mailOutbox[key]!.ticketID, leaderTerm: leaderTerm))
                continue
            }
            outbox[key]!.intentTerm = leaderTerm
            outbox[key]!.intentCount += 1
            outbox[key]!.intendedAt = context.at
            context.emit(.pageIntended(key: key, ticketID: outbox[key]!.ticketID, leaderTerm: leaderTerm))
        }
    }

    mutating func recordPageOutcomes(_ outcomes: [PageOutcome], _ context: inout ApplyContext) throws(DutyError) {
        if outcomes.isEmpty { throw .invalid("outcomes", "name at least one page") }
        if outcomes.count > DutyLimits.maxPagesPerCommand {
            throw .limit("outcomes", "at most \(DutyLimits.maxPagesPerCommand) pages per command")
        }
        var seen: Set<String> = []
        for (index, outcome) in outcomes.enumerated() {
            let field = "outcomes[\(index)]"
            guard seen.insert(outcome.key).inserted else { throw .conflict("\(field).key", "page '\(outcome.key)' is named twice") }
            if outcome.key.hasPrefix(CustomerMail.keyPrefix) {
                guard let mail = customerBook.mailOutbox[outcome.key] else { throw .notFound("\(field).key", "no mail '\(outcome.key)' waits in the outbox") }
                guard mail.intentTerm != nil else { throw .conflict("\(field).key", "mail '\(outcome.key)' has no committed intent") }
            } else { guard let row = outbox[outcome.key] else { throw .notFound("\(field).key", "no page '\(outcome.key)' waits in the outbox") }
            guard row.isIntended else { throw .conflict("\(field).key", "page '\(outcome.key)' has no committed intent") }
            }
            if !(0...100).contains(outcome.attempts) { throw .invalid("\(field).attempts", "must be 0…100") }
            if outcome.detail.utf8.count > PageOutcome.maxDetailBytes {
                throw .limit("\(field).detail", "at most \(PageOutcome.maxDetailBytes) bytes")
            }
        }
        for outcome in outcomes {
            if let row = outbox[outcome.key], row.ticketID == 0 {
                outbox[outcome.key] = nil
                context.emit(.pageRecorded(outcome, ticketID: 0))
                continue
            }
            if let mail = customerBook.mailOutbox[outcome.key] {
                customerBook.mailOutbox[outcome.key] = nil
                if tickets.live.contains(mail.ticketID) {
                    tickets.live[mail.ticketID]!.append(.customerMailed(key: mail.key, purpose: mail.purpose, result: outcome.result,
                                                                         attempts: outcome.attempts),
                                                        at: context.at, actor: context.actor)
                }
                context.emit(.pageRecorded(outcome, ticketID: mail.ticketID))
                continue
            }
            let row = outbox[outcome.key]!
            outbox[outcome.key] = nil
            if tickets.live.contains(row.ticketID) {
                tickets.live[row.ticketID]!.append(
                    .paged(key: row.key, personID: row.personID, channel: row.kind, result: outcome.result, attempts: outcome.attempts),
                    at: context.at, actor: context.actor)
            }
            context.emit(.pageRecorded(outcome, ticketID: row.ticketID))
        }
    }

    /// An acknowledged or closed ticket's planned pages are dropped; intended ones stay until their
    /// outcome is recorded (the scheduler records them as cancelled without sending).
    mutating func cancelPlannedPages(of id: TicketID, _ context: inout ApplyContext) {
        let keys = outbox.plannedKeys(of: id).filter { !$0.hasPrefix(OutboxPage.noticePrefix) }
        guard !keys.isEmpty else { return }
        for key in keys { outbox[key] = nil }
        tickets.live[id]?.append(.pagesCancelled(count: keys.count), at: context.at, actor: context.actor)
    }
}
