/// Something users get support for; decides the escalation and SLA policy of its tickets.
public struct Service: Codable, Sendable, Equatable {
    /// No paging between start and end; tickets are still recorded.
    public struct MaintenanceWindow: Codable, Sendable, Equatable {
        public let start: Timestamp
        public let end: Timestamp
        public let reason: String
        public init(start: Timestamp, end: Timestamp, reason: String) {
            self.start = start
            self.end = end
            self.reason = reason
        }
    }

    public let id: String
    public let name: String
    public let teamID: String?
    public let escalationPolicyID: String?
    /// Per-service SLA override (S15); nil uses the default policy.
    public let slaPolicyID: String?
    /// PagerDuty's acknowledgement timeout: an acknowledged ticket still open this long after its
    /// acknowledgement is un-acknowledged and escalates on from its next level. Nil: acknowledgements last.
    public let acknowledgementTimeoutSeconds: Int?
    public internal(set) var integrationKeys: [String]
    public internal(set) var maintenanceWindows: [MaintenanceWindow]

    public init(id: String, name: String, teamID: String? = nil, escalationPolicyID: String? = nil, slaPolicyID: String? = nil,
                acknowledgementTimeoutSeconds: Int? = nil) {
        self.id = id
        self.name = name
        self.teamID = teamID
        self.escalationPolicyID = escalationPolicyID
        self.slaPolicyID = slaPolicyID
        self.acknowledgementTimeoutSeconds = acknowledgementTimeoutSeconds
        integrationKeys = []
        maintenanceWindows = []
    }

    public func inMaintenance(at instant: Timestamp) -> Bool {
        maintenanceWindows.contains { $0.start <= instant && instant < $0.end }
    }

    /// PagerDuty routing keys are 32 characters of [0-9a-z].
    static func validateIntegrationKey(_ key: String) -> DutyError? {
        guard key.utf8.count == 32, key.unicodeScalars.allSatisfy({ ($0 >= "0" && $0 <= "9") || ($0 >= "a" && $0 <= "z") }) else {
            return .invalid("integrationKey", "must be exactly 32 characters of 0-9 and a-z")
        }
        return nil
    }
}
