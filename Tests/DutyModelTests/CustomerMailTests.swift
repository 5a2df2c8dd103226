import Testing
@testable import DutyModel

/// S8 (e-mail intake), S15 (customers and their SLA), S16 (addresses are contact data).
@Suite struct CustomerMailTests {
    let t0 = Fixture.t0

    func mail(_ id: String, from: String = "Wang.Li@Example.CN", subject: String = "Login fails", text: String = "I cannot log in.",
              references: [String] = [], service: String = "helpdesk") -> DutyCommand {
        .receiveMail(InboundMail(messageID: id, references: references, fromAddress: from, fromName: "王力", subject: subject,
                                 text: text, attachments: [MailAttachmentRecord(fileName: "shot.png", contentType: "image/png", byteCount: 2_048)],
                                 serviceID: service, kind: .consultation, priority: .p3))
    }

    @Test func aNewSenderBecomesACustomerAndOpensATicketWithTheMessage() throws {
        var state = try Fixture.state()
        let events = try Fixture.ok(&state, mail("m1@client", text: "我无法登录"), at: t0, actor: ActorID("mail:helpdesk"))
        #expect(events.contains { $0.kind == .customerMessageReceived(1, messageID: "m1@client") })
        let ticket = try #require(state.ticket(1))
        #expect(ticket.title == "Login fails")
        #expect(ticket.customerID == "mail-1")
        let customer = try #require(state.customer("mail-1"))
        #expect(customer.name == "王力")
        #expect(customer.language == .zh)
        #expect(customer.emailAddresses == ["wang.li@example.cn"])
        guard case let .customerMessage(messageID, subject, text, attachments)? = ticket.timeline.last?.action else {
            Issue.record("the last entry is \(String(describing: ticket.timeline.last))"); return
        }
        #expect(messageID == "m1@client" && subject == "Login fails" && text == "我无法登录")
        #expect(attachments.map(\.byteCount) == [2_048])
    }

    @Test func theSameMessageDeliveredTwiceIsRecordedOnce() throws {
        var state = try Fixture.state()
        try Fixture.ok(&state, mail("m1@client"), at: t0)
        let again = try Fixture.ok(&state, mail("m1@client"), at: t0 + 1_000)
        #expect(again.map(\.kind) == [.mailAlreadyRecorded(1, messageID: "m1@client")])
        #expect(state.ticketCount == 1)
        #expect(state.ticket(1)?.timeline.filter { if case .customerMessage = $0.action { true } else { false } }.count == 1)
    }

    /// A reply joins its ticket by a quoted Message-ID or by `[#n]` in the subject, only from the ticket's customer.
    @Test(arguments: [
        (["m1@client"], "Re: Login fails", "wang.li@EXAMPLE.cn", true),
        (["unknown@x", "m1@client"], "Re: Login fails", "wang.li@example.cn", true),
        ([], "Re: [#1] Login fails", "Wang.Li@example.cn", true),
        ([], "Re: Login fails", "wang.li@example.cn", false),
        (["m1@client"], "Re: [#1] Login fails", "mallory@example.net", false),
    ])
    func repliesThreadOntoTheirTicket(references: [String], subject: String, from: String, joins: Bool) throws {
        var state = try Fixture.state()
        try Fixture.ok(&state, mail("m1@client"), at: t0)
        try Fixture.ok(&state, mail("m2@client", from: from, subject: subject, references: references), at: t0 + Fixture.minute)
        #expect(state.ticketCount == (joins ? 1 : 2))
        if joins { #expect(state.ticket(1)?.timeline.last.map { if case .customerMessage = $0.action { true } else { false } } == true) }
    }

    @Test func aReplyWhileWaitingForTheCustomerRestartsTheClocks() throws {
        var state = try Fixture.state()
        try Fixture.ok(&state, mail("m1@client"), at: t0)
        try Fixture.ok(&state, .assignTicket(ticketID: 1, ownerID: "bob"), at: t0)
        try Fixture.ok(&state, .advanceTicket(ticketID: 1, to: .analysing), at: t0 + Fixture.minute)
        try Fixture.ok(&state, .setWaitingForCustomer(ticketID: 1, waiting: true), at: t0 + 2 * Fixture.minute)
        let events = try Fixture.ok(&state, mail("m2@client", references: ["m1@client"]), at: t0 + Fixture.hour)
        #expect(events.contains { $0.kind == .waitingForCustomerChanged(1, waiting: false) })
        #expect(state.ticket(1)?.waitingForCustomer == false)
    }

    @Test func aReplyToAnArchivedTicketOpensAFollowUp() throws {
        var state = try Fixture.state()
        try Fixture.ok(&state, mail("m1@client"), at: t0)
        try Fixture.ok(&state, .assignTicket(ticketID: 1, ownerID: "bob"), at: t0)
        for stage in [TicketStage.analysing, .handling, .feedback, .archived] {
            try Fixture.ok(&state, .advanceTicket(ticketID: 1, to: stage), at: t0 + Fixture.minute)
        }
        try Fixture.ok(&state, mail("m2@client", references: ["m1@client"]), at: t0 + Fixture.hour)
        #expect(state.ticketCount == 2)
        #expect(state.ticket(2)?.followUpOf == 1)
        #expect(state.ticket(2)?.customerID == "mail-1")
    }

    /// S15: the customer object's SLA policy decides the clocks of its tickets.
    @Test func aCustomersPolicyAppliesToTheirMail() throws {
        var state = try Fixture.state()
        try Fixture.ok(&state, .upsertSLAPolicy(SLAPolicy.Draft(id: "gold", name: "Gold", rules: [.init(.p3, .firstResponse, seconds: 60)])), at: t0)
        try Fixture.ok(&state, .upsertCustomer(Customer(id: "acme", name: "ACME", emailAddresses: ["ops@acme.example"], slaPolicyID: "gold")), at: t0)
        try Fixture.ok(&state, mail("m1@acme", from: "ops@ACME.example"), at: t0)
        let ticket = try #require(state.ticket(1))
        #expect(ticket.customerID == "acme")
        #expect(ticket.slaPolicyID == "gold")
        #expect(ticket.clock(.firstResponse)?.targetMillis == 60_000)
    }

    @Test func customerChecks() throws {
        var state = try Fixture.state()
        try Fixture.ok(&state, .upsertCustomer(Customer(id: "acme", name: "ACME", emailAddresses: ["ops@acme.example"])), at: t0)
        #expect(Fixture.failure(&state, .upsertCustomer(Customer(id: "other", name: "Other", emailAddresses: ["OPS@acme.example"])), at: t0)?.reason == .conflict)
        #expect(Fixture.failure(&state, .upsertCustomer(Customer(id: "x", name: "X", emailAddresses: ["not an address"])), at: t0)?.field
                == "customer.emailAddresses[0]")
        #expect(Fixture.failure(&state, .upsertCustomer(Customer(id: "x", name: "X", slaPolicyID: "none")), at: t0)?.reason == .notFound)
        #expect(Fixture.failure(&state, .upsertCustomer(Customer(id: "bad id", name: "X")), at: t0)?.field == "customer.id")
        // A changed address list frees the old addresses.
        try Fixture.ok(&state, .upsertCustomer(Customer(id: "acme", name: "ACME", emailAddresses: ["help@acme.example"])), at: t0)
        try Fixture.ok(&state, .upsertCustomer(Customer(id: "other", name: "Other", emailAddresses: ["ops@acme.example"])), at: t0)
        try Fixture.ok(&state, .removeCustomer(customerID: "other"), at: t0)
        #expect(state.customerBook.customer(forAddress: "ops@acme.example") == nil)
        #expect(Fixture.failure(&state, .removeCustomer(customerID: "other"), at: t0)?.reason == .notFound)
    }

    /// S16: reading addresses is for managers, and it is on the audit trail.
    @Test func readingAddressesIsAuditedAndForManagersOnly() throws {
        var state = try Fixture.state()
        try Fixture.ok(&state, .upsertCustomer(Customer(id: "acme", name: "ACME", emailAddresses: ["ops@acme.example"])), at: t0)
        #expect(Fixture.failure(&state, .recordCustomerContactAccess(customerID: "acme", reason: "call back"), at: t0, actor: ActorID("bob"))?.reason
                == .forbidden)
        let events = try Fixture.ok(&state, .recordCustomerContactAccess(customerID: "acme", reason: "call back"), at: t0, actor: ActorID("dave"))
        #expect(events.map(\.kind) == [.contactDataAccessed(personID: "customer:acme", reason: "call back")])
        #expect(!state.audit.recent.contains { $0.subject.contains("@") })
    }

    @Test func badMailChangesNothing() throws {
        var state = try Fixture.state()
        let before = state.snapshot()
        #expect(Fixture.failure(&state, mail("m1@client", from: "nobody"), at: t0)?.field == "mail.fromAddress")
        #expect(Fixture.failure(&state, mail("", from: "a@b"), at: t0)?.field == "mail.messageID")
        #expect(Fixture.failure(&state, mail("m1@client", service: "nope"), at: t0)?.reason == .notFound)
        #expect(state.customerBook.customers.isEmpty)
        #expect(state.ticketCount == 0)
        // Only the audit of the refused commands differs; customers, threads and tickets are as they were.
        #expect(try DutyState.restore(from: before).customerBook == state.customerBook)
    }

    @Test(arguments: [("[#12] x", 12), ("Re: [#7]", 7), ("[#] [#3]", 3), ("[#12", nil), ("#5", nil), ("[#1a]", nil)] as [(String, Int?)])
    func subjectTags(subject: String, id: Int?) {
        #expect(DutyState.subjectTag(subject) == id)
    }

    /// Customers and threads are part of the replicated state: they survive a snapshot, and an old snapshot without
    /// them still restores.
    @Test func customersSurviveASnapshotAndOldSnapshotsStillRestore() throws {
        var state = try Fixture.state()
        let old = state.snapshot()
        #expect(!String(decoding: old, as: UTF8.self).contains("customerBook"))
        try Fixture.ok(&state, mail("m1@client"), at: t0)
        let restored = try DutyState.restore(from: state.snapshot())
        #expect(restored.customerBook == state.customerBook)
        #expect(restored.snapshot() == state.snapshot())
        #expect(try DutyState.restore(from: old).customerBook.customers.isEmpty)
    }
}

/// S5 beyond alerts: SLA warnings reach the owner, breaches the owner and the team's manager, through the outbox.
@Suite struct SLANoticeTests {
    let t0 = Fixture.t0

    /// The fixture with a mail address for Dave, the manager of the team behind both services.
    func state() throws -> DutyState {
        var state = try Fixture.state()
        try Fixture.ok(&state, .upsertPerson(Person(id: "dave", name: "Dave", role: .manager,
                                                    contactMethods: [ContactMethod(id: "mail", kind: .email, address: "dave@example.org")])), at: t0)
        return state
    }

    func noticeRows(_ state: DutyState) -> [OutboxPage] {
        state.outbox.due(until: .max).filter(\.isNotice).sorted { $0.key < $1.key }
    }

    @Test func aWarningTellsTheOwnerABreachAlsoTheManagerOncePerRule() throws {
        var state = try state()
        let id = try Fixture.register(&state)
        try Fixture.ok(&state, .assignTicket(ticketID: id, ownerID: "bob"), at: t0)
        try Fixture.ok(&state, .recordSLAEvents([SLAEventRecord(ticketID: id, target: .firstResponse, isBreach: false)]), at: t0 + 4 * Fixture.minute)
        let warned = noticeRows(state)
        // Bob's rules: chat at once, SMS after 1 min, a call after 3 min.
        #expect(warned.map(\.personID) == ["bob", "bob", "bob"])
        #expect(warned.map(\.dueAt).sorted() == [t0 + 4 * Fixture.minute, t0 + 5 * Fixture.minute, t0 + 7 * Fixture.minute])
        #expect(warned.allSatisfy { $0.noticeLabel == "SLA warning (firstResponse)" })
        try Fixture.ok(&state, .recordSLAEvents([SLAEventRecord(ticketID: id, target: .firstResponse, isBreach: true)]), at: t0 + 5 * Fixture.minute)
        let all = noticeRows(state)
        #expect(Set(all.filter { $0.key.contains("breach") }.map(\.personID)) == ["bob", "dave"])
        // An acknowledgement stops escalation pages, not notices already owed.
        try Fixture.ok(&state, .acknowledgeTicket(ticketID: id), at: t0 + 6 * Fixture.minute, actor: ActorID("bob"))
        #expect(noticeRows(state).count == all.count)
        #expect(state.rowWanted(all[0]))
    }

    /// A reply starts a new update-interval cycle. Once the cluster keys notices by cycle its warning has keys of its
    /// own; keyed by reopenings only (0.11, and 0.12 until every member runs it) the first cycle's keys are taken
    /// and the second warning reaches nobody.
    @Test(arguments: [true, false]) func aReplysNewCycleWarnsUnderKeysOfItsOwn(byCycle: Bool) throws {
        var state = try state()
        let id = try Fixture.register(&state, priority: .p2)
        try Fixture.ok(&state, .assignTicket(ticketID: id, ownerID: "bob"), at: t0)
        let warning = SLAEventRecord(ticketID: id, target: .updateInterval, isBreach: false, keysNoticesByCycle: byCycle)
        try Fixture.ok(&state, .recordSLAEvents([warning]), at: t0 + 24 * Fixture.minute)
        let first = Set(noticeRows(state).map(\.key))
        #expect(first.count == 3)
        try Fixture.ok(&state, .addNote(ticketID: id, text: "still on it", customerVisible: true), at: t0 + 25 * Fixture.minute,
                       actor: ActorID("bob"))
        try Fixture.ok(&state, .recordSLAEvents([warning]), at: t0 + 49 * Fixture.minute)
        // The reply also stops first response, long overdue: its breach notices are not the point here.
        let second = Set(noticeRows(state).map(\.key).filter { $0.contains("updateInterval-warning") }).subtracting(first)
        #expect(second.count == (byCycle ? 3 : 0))
        #expect(state.noticeKeysByCycle == byCycle)
        // A cluster that never switched keeps 0.11's snapshot bytes.
        #expect(String(decoding: state.snapshot(), as: UTF8.self).contains("noticeKeysByCycle") == byCycle)
        #expect(try DutyState.restore(from: state.snapshot()) == state)
    }

    @Test func withoutAnOwnerTheManagerIsTold() throws {
        var state = try state()
        let id = try Fixture.register(&state)
        try Fixture.ok(&state, .recordSLAEvents([SLAEventRecord(ticketID: id, target: .firstResponse, isBreach: false)]), at: t0 + 4 * Fixture.minute)
        #expect(Set(noticeRows(state).map(\.personID)) == ["dave"])
    }
}

/// S2, S13, S14: what the model queues for customers.
@Suite struct CustomerMailQueueTests {
    let t0 = Fixture.t0

    @Test func acknowledgementReplyAndSurveyAreQueuedOnceEachWithStableKeys() throws {
        var state = try Fixture.state()
        try Fixture.ok(&state, .receiveMail(InboundMail(messageID: "m1@c", fromAddress: "a@b.example", subject: "Help", text: "x",
                                                        serviceID: "helpdesk", kind: .consultation, priority: .p3, mailbox: "support@x.example")), at: t0)
        try Fixture.ok(&state, .assignTicket(ticketID: 1, ownerID: "bob"), at: t0)
        try Fixture.ok(&state, .addNote(ticketID: 1, text: "internal", customerVisible: false), at: t0)
        try Fixture.ok(&state, .addNote(ticketID: 1, text: "Try again now.", customerVisible: true), at: t0)
        for stage in [TicketStage.analysing, .handling, .feedback] { try Fixture.ok(&state, .advanceTicket(ticketID: 1, to: stage), at: t0) }
        let rows = state.customerBook.mailOutbox.values.sorted { $0.createdAt == $1.createdAt ? $0.key < $1.key : $0.createdAt < $1.createdAt }
        #expect(Set(rows.map(\.purpose)) == [.acknowledgement, .reply, .satisfaction])
        #expect(rows.count == 3)
        #expect(rows.first { $0.purpose == .reply }?.text == "Try again now.")
        #expect(rows.allSatisfy { $0.replyFrom == "support@x.example" && $0.customerID == "mail-1" })
        // Intent and outcome as for pages; the outcome goes onto the ticket without the address.
        let key = rows[0].key
        try Fixture.ok(&state, .recordPageIntents(keys: [key], leaderTerm: 3), at: t0)
        #expect(Fixture.failure(&state, .recordPageIntents(keys: [key], leaderTerm: 3), at: t0)?.reason == .conflict)
        try Fixture.ok(&state, .recordPageOutcomes([PageOutcome(key: key, result: .delivered, attempts: 1, detail: "ok")]), at: t0)
        #expect(state.customerBook.mailOutbox[key] == nil)
        #expect(state.ticket(1)?.timeline.contains { if case .customerMailed(key, _, .delivered, 1) = $0.action { true } else { false } } == true)
    }

    @Test func aCustomerWithoutAnAddressOrAnAnnouncementWishGetsNothing() throws {
        var state = try Fixture.state()
        try Fixture.ok(&state, .upsertCustomer(Customer(id: "plain", name: "Plain")), at: t0)
        try Fixture.ok(&state, .upsertCustomer(Customer(id: "reader", name: "Reader", emailAddresses: ["r@x.example"], announcements: true)), at: t0)
        let id = try Fixture.register(&state, customer: "plain")
        try Fixture.ok(&state, .addNote(ticketID: id, text: "hello", customerVisible: true), at: t0)
        #expect(state.customerBook.mailOutbox.isEmpty)
        try Fixture.ok(&state, .upsertSLAPolicy(SLAPolicy.Draft(id: "gold", name: "Gold", rules: [.init(.p3, .firstResponse, seconds: 60)])), at: t0)
        #expect(state.customerBook.mailOutbox.values.map(\.purpose) == [.announcement])
        #expect(state.customerBook.mailOutbox.values.first?.customerID == "reader")
    }

    @Test func aReplyQuotingOurMessageIDFindsItsTicket() {
        #expect(CustomerMail.ticketID(inMessageID: "vigil.mail.reply.42.7@desk.example") == 42)
        #expect(CustomerMail.ticketID(inMessageID: "vigil.mail.announcement.gold.v2.acme@desk.example") == nil)
        #expect(CustomerMail.ticketID(inMessageID: "other@x") == nil)
    }
}

/// S9: a person is reminded before their shift starts, once per shift, through their notification rules.
@Suite struct HandoffReminderTests {
    let t0 = Fixture.t0

    @Test func aShiftWithinTheLeadIsRemindedOnce() throws {
        var state = try Fixture.state()
        // Bob's override starts an hour in; reminders 15 minutes ahead.
        let start = t0 + Fixture.hour
        try Fixture.ok(&state, .upsertSchedule(OnCallSchedule(
            id: "handoff", name: "Hand-off", timeZoneIdentifier: "Asia/Shanghai",
            layers: [.init(name: "days", userIDs: ["carol"], rotation: .daily, startDate: LocalDate(year: 2026, month: 3, day: 1), handoffMinute: 9 * 60)],
            overrides: [.init(personID: "bob", start: start, end: start + 2 * Fixture.hour)], handoffReminderMinutes: 15)), at: t0)
        #expect(state.dueHandoffReminders(at: start - 16 * Fixture.minute).isEmpty)
        let due = state.dueHandoffReminders(at: start - 15 * Fixture.minute)
        #expect(due == [HandoffReminder(scheduleID: "handoff", personID: "bob", shiftStart: start)])
        #expect(Fixture.failure(&state, .recordHandoffReminders(due), at: start - 20 * Fixture.minute)?.reason == .notDue)
        try Fixture.ok(&state, .recordHandoffReminders(due), at: start - 15 * Fixture.minute)
        let rows = state.outbox.due(until: .max).filter(\.isReminder)
        // Bob's rules: chat at once, SMS after a minute, a call after three.
        #expect(rows.count == 3 && rows.allSatisfy { $0.reminderShift?.scheduleID == "handoff" && $0.reminderShift?.start == start })
        #expect(state.dueHandoffReminders(at: start - 10 * Fixture.minute).isEmpty)
        // Recorded twice (two leaders' proposals) still makes one set of rows.
        try Fixture.ok(&state, .recordHandoffReminders(due), at: start - 14 * Fixture.minute)
        #expect(state.outbox.due(until: .max).filter(\.isReminder).count == 3)
        let restored = try DutyState.restore(from: state.snapshot())
        #expect(restored.handoffsReminded == state.handoffsReminded)
        #expect(Fixture.failure(&state, .upsertSchedule(OnCallSchedule(id: "x", name: "X", timeZoneIdentifier: "UTC",
            layers: [.init(name: "l", userIDs: ["bob"], rotation: .daily, startDate: LocalDate(year: 2026, month: 3, day: 1), handoffMinute: 0)],
            handoffReminderMinutes: 0)), at: t0)?.field == "schedule.handoffReminderMinutes")
    }
}

/// S14: people who asked for announcements are told of each policy change through their notification rules.
@Suite struct PolicyAnnouncementTests {
    @Test func subscribedPeopleGetOneRowPerContactMethodOthersNone() throws {
        var state = try Fixture.state()
        try Fixture.ok(&state, .upsertPerson(Person(id: "reader", name: "Reader", role: .viewer,
                                                    contactMethods: [ContactMethod(id: "mail", kind: .email, address: "r@example.org")],
                                                    announcements: true)), at: Fixture.t0)
        try Fixture.ok(&state, .upsertSLAPolicy(SLAPolicy.Draft(id: "gold-plan", name: "Gold", rules: [.init(.p3, .firstResponse, seconds: 60)])),
                       at: Fixture.t0)
        let rows = state.outbox.due(until: .max).filter { $0.announcedPolicy != nil }
        #expect(rows.map(\.personID) == ["reader"])
        #expect(rows.first?.announcedPolicy?.policyID == "gold-plan" && rows.first?.announcedPolicy?.version == 1)
        #expect(rows.first.map(state.rowWanted) == true)
        try Fixture.ok(&state, .recordPageIntents(keys: rows.map(\.key), leaderTerm: 2), at: Fixture.t0)
        try Fixture.ok(&state, .recordPageOutcomes(rows.map { PageOutcome(key: $0.key, result: .delivered, attempts: 1, detail: "") }), at: Fixture.t0)
        #expect(state.outbox.due(until: .max).isEmpty)
    }
}
