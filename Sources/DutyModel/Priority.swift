/// Ticket urgency, P1 (critical) to P4 (low).
public enum Priority: String, Codable, Sendable, CaseIterable, Comparable {
    case p1 = "P1", p2 = "P2", p3 = "P3", p4 = "P4"

    public static func < (lhs: Priority, rhs: Priority) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Monitoring severities as PagerDuty Events v2 and Alertmanager name them.
    public init(severity: String) {
        switch severity.lowercased() {
        case "critical": self = .p1
        case "error", "high": self = .p2
        case "warning", "medium": self = .p3
        default: self = .p4
        }
    }
}
