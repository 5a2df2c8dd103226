import DutyModel

/// Who is making the current request, as authenticated by `RoleMiddleware` or the console.
public struct Principal: Sendable, Equatable {
    public let name: String
    public let role: Role
    /// The person the token belongs to, if it was issued to one.
    public let personID: String?

    public init(name: String, role: Role, personID: String? = nil) {
        self.name = name
        self.role = role
        self.personID = personID
    }

    /// The actor recorded in the audit trail: the person when the token names one, else the token.
    public var actor: ActorID { ActorID(personID ?? "token:\(name)") }

    /// Set by the middleware for the handler's task; nil on routes that need no token.
    @TaskLocal public static var current: Principal?
}
