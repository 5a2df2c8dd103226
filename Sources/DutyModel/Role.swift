/// What a person may do; ordered from least to most privileged.
public enum Role: String, Codable, Sendable, CaseIterable, Comparable {
    case viewer, responder, manager, admin

    public static func < (lhs: Role, rhs: Role) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// S16: personal contact data is disclosed only to these roles.
    public var mayReadContactData: Bool { self >= .manager }
}
