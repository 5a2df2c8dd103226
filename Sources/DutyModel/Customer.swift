/// Someone the service is promised to (S15): their contract's SLA policy, their language, and the addresses their
/// mail comes from. The addresses are contact data (S16): only managers read them, and they never reach a log.
public struct Customer: Codable, Sendable, Equatable {
    /// The language mail to the customer is written in.
    public enum Language: String, Codable, Sendable, CaseIterable { case en, zh }

    public let id: String
    public let name: String
    public let language: Language
    /// Lower-cased `local@domain` (`normalizedAddress`); each belongs to one customer only.
    public let emailAddresses: [String]
    /// The contract's SLA policy, before the service's own (S15); nil: the service's.
    public let slaPolicyID: String?
    /// Receives policy change announcements (S14).
    public let announcements: Bool
    /// The intake mailbox the customer last wrote to: mail to them comes from it, so their answers come back.
    public internal(set) var mailbox: String?

    public init(id: String, name: String, language: Language = .en, emailAddresses: [String] = [], slaPolicyID: String? = nil,
                announcements: Bool = false, mailbox: String? = nil) {
        self.mailbox = mailbox
        self.id = id
        self.name = name
        self.language = language
        self.emailAddresses = emailAddresses
        self.slaPolicyID = slaPolicyID
        self.announcements = announcements
    }

    /// The form every replica stores. RFC 5321 lets a local part be case-sensitive, but no mail provider a customer
    /// uses treats `Wang.Li@` and `wang.li@` as two people, and a reply must find its sender again.
    public static func normalizedAddress(_ address: String) -> String { address.lowercased() }

    /// Whether `address` looks like `local@domain` without spaces, brackets or control characters; the intake passes
    /// only parsed mailboxes, the API checks what a person typed.
    static func validateAddress(_ address: String, field: String) -> DutyError? {
        if address.utf8.count > 254 { return .limit(field, "an address has at most 254 bytes") }
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty,
              !address.unicodeScalars.contains(where: { $0.value <= 0x20 || "<>()[],;\"\\".unicodeScalars.contains($0) }) else {
            return .invalid(field, "'\(address)' is not an address of the form local@domain")
        }
        return nil
    }
}

/// Customers, the index of their addresses, and the Message-IDs that thread mail onto tickets.
public struct CustomerBook: Codable, Sendable, Equatable {
    public internal(set) var customers: [String: Customer] = [:]
    /// Normalized address → customer id.
    public internal(set) var customerByAddress: [String: String] = [:]
    /// Message-ID (no angle brackets) → the ticket the message is on: a reply quoting one joins that ticket, and a
    /// message delivered twice (a sender retrying after a lost `250`) is recorded once.
    public internal(set) var threads: [String: TicketID] = [:]
    /// `threads`' keys, oldest first, so the oldest are forgotten first once over `DutyLimits.maxMailThreads`.
    var threadOrder: [String] = []
    /// Customers the intake made from unknown senders so far; names the next one `mail-<n+1>`.
    var customersMadeByIntake = 0
    /// Mail to customers waiting to be sent or for its outcome, by outbox key (`mail:…`): the same intent, fencing
    /// and outcome commands as pages (`recordPageIntents`, `recordPageOutcomes`).
    public internal(set) var mailOutbox: [String: CustomerMail] = [:]

    public init() {}

    public func customer(forAddress address: String) -> Customer? {
        customerByAddress[Customer.normalizedAddress(address)].flatMap { customers[$0] }
    }

    mutating func remember(messageID: String, ticketID: TicketID) {
        guard threads.updateValue(ticketID, forKey: messageID) == nil else { return }
        threadOrder.append(messageID)
        // Trimmed in batches so the array's O(n) removal runs once per thousand messages, not per message.
        if threadOrder.count > DutyLimits.maxMailThreads + 1_000 {
            for old in threadOrder.prefix(1_000) { threads[old] = nil }
            threadOrder.removeFirst(1_000)
        }
    }
}

/// An attachment of a customer's message: recorded by name, type and size only.
public struct MailAttachmentRecord: Codable, Sendable, Equatable {
    public let fileName: String
    public let contentType: String
    public let byteCount: Int
    public init(fileName: String, contentType: String, byteCount: Int) {
        self.fileName = fileName
        self.contentType = contentType
        self.byteCount = byteCount
    }
}

/// One customer e-mail as the SMTP intake parsed it, with the service and kind its mailbox maps to.
public struct InboundMail: Codable, Sendable, Equatable {
    /// Without angle brackets; the intake makes one from the message's digest when the sender gave none.
    public let messageID: String
    /// In-Reply-To, then References.
    public let references: [String]
    public let fromAddress: String
    public let fromName: String
    public let subject: String
    public let text: String
    public let attachments: [MailAttachmentRecord]
    public let serviceID: String
    public let kind: TicketKind
    public let priority: Priority
    /// The intake mailbox it was sent to.
    public let mailbox: String

    public init(messageID: String, references: [String] = [], fromAddress: String, fromName: String = "", subject: String,
                text: String, attachments: [MailAttachmentRecord] = [], serviceID: String, kind: TicketKind, priority: Priority,
                mailbox: String = "") {
        self.mailbox = mailbox
        self.messageID = messageID
        self.references = references
        self.fromAddress = fromAddress
        self.fromName = fromName
        self.subject = subject
        self.text = text
        self.attachments = attachments
        self.serviceID = serviceID
        self.kind = kind
        self.priority = priority
    }
}

/// One message to a customer in the outbox (S2, S13): what to send is composed from the ticket when it is sent, so
/// a resend after a failover is the same message under the same key and Message-ID.
public struct CustomerMail: Codable, Sendable, Equatable {
    /// Why the customer is written to.
    public enum Purpose: String, Codable, Sendable, CaseIterable {
        /// The ticket number and the response times that apply (S2).
        case acknowledgement
        /// A customer-visible comment (S13).
        case reply
        /// The link to rate the service (S13).
        case satisfaction
        /// A change of an SLA policy, to customers who asked for announcements (S14); about no ticket (id 0).
        case announcement
    }

    /// `mail:<purpose>:<ticket>[:<n>]`; its Message-ID is `vigil.<key with dots>@domain`, so a reply quoting it
    /// finds the ticket (`DutyState.thread(of:customerID:)`).
    public let key: String
    public let ticketID: TicketID
    public let customerID: String
    public let purpose: Purpose
    /// The comment, for a reply.
    public let text: String
    /// The mailbox the customer wrote to, as the From of the answer; nil: the paging relay's sender.
    public let replyFrom: String?
    public let createdAt: Timestamp
    public internal(set) var intentTerm: UInt64?
    public internal(set) var intentCount: Int

    public static let keyPrefix = "mail:"

    /// The ticket a Message-ID of ours names, when it is one (`vigil.mail.<purpose>.<ticket>…@domain`).
    static func ticketID(inMessageID messageID: String) -> TicketID? {
        let local = messageID.split(separator: "@").first ?? ""
        let parts = local.split(separator: ".")
        guard parts.count >= 4, parts[0] == "vigil", parts[1] == "mail" else { return nil }
        return TicketID(parts[3])
    }
}
