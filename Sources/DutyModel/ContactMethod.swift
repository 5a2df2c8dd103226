/// A way to reach a person; the address is personal data (S16).
public struct ContactMethod: Codable, Sendable, Equatable, CustomStringConvertible {
    /// The channel a contact method uses.
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case email, sms, phone, webhook, chat
    }

    public let id: String
    public let kind: Kind
    public let address: String

    public init(id: String, kind: Kind, address: String) {
        self.id = id
        self.kind = kind
        self.address = address
    }

    /// Never prints the address, so it cannot leak into logs.
    public var description: String { "ContactMethod(\(id), \(kind.rawValue), <redacted>)" }
}

/// "Chat at once, SMS after 1 min, call after 3 min": one rule per contact method.
public struct NotificationRule: Codable, Sendable, Equatable, Comparable {
    public let contactMethodID: String
    public let delayMinutes: Int
    public init(contactMethodID: String, delayMinutes: Int) {
        self.contactMethodID = contactMethodID
        self.delayMinutes = delayMinutes
    }
    public static func < (lhs: NotificationRule, rhs: NotificationRule) -> Bool {
        (lhs.delayMinutes, lhs.contactMethodID) < (rhs.delayMinutes, rhs.contactMethodID)
    }
}
