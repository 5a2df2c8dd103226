/// Who gets paged, level by level, until someone acknowledges (S5). Versioned like SLA policies.
public struct EscalationPolicy: Codable, Sendable, Equatable {
    /// Someone or something that resolves to people at paging time.
    public enum Target: Codable, Sendable, Equatable {
        case person(String)
        case schedule(String)
        case team(String)
    }

    /// Page every target of a level, or one of them in turn.
    public enum TargetMode: String, Codable, Sendable {
        case all, roundRobin
    }

    /// One rung of the escalation ladder.
    public struct Level: Codable, Sendable, Equatable {
        public let targets: [Target]
        public let mode: TargetMode
        /// How long this level has to acknowledge before the next level is due.
        public let delayMinutes: Int
        /// Overrides `delayMinutes` when set: sub-minute levels for drills and test configurations.
        public let delaySeconds: Int?
        public init(targets: [Target], mode: TargetMode = .all, delayMinutes: Int) {
            self.targets = targets
            self.mode = mode
            self.delayMinutes = delayMinutes
            self.delaySeconds = nil
        }
        public init(targets: [Target], mode: TargetMode = .all, delaySeconds: Int) {
            self.targets = targets
            self.mode = mode
            self.delayMinutes = 0
            self.delaySeconds = delaySeconds
        }

        enum CodingKeys: String, CodingKey { case targets, mode, delayMinutes, delaySeconds }

        /// Either delay may be given; a level with neither is refused by the decoder.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            targets = try container.decode([Target].self, forKey: .targets)
            mode = try container.decodeIfPresent(TargetMode.self, forKey: .mode) ?? .all
            delaySeconds = try container.decodeIfPresent(Int.self, forKey: .delaySeconds)
            if delaySeconds == nil {
                delayMinutes = try container.decode(Int.self, forKey: .delayMinutes)
            } else {
                delayMinutes = try container.decodeIfPresent(Int.self, forKey: .delayMinutes) ?? 0
            }
        }

        /// The delay in milliseconds, whichever unit it was given in.
        public var delayMillis: Int64 {
            delaySeconds.map { Int64($0) * Millis.second } ?? Int64(delayMinutes) * Millis.minute
        }
    }

    /// What a command proposes; the model assigns the version.
    public struct Draft: Codable, Sendable, Equatable {
        public let id: String
        public let name: String
        public let levels: [Level]
        /// How many times the policy runs again after the last level.
        public let repeatCount: Int
        /// Zero-based level at which a repeat starts ("repeat from level N").
        public let repeatFromLevel: Int
        public init(id: String, name: String, levels: [Level], repeatCount: Int = 0, repeatFromLevel: Int = 0) {
            self.id = id
            self.name = name
            self.levels = levels
            self.repeatCount = repeatCount
            self.repeatFromLevel = repeatFromLevel
        }
    }

    public let id: String
    public let version: Int
    public let name: String
    public let levels: [Level]
    public let repeatCount: Int
    public let repeatFromLevel: Int
    public let createdAt: Timestamp

    /// Total number of paging steps before the policy is exhausted.
    public var stepCount: Int { levels.count + repeatCount * (levels.count - repeatFromLevel) }

    /// The level paged at a given step.
    public func levelIndex(ofStep step: Int) -> Int {
        if step < levels.count { return step }
        let cycle = levels.count - repeatFromLevel
        return repeatFromLevel + (step - levels.count) % cycle
    }

    /// S5 defaults: the on-call at once, the team lead after 5 min, the special team after
    /// 30 min — well inside "emergency team engaged within 2 hours" — repeated twice.
    public static func defaultEmergencyDraft(onCallScheduleID: String, leadPersonID: String, specialTeamID: String) -> Draft {
        Draft(id: "emergency", name: "Emergency response", levels: [
            Level(targets: [.schedule(onCallScheduleID)], delayMinutes: 5),
            Level(targets: [.person(leadPersonID)], delayMinutes: 25),
            Level(targets: [.team(specialTeamID)], delayMinutes: 30),
        ], repeatCount: 2, repeatFromLevel: 1)
    }
}

extension EscalationPolicy.Draft {
    func validate(people: [String: Person], teams: [String: Team], schedules: [String: OnCallSchedule]) -> DutyError? {
        if let error = Validate.identifier(id, field: "escalationPolicy.id") { return error }
        if let error = Validate.title(name, field: "escalationPolicy.name") { return error }
        if levels.isEmpty { return .invalid("escalationPolicy.levels", "a policy needs at least one level") }
        if levels.count > DutyLimits.maxEscalationLevels {
            return .limit("escalationPolicy.levels", "at most \(DutyLimits.maxEscalationLevels)")
        }
        if !(0...DutyLimits.maxEscalationRepeats).contains(repeatCount) {
            return .invalid("escalationPolicy.repeatCount", "must be 0…\(DutyLimits.maxEscalationRepeats)")
        }
        if !(0..<levels.count).contains(repeatFromLevel) {
            return .invalid("escalationPolicy.repeatFromLevel", "must name one of the \(levels.count) levels (0-based)")
        }
        for (index, level) in levels.enumerated() {
            let field = "escalationPolicy.levels[\(index)]"
            if level.targets.isEmpty { return .invalid("\(field).targets", "a level needs at least one target") }
            if level.targets.count > DutyLimits.maxTargetsPerLevel {
                return .limit("\(field).targets", "at most \(DutyLimits.maxTargetsPerLevel)")
            }
            if let seconds = level.delaySeconds {
                if !(1...86_400).contains(seconds) { return .invalid("\(field).delaySeconds", "must be 1…86400") }
            } else if !(1...1440).contains(level.delayMinutes) {
                return .invalid("\(field).delayMinutes", "must be 1…1440")
            }
            for (targetIndex, target) in level.targets.enumerated() {
                let targetField = "\(field).targets[\(targetIndex)]"
                switch target {
                case .person(let id) where people[id] == nil: return .notFound(targetField, "no person '\(id)'")
                case .team(let id) where teams[id] == nil: return .notFound(targetField, "no team '\(id)'")
                case .schedule(let id) where schedules[id] == nil: return .notFound(targetField, "no schedule '\(id)'")
                default: break
                }
            }
        }
        return nil
    }
}
