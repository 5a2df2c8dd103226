// Hand-written Codable for the enums people write by hand in API bodies and `vigil apply` files:
// `{"schedule": "primary"}` and `"weekly"` / `{"days": 3}` read better than the synthesized `{"schedule": {"_0": …}}`.

extension EscalationPolicy.Target {
    private enum Key: String, CodingKey, CaseIterable { case person, schedule, team }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        let present = Key.allCases.filter { container.contains($0) }
        guard present.count == 1, let key = present.first else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "a target is exactly one of {\"person\": id}, {\"schedule\": id}, {\"team\": id}"))
        }
        let id = try container.decode(String.self, forKey: key)
        switch key {
        case .person: self = .person(id)
        case .schedule: self = .schedule(id)
        case .team: self = .team(id)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        switch self {
        case .person(let id): try container.encode(id, forKey: .person)
        case .schedule(let id): try container.encode(id, forKey: .schedule)
        case .team(let id): try container.encode(id, forKey: .team)
        }
    }
}

extension OnCallSchedule.RotationLength {
    private enum Key: String, CodingKey { case days, hours }

    public init(from decoder: any Decoder) throws {
        if let name = try? decoder.singleValueContainer().decode(String.self) {
            switch name {
            case "daily": self = .daily
            case "weekly": self = .weekly
            default:
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                        debugDescription: "a rotation is \"daily\", \"weekly\", {\"days\": n} or {\"hours\": n}, not \"\(name)\""))
            }
            return
        }
        let container = try decoder.container(keyedBy: Key.self)
        if let days = try container.decodeIfPresent(Int.self, forKey: .days) {
            self = .days(days)
        } else if let hours = try container.decodeIfPresent(Int.self, forKey: .hours) {
            self = .hours(hours)
        } else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "a rotation is \"daily\", \"weekly\", {\"days\": n} or {\"hours\": n}"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .daily:
            var container = encoder.singleValueContainer()
            try container.encode("daily")
        case .weekly:
            var container = encoder.singleValueContainer()
            try container.encode("weekly")
        case .days(let count):
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(count, forKey: .days)
        case .hours(let count):
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(count, forKey: .hours)
        }
    }
}
