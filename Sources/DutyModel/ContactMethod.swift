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
    /// Overrides `delayMinutes` when set (sub-minute rules for drills and test configurations).
    public let delaySeconds: Int?
    public init(contactMethodID: String, delayMinutes: Int) {
        self.contactMethodID = contactMethodID
        self.delayMinutes = delayMinutes
        self.delaySeconds = nil
    }
    public init(contactMethodID: String, delaySeconds: Int) {
        self.contactMethodID = contactMethodID
        self.delayMinutes = 0
        self.delaySeconds = delaySeconds
    }

    enum CodingKeys: String, CodingKey { case contactMethodID, delayMinutes, delaySeconds }

    /// Either delay may be given; a rule with neither is refused by the decoder.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        contactMethodID = try container.decode(String.self, forKey: .contactMethodID)
        delaySeconds = try container.decodeIfPresent(Int.self, forKey: .delaySeconds)
        if delaySeconds == nil {
            delayMinutes = try container.decode(Int.self, forKey: .delayMinutes)
        } else {
            delayMinutes = try container.decodeIfPresent(Int.self, forKey: .delayMinutes) ?? 0
        }
    }

    /// The delay in milliseconds, whichever unit it was given in.
    public var delayMillis: Int64 { delaySeconds.map { Int64($0) * Millis.second } ?? Int64(delayMinutes) * Millis.minute }

    public static func < (lhs: NotificationRule, rhs: NotificationRule) -> Bool {
        (lhs.delayMillis, lhs.contactMethodID) < (rhs.delayMillis, rhs.contactMethodID)
    }
}
