/// A hand-written binary encoding of tickets for snapshots.
///
/// Why: tickets are nearly all of the state, and Foundation's JSON coder spent ~80 µs on
/// each one (100,000 tickets: 13 s to snapshot, 17 s to restore); this layout writes fields in
/// a fixed order with no keys and takes a few µs. Strings are length-prefixed UTF-8, integers
/// zig-zag LEB128, enums their case index — so new enum cases go at the end, and any change
/// to the field order bumps `DutyState.formatVersion`.
enum TicketCodec {
    /// One ticket's bytes as an archive stores them and a snapshot holds them.
    static func record(of ticket: Ticket) -> [UInt8] {
        // Most records take 150–300 bytes; growing from empty cost four reallocations each.
        var writer = ByteWriter(reservingCapacity: 320)
        write(ticket, &writer)
        return writer.bytes
    }

    /// The record in an array of its own size, for a ticket held encoded in memory for a long time.
    static func compactRecord(of ticket: Ticket) -> [UInt8] {
        let bytes = record(of: ticket)
        return bytes.capacity - bytes.count < 16 ? bytes : Array(unsafeUninitializedCapacity: bytes.count) { buffer, count in
            count = buffer.initialize(fromContentsOf: bytes)
        }
    }

    /// Reads back a record written by `record(of:)`; it must hold exactly ticket `id`.
    static func decodeRecord(_ bytes: [UInt8], expecting id: TicketID) throws(DutyError) -> Ticket {
        var reader = ByteReader(bytes: bytes)
        let ticket = try read(&reader)
        guard reader.isAtEnd, ticket.id == id else {
            throw DutyError(.storage, field: "ticketID", "the archive's record of ticket \(id) is damaged")
        }
        return ticket
    }

    /// Checks one ticket's bytes exactly as `read` would, without building it, and returns what a
    /// restore needs to file it. Restore skims the archived million instead of decoding them; a test
    /// holds the two to the same verdicts.
    static func skim(_ r: inout ByteReader) throws(DutyError) -> (id: TicketID, stage: TicketStage, registeredAt: Timestamp) {
        let id = try r.int()
        try r.skipEnumCase(TicketKind.self)
        try r.skipEnumCase(Priority.self)
        try r.skipString()
        try r.skipString()
        try r.skipOptionalString()
        try r.skipOptionalString()
        let stage: TicketStage = try r.enumCase()
        _ = try r.bool()
        let registeredAt = try r.int64()
        try r.skipOptionalInt64()
        try r.skipOptionalString()
        try r.skipOptionalInt64()
        try r.skipOptionalInt64()
        _ = try r.int()
        try r.skipString()
        _ = try r.int()
        for _ in 0..<(try r.count(limit: SLATarget.allCases.count)) {
            try r.skipEnumCase(SLATarget.self)
            try r.skipEnumCase(ClockMode.self)
            _ = try r.int64()
            _ = try r.int()
            _ = try r.int64()
            for _ in 0..<6 { try r.skipOptionalInt64() }
            _ = try r.int()
        }
        if try r.bool() {
            try r.skipString()
            _ = try r.int()
            _ = try r.int64()
            _ = try r.int()
            _ = try r.int64()
            _ = try r.bool()
        }
        for _ in 0..<(try r.count(limit: DutyLimits.maxTimelineEntriesPerTicket)) { try skipEntry(&r) }
        _ = try r.int()
        try r.skipOptionalString()
        _ = try r.int()
        for _ in 0..<(try r.count(limit: DutyLimits.maxSuggestedArticles)) { try r.skipString() }
        if try r.bool() {
            _ = try r.int()
            try r.skipString()
            _ = try r.int64()
        }
        try r.skipOptionalInt64()
        try r.skipOptionalInt64()
        return (id, stage, registeredAt)
    }

    private static func skipEntry(_ r: inout ByteReader) throws(DutyError) {
        _ = try r.int64()
        try r.skipString()
        switch try r.tag() {
        case 0: try r.skipEnumCase(TicketKind.self); try r.skipEnumCase(Priority.self)
        case 1: try r.skipEnumCase(TicketStage.self); try r.skipEnumCase(TicketStage.self)
        case 2: try r.skipEnumCase(TicketStage.self); try r.skipString()
        case 3: break
        case 4: try r.skipOptionalString(); try r.skipString()
        case 5: try r.skipString(); _ = try r.bool()
        case 6: try r.skipString()
        case 7: _ = try r.bool()
        case 8, 9: try r.skipEnumCase(SLATarget.self)
        case 10:
            _ = try r.int()
            _ = try r.int()
            for _ in 0..<(try r.count(limit: DutyLimits.maxTeamMembers * DutyLimits.maxTargetsPerLevel)) { try r.skipString() }
            try r.skipString()
        case 11: try r.skipString(); try r.skipString()
        case 12, 13: try r.skipString()
        case 14: for _ in 0..<(try r.count(limit: DutyLimits.maxSuggestedArticles)) { try r.skipString() }
        case 15: _ = try r.int(); try r.skipString()
        case 16, 17: _ = try r.int()
        case 18: try r.skipEnumCase(Priority.self); try r.skipEnumCase(Priority.self)
        case 19:
            try r.skipString(); try r.skipString()
            try r.skipEnumCase(ContactMethod.Kind.self); try r.skipEnumCase(PageOutcome.Result.self)
            _ = try r.int()
        case 20: _ = try r.int()
        case 21: break
        case 22: try r.skipString(); try r.skipString()
        case 23:
            try r.skipString(); try r.skipString(); try r.skipString()
            for _ in 0..<(try r.count(limit: DutyLimits.maxAttachmentsPerMessage)) { try r.skipString(); try r.skipString(); _ = try r.int() }
        case 24: try r.skipString(); try r.skipEnumCase(CustomerMail.Purpose.self); try r.skipEnumCase(PageOutcome.Result.self); _ = try r.int()
        case let tag: throw DutyError(.invalid, field: "snapshot.tickets", "unknown timeline action \(tag) at byte \(r.offset)")
        }
    }

    static func write(_ ticket: Ticket, _ w: inout ByteWriter) {
        w.int(ticket.id)
        w.enumCase(ticket.kind)
        w.enumCase(ticket.priority)
        w.string(ticket.title)
        w.string(ticket.serviceID)
        w.optionalString(ticket.customerID)
        w.optionalString(ticket.ownerID)
        w.enumCase(ticket.stage)
        w.bool(ticket.waitingForCustomer)
        w.int64(ticket.registeredAt)
        w.optionalInt64(ticket.acknowledgedAt)
        w.optionalString(ticket.acknowledgedBy?.rawValue)
        w.optionalInt64(ticket.resolvedAt)
        w.optionalInt64(ticket.archivedAt)
        w.int(ticket.reopenCount)
        w.string(ticket.slaPolicyID)
        w.int(ticket.slaPolicyVersion)
        w.int(ticket.clocks.count)
        for clock in ticket.clocks { write(clock, &w) }
        w.bool(ticket.escalation != nil)
        if let progress = ticket.escalation {
            w.string(progress.policyID)
            w.int(progress.policyVersion)
            w.int64(progress.startedAt)
            w.int(progress.stepsFired)
            w.int64(progress.nextDueAt)
            w.bool(progress.suppressedByMaintenance)
        }
        w.int(ticket.timeline.count)
        for entry in ticket.timeline { write(entry, &w) }
        w.int(ticket.droppedTimelineEntries)
        w.optionalString(ticket.alertKey)
        w.int(ticket.alertCount)
        w.int(ticket.suggestedArticleIDs.count)
        for id in ticket.suggestedArticleIDs { w.string(id) }
        w.bool(ticket.feedback != nil)
        if let feedback = ticket.feedback {
            w.int(feedback.rating)
            w.string(feedback.comment)
            w.int64(feedback.at)
        }
        w.optionalInt(ticket.followUpOf)
        w.optionalInt(ticket.followUpTicketID)
    }

    static func read(_ r: inout ByteReader) throws(DutyError) -> Ticket {
        let id = try r.int()
        let kind: TicketKind = try r.enumCase()
        let priority: Priority = try r.enumCase()
        let title = try r.string()
        let serviceID = try r.string()
        let customerID = try r.optionalString()
        let ownerID = try r.optionalString()
        let stage: TicketStage = try r.enumCase()
        let waiting = try r.bool()
        let registeredAt = try r.int64()
        let acknowledgedAt = try r.optionalInt64()
        let acknowledgedBy = try r.optionalString().map(ActorID.init)
        let resolvedAt = try r.optionalInt64()
        let archivedAt = try r.optionalInt64()
        let reopenCount = try r.int()
        let slaPolicyID = try r.string()
        let slaPolicyVersion = try r.int()
        var clocks: [SLAClock] = []
        for _ in 0..<(try r.count(limit: SLATarget.allCases.count)) { clocks.append(try readClock(&r)) }
        var escalation: EscalationProgress?
        if try r.bool() {
            escalation = EscalationProgress(policyID: try r.string(), policyVersion: try r.int(), startedAt: try r.int64(),
                                            stepsFired: try r.int(), nextDueAt: try r.int64(), suppressedByMaintenance: try r.bool())
        }
        var timeline: [TimelineEntry] = []
        let timelineCount = try r.count(limit: DutyLimits.maxTimelineEntriesPerTicket)
        timeline.reserveCapacity(timelineCount)
        for _ in 0..<timelineCount { timeline.append(try readEntry(&r)) }
        let dropped = try r.int()
        let alertKey = try r.optionalString()
        let alertCount = try r.int()
        var suggestions: [String] = []
        for _ in 0..<(try r.count(limit: DutyLimits.maxSuggestedArticles)) { suggestions.append(try r.string()) }
        var feedback: Feedback?
        if try r.bool() { feedback = Feedback(rating: try r.int(), comment: try r.string(), at: try r.int64()) }
        let followUpOf = try r.optionalInt()
        let followUpTicketID = try r.optionalInt()
        return Ticket(id: id, kind: kind, priority: priority, title: title, serviceID: serviceID, customerID: customerID,
                      ownerID: ownerID, stage: stage, waitingForCustomer: waiting, registeredAt: registeredAt,
                      acknowledgedAt: acknowledgedAt, acknowledgedBy: acknowledgedBy, resolvedAt: resolvedAt, archivedAt: archivedAt,
                      reopenCount: reopenCount, slaPolicyID: slaPolicyID, slaPolicyVersion: slaPolicyVersion, clocks: clocks,
                      escalation: escalation, timeline: timeline, droppedTimelineEntries: dropped, alertKey: alertKey,
                      alertCount: alertCount, suggestedArticleIDs: suggestions, feedback: feedback, followUpOf: followUpOf,
                      followUpTicketID: followUpTicketID)
    }

    private static func write(_ clock: SLAClock, _ w: inout ByteWriter) {
        w.enumCase(clock.target)
        w.enumCase(clock.clockMode)
        w.int64(clock.targetMillis)
        w.int(clock.warningThresholdPercent)
        w.int64(clock.remainingMillis)
        w.optionalInt64(clock.runningSince)
        w.optionalInt64(clock.dueAt)
        w.optionalInt64(clock.warnAt)
        w.optionalInt64(clock.stoppedAt)
        w.optionalInt64(clock.warnedAt)
        w.optionalInt64(clock.breachedAt)
        w.int(clock.breachCount)
    }

    private static func readClock(_ r: inout ByteReader) throws(DutyError) -> SLAClock {
        SLAClock(target: try r.enumCase(), clockMode: try r.enumCase(), targetMillis: try r.int64(),
                 warningThresholdPercent: try r.int(), remainingMillis: try r.int64(), runningSince: try r.optionalInt64(),
                 dueAt: try r.optionalInt64(), warnAt: try r.optionalInt64(), stoppedAt: try r.optionalInt64(),
                 warnedAt: try r.optionalInt64(), breachedAt: try r.optionalInt64(), breachCount: try r.int())
    }

    private static func write(_ entry: TimelineEntry, _ w: inout ByteWriter) {
        w.int64(entry.at)
        w.string(entry.actor.rawValue)
        switch entry.action {
        case .registered(let kind, let priority): w.tag(0); w.enumCase(kind); w.enumCase(priority)
        case .stageChanged(let from, let to): w.tag(1); w.enumCase(from); w.enumCase(to)
        case .reopened(let from, let reason): w.tag(2); w.enumCase(from); w.string(reason)
        case .acknowledged: w.tag(3)
        case .ownerChanged(let from, let to): w.tag(4); w.optionalString(from); w.string(to)
        case .note(let text, let visible): w.tag(5); w.string(text); w.bool(visible)
        case .initialSolution(let text): w.tag(6); w.string(text)
        case .waitingForCustomer(let waiting): w.tag(7); w.bool(waiting)
        case .slaWarning(let target): w.tag(8); w.enumCase(target)
        case .slaBreached(let target): w.tag(9); w.enumCase(target)
        case .escalated(let step, let level, let people, let key):
            w.tag(10); w.int(step); w.int(level); w.int(people.count)
            for person in people { w.string(person) }
            w.string(key)
        case .alertTriggered(let key, let summary): w.tag(11); w.string(key); w.string(summary)
        case .alertAcknowledged(let key): w.tag(12); w.string(key)
        case .alertResolved(let key): w.tag(13); w.string(key)
        case .articlesSuggested(let ids): w.tag(14); w.int(ids.count); for id in ids { w.string(id) }
        case .feedback(let rating, let comment): w.tag(15); w.int(rating); w.string(comment)
        case .followUpOpened(let id): w.tag(16); w.int(id)
        case .followUpOf(let id): w.tag(17); w.int(id)
        case .priorityChanged(let from, let to): w.tag(18); w.enumCase(from); w.enumCase(to)
        case .paged(let key, let personID, let channel, let result, let attempts):
            w.tag(19); w.string(key); w.string(personID); w.enumCase(channel); w.enumCase(result); w.int(attempts)
        case .pagesCancelled(let count): w.tag(20); w.int(count)
        case .acknowledgementExpired: w.tag(21)
        case .alertDetails(let source, let json): w.tag(22); w.string(source); w.string(json)
        case .customerMessage(let messageID, let subject, let text, let attachments):
            w.tag(23); w.string(messageID); w.string(subject); w.string(text); w.int(attachments.count)
            for attachment in attachments { w.string(attachment.fileName); w.string(attachment.contentType); w.int(attachment.byteCount) }
        case .customerMailed(let key, let purpose, let result, let attempts):
            w.tag(24); w.string(key); w.enumCase(purpose); w.enumCase(result); w.int(attempts)
        }
    }

    private static func readEntry(_ r: inout ByteReader) throws(DutyError) -> TimelineEntry {
        let at = try r.int64()
        let actor = ActorID(try r.string())
        let action: TimelineEntry.Action
        switch try r.tag() {
        case 0: action = .registered(kind: try r.enumCase(), priority: try r.enumCase())
        case 1: action = .stageChanged(from: try r.enumCase(), to: try r.enumCase())
        case 2: action = .reopened(from: try r.enumCase(), reason: try r.string())
        case 3: action = .acknowledged
        case 4: action = .ownerChanged(from: try r.optionalString(), to: try r.string())
        case 5: action = .note(text: try r.string(), customerVisible: try r.bool())
        case 6: action = .initialSolution(text: try r.string())
        case 7: action = .waitingForCustomer(try r.bool())
        case 8: action = .slaWarning(try r.enumCase())
        case 9: action = .slaBreached(try r.enumCase())
        case 10:
            let step = try r.int(), level = try r.int()
            var people: [String] = []
            for _ in 0..<(try r.count(limit: DutyLimits.maxTeamMembers * DutyLimits.maxTargetsPerLevel)) { people.append(try r.string()) }
            action = .escalated(step: step, level: level, personIDs: people, idempotencyKey: try r.string())
        case 11: action = .alertTriggered(dedupKey: try r.string(), summary: try r.string())
        case 12: action = .alertAcknowledged(dedupKey: try r.string())
        case 13: action = .alertResolved(dedupKey: try r.string())
        case 14:
            var ids: [String] = []
            for _ in 0..<(try r.count(limit: DutyLimits.maxSuggestedArticles)) { ids.append(try r.string()) }
            action = .articlesSuggested(ids)
        case 15: action = .feedback(rating: try r.int(), comment: try r.string())
        case 16: action = .followUpOpened(try r.int())
        case 17: action = .followUpOf(try r.int())
        case 18: action = .priorityChanged(from: try r.enumCase(), to: try r.enumCase())
        case 19:
            action = .paged(key: try r.string(), personID: try r.string(), channel: try r.enumCase(), result: try r.enumCase(),
                            attempts: try r.int())
        case 20: action = .pagesCancelled(count: try r.int())
        case 21: action = .acknowledgementExpired
        case 22: action = .alertDetails(source: try r.string(), json: try r.string())
        case 23:
            let messageID = try r.string(), subject = try r.string(), text = try r.string()
            var attachments: [MailAttachmentRecord] = []
            for _ in 0..<(try r.count(limit: DutyLimits.maxAttachmentsPerMessage)) {
                attachments.append(MailAttachmentRecord(fileName: try r.string(), contentType: try r.string(), byteCount: try r.int()))
            }
            action = .customerMessage(messageID: messageID, subject: subject, text: text, attachments: attachments)
        case 24:
            action = .customerMailed(key: try r.string(), purpose: try r.enumCase(), result: try r.enumCase(), attempts: try r.int())
        case let tag: throw DutyError(.invalid, field: "snapshot.tickets", "unknown timeline action \(tag) at byte \(r.offset)")
        }
        return TimelineEntry(at: at, actor: actor, action: action)
    }
}
