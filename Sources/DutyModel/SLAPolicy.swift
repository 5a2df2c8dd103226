/// A versioned set of SLA targets per priority (S2–S5, S14); tickets keep the version they started with.
public struct SLAPolicy: Codable, Sendable, Equatable {
    /// One target for one priority.
    public struct Rule: Codable, Sendable, Equatable, Comparable {
        public let priority: Priority
        public let target: SLATarget
        public let targetSeconds: Int64
        public let clockMode: ClockMode
        public init(_ priority: Priority, _ target: SLATarget, seconds: Int64, _ clockMode: ClockMode = .calendarTime) {
            self.priority = priority
            self.target = target
            self.targetSeconds = seconds
            self.clockMode = clockMode
        }
        public static func < (lhs: Rule, rhs: Rule) -> Bool { (lhs.priority, lhs.target) < (rhs.priority, rhs.target) }
    }

    public let id: String
    public let version: Int
    public let name: String
    public let rules: [Rule]
    /// Required when any rule counts business time.
    public let calendarID: String?
    /// A warning is due when this share of the target has elapsed.
    public let warningThresholdPercent: Int
    public let createdAt: Timestamp

    public func rules(for priority: Priority) -> [Rule] { rules.filter { $0.priority == priority } }

    /// What a command proposes; the model assigns the version.
    public struct Draft: Codable, Sendable, Equatable {
        public let id: String
        public let name: String
        public let rules: [Rule]
        public let calendarID: String?
        public let warningThresholdPercent: Int
        public init(id: String, name: String, rules: [Rule], calendarID: String? = nil, warningThresholdPercent: Int = 80) {
            self.id = id
            self.name = name
            self.rules = rules.sorted()
            self.calendarID = calendarID
            self.warningThresholdPercent = warningThresholdPercent
        }
    }

    /// The figures of the service-response commitment.
    ///
    /// First response 5 min for every request (S2); preliminary solution 30 min (S3); urgent
    /// (P1/P2) first feedback within 30 min, general consultation (P3/P4) within 2 working
    /// hours (S4). "Emergency team engaged within 2 h" (S5) is enforced by escalation (see
    /// `EscalationPolicy.defaultEmergencyDraft`, special team paged at 30 min) and measured
    /// here as a 2 h P1 resolution target, so a missed engagement shows up as a breach.
    public static func defaultDraft(calendarID: String) -> Draft {
        var rules: [Rule] = []
        for priority in Priority.allCases {
            rules.append(Rule(priority, .firstResponse, seconds: 5 * 60))
        }
        for priority in [Priority.p1, .p2] {
            rules.append(Rule(priority, .initialSolution, seconds: 30 * 60))
            rules.append(Rule(priority, .updateInterval, seconds: 30 * 60))
        }
        rules.append(Rule(.p1, .resolution, seconds: 2 * 3600))
        for priority in [Priority.p3, .p4] {
            rules.append(Rule(priority, .updateInterval, seconds: 2 * 3600, .businessTime))
        }
        return Draft(id: "default", name: "Service-response commitment", rules: rules, calendarID: calendarID)
    }
}

extension SLAPolicy.Draft {
    func validate(calendars: [String: BusinessCalendar]) -> DutyError? {
        if let error = Validate.identifier(id, field: "slaPolicy.id") { return error }
        if let error = Validate.title(name, field: "slaPolicy.name") { return error }
        guard (1...99).contains(warningThresholdPercent) else {
            return .invalid("slaPolicy.warningThresholdPercent", "must be between 1 and 99")
        }
        if rules.isEmpty { return .invalid("slaPolicy.rules", "a policy needs at least one rule") }
        if rules.count > Priority.allCases.count * SLATarget.allCases.count {
            return .limit("slaPolicy.rules", "one rule per priority and target")
        }
        for (index, rule) in rules.enumerated() {
            guard (60...(366 * 86_400)).contains(rule.targetSeconds) else {
                return .invalid("slaPolicy.rules[\(index)].targetSeconds", "must be between 60 s and 366 days")
            }
            // Searched, not compared with the neighbour: a decoded draft keeps the client's order.
            if rules[..<index].contains(where: { $0.priority == rule.priority && $0.target == rule.target }) {
                return .conflict("slaPolicy.rules[\(index)]", "duplicate rule for \(rule.priority.rawValue) \(rule.target.rawValue)")
            }
            if rule.clockMode == .businessTime {
                guard let calendarID else {
                    return .invalid("slaPolicy.calendarID", "rule \(index) counts business time but no calendar is set")
                }
                guard calendars[calendarID] != nil else {
                    return .notFound("slaPolicy.calendarID", "no calendar '\(calendarID)'")
                }
            }
        }
        return nil
    }
}
