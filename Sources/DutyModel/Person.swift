/// Someone who can be on call, own tickets, or review them.
public struct Person: Codable, Sendable, Equatable, CustomStringConvertible {
    public let id: String
    public let name: String
    public let role: Role
    public let timeZoneIdentifier: String
    /// Module-internal: outside callers read contact data only through
    /// `DutyState.contactMethods(of:readerRole:)`, which checks the role (S16).
    let contactMethods: [ContactMethod]
    public let notificationRules: [NotificationRule]
    /// Receives policy change announcements (S14) through the notification rules; absent: no.
    public let announcements: Bool?

    public init(id: String, name: String, role: Role, timeZoneIdentifier: String = "UTC",
                contactMethods: [ContactMethod] = [], notificationRules: [NotificationRule] = [], announcements: Bool? = nil) {
        self.announcements = announcements
        self.id = id
        self.name = name
        self.role = role
        self.timeZoneIdentifier = timeZoneIdentifier
        self.contactMethods = contactMethods
        self.notificationRules = notificationRules.sorted()
    }

    public var description: String { "Person(\(id), \(role.rawValue), \(contactMethods.count) contact methods)" }

    func validate() -> DutyError? {
        if let error = Validate.identifier(id, field: "person.id") { return error }
        if let error = Validate.title(name, field: "person.name") { return error }
        if ZoneClock(identifier: timeZoneIdentifier) == nil {
            return .invalid("person.timeZoneIdentifier", "unknown time zone '\(timeZoneIdentifier)'")
        }
        if contactMethods.count > DutyLimits.maxContactMethodsPerPerson {
            return .limit("person.contactMethods", "at most \(DutyLimits.maxContactMethodsPerPerson)")
        }
        if notificationRules.count > DutyLimits.maxNotificationRulesPerPerson {
            return .limit("person.notificationRules", "at most \(DutyLimits.maxNotificationRulesPerPerson)")
        }
        var seen: Set<String> = []
        for (index, method) in contactMethods.enumerated() {
            if let error = Validate.identifier(method.id, field: "person.contactMethods[\(index)].id") { return error }
            if !seen.insert(method.id).inserted {
                return .conflict("person.contactMethods[\(index)].id", "duplicate contact method id '\(method.id)'")
            }
            if method.address.isEmpty || method.address.utf8.count > 512 {
                return .invalid("person.contactMethods[\(index)].address", "must be 1–512 bytes")
            }
            if method.kind == .email, !method.address.contains("@") {
                return .invalid("person.contactMethods[\(index)].address", "an e-mail address needs an '@'")
            }
            if method.kind == .webhook, !(method.address.hasPrefix("https://") || method.address.hasPrefix("http://")) {
                return .invalid("person.contactMethods[\(index)].address", "a webhook needs an http(s) URL")
            }
        }
        for (index, rule) in notificationRules.enumerated() {
            if !seen.contains(rule.contactMethodID) {
                return .notFound("person.notificationRules[\(index)].contactMethodID", "no contact method '\(rule.contactMethodID)'")
            }
            if let seconds = rule.delaySeconds {
                if !(0...86_400).contains(seconds) {
                    return .invalid("person.notificationRules[\(index)].delaySeconds", "must be 0…86400")
                }
            } else if !(0...1440).contains(rule.delayMinutes) {
                return .invalid("person.notificationRules[\(index)].delayMinutes", "must be 0…1440")
            }
        }
        return nil
    }
}
