/// The closed-loop lifecycle of S6.
public enum TicketStage: String, Codable, Sendable, CaseIterable, Comparable {
    case registered, analysing, handling, feedback, archived

    public var isOpen: Bool { self != .archived && self != .feedback }

    public static func < (lhs: TicketStage, rhs: TicketStage) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
