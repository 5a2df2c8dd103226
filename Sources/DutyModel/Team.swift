/// A group of people, e.g. the special emergency team of S5.
public struct Team: Codable, Sendable, Equatable {
    public let id: String
    public let name: String
    public let memberIDs: [String]
    public let managerID: String?

    public init(id: String, name: String, memberIDs: [String], managerID: String? = nil) {
        self.id = id
        self.name = name
        self.memberIDs = memberIDs
        self.managerID = managerID
    }

    func validate(people: [String: Person]) -> DutyError? {
        if let error = Validate.identifier(id, field: "team.id") { return error }
        if let error = Validate.title(name, field: "team.name") { return error }
        if memberIDs.isEmpty { return .invalid("team.memberIDs", "a team needs at least one member") }
        if memberIDs.count > DutyLimits.maxTeamMembers { return .limit("team.memberIDs", "at most \(DutyLimits.maxTeamMembers)") }
        if Set(memberIDs).count != memberIDs.count { return .conflict("team.memberIDs", "a person is listed twice") }
        for (index, member) in memberIDs.enumerated() where people[member] == nil {
            return .notFound("team.memberIDs[\(index)]", "no person '\(member)'")
        }
        if let managerID, people[managerID] == nil { return .notFound("team.managerID", "no person '\(managerID)'") }
        return nil
    }
}
