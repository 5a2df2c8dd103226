/// The clocks an SLA policy can run on a ticket.
public enum SLATarget: String, Codable, Sendable, CaseIterable, Comparable {
    /// S2: until the first acknowledgement or reply.
    case firstResponse
    /// S3: until a preliminary solution is given.
    case initialSolution
    /// S4 "first feedback": the longest silence allowed towards the customer; re-armed by each update.
    case updateInterval
    /// Until the ticket reaches the feedback stage (solution delivered).
    case resolution

    public static func < (lhs: SLATarget, rhs: SLATarget) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// How an SLA target is measured.
public enum ClockMode: String, Codable, Sendable, CaseIterable {
    case calendarTime, businessTime
}
