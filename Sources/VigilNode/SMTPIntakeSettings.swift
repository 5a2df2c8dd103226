import DutyModel

/// `intake.smtp` in `vigil.yaml`: where the node takes customers' mail, and which mailbox opens which kind of ticket.
public struct SMTPIntakeSettings: Codable, Sendable, Equatable {
    /// One address the node accepts mail for.
    public struct Mailbox: Codable, Sendable, Equatable {
        public var address: String
        public var service: String
        public var kind: TicketKind
        public var priority: Priority

        public init(address: String, service: String, kind: TicketKind = .consultation, priority: Priority = .p3) {
            self.address = address
            self.service = service
            self.kind = kind
            self.priority = priority
        }

        enum CodingKeys: String, CodingKey { case address, service, kind, priority }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            address = try container.decode(String.self, forKey: .address)
            service = try container.decode(String.self, forKey: .service)
            kind = try container.decodeIfPresent(TicketKind.self, forKey: .kind) ?? .consultation
            priority = try container.decodeIfPresent(Priority.self, forKey: .priority) ?? .p3
        }
    }

    public var listen: HostPort
    /// Offers STARTTLS with the node's certificate (the API's when it has its own).
    public var starttls: Bool
    /// Refuses the message, with 552, beyond this many bytes (the `SIZE` the node announces).
    public var maxMessageBytes: Int
    /// Names the node in its greeting; default `vigil-<node id>`.
    public var hostname: String?
    public var mailboxes: [Mailbox]

    public static let defaultMaxMessageBytes = 10 << 20

    public init(listen: HostPort, starttls: Bool = true, maxMessageBytes: Int = defaultMaxMessageBytes, hostname: String? = nil,
                mailboxes: [Mailbox]) {
        self.listen = listen
        self.starttls = starttls
        self.maxMessageBytes = maxMessageBytes
        self.hostname = hostname
        self.mailboxes = mailboxes
    }

    enum CodingKeys: String, CodingKey {
        case listen, starttls, hostname, mailboxes
        case maxMessageBytes = "max_message_bytes"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        listen = try container.decode(HostPort.self, forKey: .listen)
        starttls = try container.decodeIfPresent(Bool.self, forKey: .starttls) ?? true
        maxMessageBytes = try container.decodeIfPresent(Int.self, forKey: .maxMessageBytes) ?? Self.defaultMaxMessageBytes
        hostname = try container.decodeIfPresent(String.self, forKey: .hostname)
        mailboxes = try container.decode([Mailbox].self, forKey: .mailboxes)
    }

    /// The mailbox for a recipient, compared without case (domains are, and people type local parts both ways).
    public func mailbox(for address: String) -> Mailbox? {
        mailboxes.first { $0.address.caseInsensitiveCompare(address) == .orderedSame }
    }

    func validate() throws(ConfigError) {
        guard (1_024...(64 << 20)).contains(maxMessageBytes) else {
            throw .invalidValue(key: "intake.smtp.max_message_bytes", reason: "\(maxMessageBytes) is not in 1024...67108864")
        }
        guard !mailboxes.isEmpty else { throw .invalidValue(key: "intake.smtp.mailboxes", reason: "lists no mailbox") }
        var seen = Set<String>()
        for (index, mailbox) in mailboxes.enumerated() {
            let parts = mailbox.address.split(separator: "@", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, !mailbox.address.contains(" ") else {
                throw .invalidValue(key: "intake.smtp.mailboxes[\(index)].address", reason: "'\(mailbox.address)' is not local@domain")
            }
            guard seen.insert(mailbox.address.lowercased()).inserted else {
                throw .invalidValue(key: "intake.smtp.mailboxes[\(index)].address", reason: "'\(mailbox.address)' is listed twice")
            }
            guard !mailbox.service.isEmpty else {
                throw .invalidValue(key: "intake.smtp.mailboxes[\(index)].service", reason: "must name a service")
            }
        }
    }
}

/// The node's intakes beside HTTP.
public struct IntakeSettings: Codable, Sendable, Equatable {
    public var smtp: SMTPIntakeSettings?
    public init(smtp: SMTPIntakeSettings? = nil) { self.smtp = smtp }
}
