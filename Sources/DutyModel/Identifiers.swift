/// Milliseconds since the Unix epoch, as stamped by the Raft leader.
public typealias Timestamp = Int64

/// Tickets are numbered 1, 2, 3 … in apply order, so every replica assigns the same number.
public typealias TicketID = Int

/// Who issued a command: a person's id, an integration, or a system component.
public struct ActorID: Codable, Sendable, Hashable, Comparable, CustomStringConvertible {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
    public static func < (lhs: ActorID, rhs: ActorID) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

extension ActorID {
    /// Who acts when an acknowledgement link is followed: the link, named by the page that carried it (its key names
    /// the ticket, person and channel), for the audit trail.
    public static func ackLink(idempotencyKey: String) -> ActorID {
        var text = "ack-link:" + idempotencyKey.prefix(DutyLimits.maxIdentifierLength * 2)
        // Cut whole characters, so a long key never ends in half of one.
        while text.utf8.count > DutyLimits.maxIdentifierLength * 2 { text.removeLast() }
        return ActorID(text)
    }
}

/// Millisecond helpers; the model never touches `Date()`.
enum Millis {
    static let second: Int64 = 1_000
    static let minute: Int64 = 60_000
    static let hour: Int64 = 3_600_000
    static let day: Int64 = 86_400_000
}
