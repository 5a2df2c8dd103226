extension DutyState {
    public func customer(_ id: String) -> Customer? { customerBook.customers[id] }

    mutating func upsertCustomer(_ customer: Customer, _ context: inout ApplyContext) throws(DutyError) {
        if let error = Validate.identifier(customer.id, field: "customer.id") ?? Validate.title(customer.name, field: "customer.name") {
            throw error
        }
        if customerBook.customers[customer.id] == nil, customerBook.customers.count >= DutyLimits.maxCustomers {
            throw .limit("customer", "at most \(DutyLimits.maxCustomers) customers")
        }
        if customer.emailAddresses.count > DutyLimits.maxAddressesPerCustomer {
            throw .limit("customer.emailAddresses", "at most \(DutyLimits.maxAddressesPerCustomer) addresses")
        }
        var addresses: [String] = []
        for (index, raw) in customer.emailAddresses.enumerated() {
            let field = "customer.emailAddresses[\(index)]"
            if let error = Customer.validateAddress(raw, field: field) { throw error }
            let address = Customer.normalizedAddress(raw)
            if addresses.contains(address) { throw .invalid(field, "is listed twice") }
            if let owner = customerBook.customerByAddress[address], owner != customer.id {
                throw .conflict(field, "already belongs to customer '\(owner)'")
            }
            addresses.append(address)
        }
        if let policyID = customer.slaPolicyID, slaPolicies[policyID] == nil {
            throw .notFound("customer.slaPolicyID", "no SLA policy '\(policyID)'")
        }
        for old in customerBook.customers[customer.id]?.emailAddresses ?? [] { customerBook.customerByAddress[old] = nil }
        for address in addresses { customerBook.customerByAddress[address] = customer.id }
        customerBook.customers[customer.id] = Customer(id: customer.id, name: customer.name, language: customer.language,
                                                       emailAddresses: addresses, slaPolicyID: customer.slaPolicyID,
                                                       announcements: customer.announcements,
                                                       mailbox: customerBook.customers[customer.id]?.mailbox)
        context.emit(.configurationChanged(entity: "customer", id: customer.id))
    }

    /// Forgets a customer's name and addresses (S16: erasure on request); their tickets keep the id.
    mutating func removeCustomer(_ id: String, _ context: inout ApplyContext) throws(DutyError) {
        guard let customer = customerBook.customers[id] else { throw .notFound("customerID", "no customer '\(id)'") }
        for address in customer.emailAddresses { customerBook.customerByAddress[address] = nil }
        customerBook.customers[id] = nil
        context.emit(.configurationChanged(entity: "customer", id: id))
    }

    /// S16: a manager read a customer's addresses; recorded before they are shown.
    mutating func recordCustomerContactAccess(_ id: String, reason: String, _ context: inout ApplyContext) throws(DutyError) {
        guard customerBook.customers[id] != nil else { throw .notFound("customerID", "no customer '\(id)'") }
        if let error = Validate.title(reason, field: "reason") { throw error }
        guard let reader = people[context.actor.rawValue], reader.role.mayReadContactData else {
            throw DutyError(.forbidden, field: "actor", "only managers and admins may read contact data")
        }
        context.emit(.contactDataAccessed(personID: "customer:\(id)", reason: reason))
    }

    /// S8: a customer's e-mail opens a ticket, or joins the ticket it replies to. The sender becomes a customer when
    /// no customer has the address. A message already recorded (same Message-ID) changes nothing and names its
    /// ticket, so a sender retrying after a lost `250` does not open a second one.
    mutating func receiveMail(_ mail: InboundMail, _ context: inout ApplyContext) throws(DutyError) {
        if mail.messageID.isEmpty || mail.messageID.utf8.count > 998 { throw .invalid("mail.messageID", "must be 1–998 bytes") }
        if let error = Customer.validateAddress(mail.fromAddress, field: "mail.fromAddress") { throw error }
        if mail.fromName.count > DutyLimits.maxTitleLength { throw .limit("mail.fromName", "at most \(DutyLimits.maxTitleLength) characters") }
        if let error = Validate.text(mail.text, field: "mail.text") { throw error }
        if mail.attachments.count > DutyLimits.maxAttachmentsPerMessage {
            throw .limit("mail.attachments", "at most \(DutyLimits.maxAttachmentsPerMessage) recorded")
        }
        if mail.references.count > 100 { throw .limit("mail.references", "at most 100") }
        // Everything a new ticket needs is checked before the sender becomes a customer: nothing half-applied.
        if let error = validateNewTicket(NewTicket(kind: mail.kind, priority: mail.priority, title: "mail", serviceID: mail.serviceID)) {
            throw error
        }
        if let known = customerBook.threads[mail.messageID] {
            context.emit(.mailAlreadyRecorded(known, messageID: mail.messageID))
            return
        }
        if mail.mailbox.utf8.count > 254 { throw .limit("mail.mailbox", "at most 254 bytes") }
        let subject = String(mail.subject.trimmingWhitespace().prefix(DutyLimits.maxTitleLength))
        let message = TimelineEntry.Action.customerMessage(messageID: mail.messageID, subject: subject, text: mail.text,
                                                           attachments: mail.attachments)
        let known = customerBook.customer(forAddress: mail.fromAddress)
        if let known, let threadID = thread(of: mail, customerID: known.id), let ticket = ticket(threadID) {
            if ticket.stage != .archived {
                guard ticket.hasRoomInTimeline else {
                    throw .limit("mail", "ticket \(threadID) reached \(DutyLimits.maxTimelineEntriesPerTicket) timeline entries")
                }
                // The customer answered what was asked: the clocks run again. First, since it may refuse (and then
                // nothing has changed yet).
                if ticket.waitingForCustomer { try setWaitingForCustomer(threadID, false, &context) }
                tickets.live[threadID]!.append(message, at: context.at, actor: context.actor)
                customerBook.remember(messageID: mail.messageID, ticketID: threadID)
                if !mail.mailbox.isEmpty { customerBook.customers[known.id]!.mailbox = mail.mailbox }
                context.emit(.customerMessageReceived(threadID, messageID: mail.messageID))
                return
            }
            let id = try openMailTicket(mail, subject: subject, customerID: known.id, followUpOf: threadID, &context)
            tickets.live[id]!.append(message, at: context.at, actor: context.actor)
            if !mail.mailbox.isEmpty { customerBook.customers[known.id]!.mailbox = mail.mailbox }
            return
        }
        let customerID: String
        if let known {
            customerID = known.id
        } else {
            guard customerBook.customers.count < DutyLimits.maxCustomers else { throw .limit("customer", "at most \(DutyLimits.maxCustomers) customers") }
            customerID = nextIntakeCustomerID()
            let local = mail.fromAddress.split(separator: "@").first.map(String.init) ?? customerID
            let name = mail.fromName.trimmingWhitespace().isEmpty ? local : String(mail.fromName.trimmingWhitespace())
            let writesChinese = (subject + mail.text).unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) }
            customerBook.customers[customerID] = Customer(id: customerID, name: String(name.prefix(DutyLimits.maxTitleLength)),
                                                          language: writesChinese ? .zh : .en,
                                                          emailAddresses: [Customer.normalizedAddress(mail.fromAddress)])
            customerBook.customerByAddress[Customer.normalizedAddress(mail.fromAddress)] = customerID
            context.emit(.configurationChanged(entity: "customer", id: customerID))
        }
        let id = try openMailTicket(mail, subject: subject, customerID: customerID, followUpOf: nil, &context)
        tickets.live[id]!.append(message, at: context.at, actor: context.actor)
        if !mail.mailbox.isEmpty { customerBook.customers[customerID]!.mailbox = mail.mailbox }
    }

    /// The ticket a reply belongs to: a Message-ID it quotes, else a `[#<ticket>]` tag in its subject. Only the
    /// ticket's own customer can add to it, so a guessed number or a forwarded thread cannot write into another's.
    private func thread(of mail: InboundMail, customerID: String) -> TicketID? {
        var candidates = mail.references.compactMap { customerBook.threads[$0] ?? CustomerMail.ticketID(inMessageID: $0) }
        if let tagged = Self.subjectTag(mail.subject) { candidates.append(tagged) }
        return candidates.first { ticket($0)?.customerID == customerID }
    }

    /// The number in the first `[#123]` of a subject.
    static func subjectTag(_ subject: String) -> TicketID? {
        var rest = Substring(subject)
        while let open = rest.range(of: "[#") {
            let digits = rest[open.upperBound...].prefix { $0.isASCII && $0.isNumber }
            if !digits.isEmpty, digits.count <= 12, rest[digits.endIndex...].first == "]", let id = TicketID(digits) { return id }
            rest = rest[open.upperBound...]
        }
        return nil
    }

    /// Queues mail to the ticket's customer for what the command did: the acknowledgement of a ticket opened by
    /// mail, each customer-visible comment, and the satisfaction link when the ticket reaches feedback. Only for a
    /// customer with an address; the outbox is bounded.
    mutating func queueCustomerMail(_ context: inout ApplyContext) {
        var registered: Set<TicketID> = []
        for event in context.events {
            let purpose: CustomerMail.Purpose
            let ticketID: TicketID
            switch event.kind {
            case let .policyAnnounced(announcement) where announcement.policyKind == .sla:
                queueAnnouncement(announcement, &context)
                continue
            case let .ticketRegistered(id, _, _): registered.insert(id); continue
            case let .customerMessageReceived(id, _) where registered.contains(id): (purpose, ticketID) = (.acknowledgement, id)
            case let .noteAdded(id, true): (purpose, ticketID) = (.reply, id)
            case let .stageChanged(id, _, .feedback): (purpose, ticketID) = (.satisfaction, id)
            default: continue
            }
            guard let ticket = tickets.live[ticketID], let customerID = ticket.customerID,
                  let customer = customerBook.customers[customerID], !customer.emailAddresses.isEmpty,
                  customerBook.mailOutbox.count < DutyLimits.maxCustomerMailQueued else { continue }
            let key = "\(CustomerMail.keyPrefix)\(purpose.rawValue):\(ticketID):\(ticket.timeline.count)"
            var text = ""
            if purpose == .reply, case let .note(note, _)? = ticket.timeline.last(where: { if case .note(_, true) = $0.action { true } else { false } })?.action {
                text = note
            }
            guard customerBook.mailOutbox[key] == nil else { continue }
            customerBook.mailOutbox[key] = CustomerMail(key: key, ticketID: ticketID, customerID: customerID, purpose: purpose, text: text,
                                                        replyFrom: customer.mailbox, createdAt: context.at,
                                                        intentTerm: nil, intentCount: 0)
        }
    }

    /// S14: a changed SLA policy is announced in writing to every customer who asked for announcements.
    private mutating func queueAnnouncement(_ announcement: PolicyAnnouncement, _ context: inout ApplyContext) {
        for customer in customerBook.customers.values.sorted(by: { $0.id < $1.id }) where customer.announcements && !customer.emailAddresses.isEmpty {
            guard customerBook.mailOutbox.count < DutyLimits.maxCustomerMailQueued else { return }
            let key = "\(CustomerMail.keyPrefix)announcement:\(announcement.policyID).v\(announcement.version):\(customer.id)"
            customerBook.mailOutbox[key] = CustomerMail(key: key, ticketID: 0, customerID: customer.id, purpose: .announcement,
                                                        text: announcement.summary, replyFrom: customer.mailbox, createdAt: context.at,
                                                        intentTerm: nil, intentCount: 0)
        }
    }

    private mutating func nextIntakeCustomerID() -> String {
        // Bounded: an id an operator took is skipped, and there are fewer customers than the limit.
        for _ in 0...DutyLimits.maxCustomers {
            customerBook.customersMadeByIntake += 1
            let id = "mail-\(customerBook.customersMadeByIntake)"
            if customerBook.customers[id] == nil { return id }
        }
        preconditionFailure("more intake customers than DutyLimits.maxCustomers")
    }

    private mutating func openMailTicket(_ mail: InboundMail, subject: String, customerID: String, followUpOf: TicketID?,
                                         _ context: inout ApplyContext) throws(DutyError) -> TicketID {
        let title = subject.isEmpty ? "(no subject)" : subject
        let new = NewTicket(kind: mail.kind, priority: mail.priority, title: title, description: mail.text,
                            serviceID: mail.serviceID, customerID: customerID)
        if let error = validateNewTicket(new) { throw error }
        let id = openTicket(new, followUpOf: followUpOf, &context)
        // The archived original stays as it was archived; the new ticket names it (`followUpOf`).
        if let followUpOf { context.emit(.followUpOpened(original: followUpOf, followUp: id)) }
        customerBook.remember(messageID: mail.messageID, ticketID: id)
        context.emit(.customerMessageReceived(id, messageID: mail.messageID))
        return id
    }
}
