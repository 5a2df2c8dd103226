/// A 7×24 roster (S9): rotation layers in a time zone, restrictions and overrides.
///
/// Every boundary is computed from wall-clock times in the schedule's zone: a daily hand-off at
/// 09:00 stays at 09:00 across DST (the shift is 23 or 25 hours long), and a 22:00–06:00
/// restriction lasts 7 or 9 hours on the nights the clocks change, never shifted.
public struct OnCallSchedule: Codable, Sendable, Equatable {
    /// A weekly window during which a layer is active; `endMinute ≤ startMinute` wraps past midnight.
    public struct Restriction: Codable, Sendable, Equatable {
        /// Weekdays (ISO 1–7) on which the window starts; empty means every day.
        public let isoWeekdays: [Int]
        public let startMinute: Int
        public let endMinute: Int
        public init(isoWeekdays: [Int] = [], startMinute: Int, endMinute: Int) {
            self.isoWeekdays = Array(Set(isoWeekdays)).sorted()
            self.startMinute = startMinute
            self.endMinute = endMinute
        }

        func startsOn(_ weekday: Int) -> Bool { isoWeekdays.isEmpty || isoWeekdays.contains(weekday) }

        func contains(date: LocalDate, minute: Int) -> Bool {
            if startMinute < endMinute {
                return minute >= startMinute && minute < endMinute && startsOn(date.isoWeekday)
            }
            if minute >= startMinute && startsOn(date.isoWeekday) { return true }
            return minute < endMinute && startsOn(date.adding(days: -1).isoWeekday)
        }
    }

    /// How long each person's turn lasts.
    public enum RotationLength: Codable, Sendable, Equatable {
        case daily, weekly
        case days(Int)
        /// Fixed elapsed hours: such rotations do not follow the wall clock across DST.
        case hours(Int)

        var days: Int? {
            switch self {
            case .daily: return 1
            case .weekly: return 7
            case .days(let count): return count
            case .hours: return nil
            }
        }
    }

    /// One rotation; later layers take precedence over earlier ones where they are active.
    public struct Layer: Codable, Sendable, Equatable {
        public let name: String
        public let userIDs: [String]
        public let rotation: RotationLength
        /// The first shift starts on this local date at `handoffMinute`.
        public let startDate: LocalDate
        public let handoffMinute: Int
        public let endsAt: Timestamp?
        public let restrictions: [Restriction]

        public init(name: String, userIDs: [String], rotation: RotationLength, startDate: LocalDate,
                    handoffMinute: Int, endsAt: Timestamp? = nil, restrictions: [Restriction] = []) {
            self.name = name
            self.userIDs = userIDs
            self.rotation = rotation
            self.startDate = startDate
            self.handoffMinute = handoffMinute
            self.endsAt = endsAt
            self.restrictions = restrictions
        }

        func shiftStart(_ index: Int64, clock: ZoneClock) -> Timestamp {
            if let days = rotation.days {
                return clock.firstInstant(onOrAfterWall: startDate.adding(days: index * Int64(days)), minuteOfDay: handoffMinute)
            }
            guard case .hours(let hours) = rotation else { preconditionFailure("rotation without length") }
            return clock.firstInstant(onOrAfterWall: startDate, minuteOfDay: handoffMinute) + index * Int64(hours) * Millis.hour
        }

        /// The rotation turn containing `instant`, ignoring restrictions; nil before the start.
        func shiftIndex(at instant: Timestamp, clock: ZoneClock) -> Int64? {
            let origin = shiftStart(0, clock: clock)
            guard instant >= origin else { return nil }
            if case .hours(let hours) = rotation { return (instant - origin) / (Int64(hours) * Millis.hour) }
            let days = Int64(rotation.days!)
            let dayIndex = clock.localDate(at: instant).daysSinceEpoch - startDate.daysSinceEpoch
            var index = max(0, floorDiv(dayIndex, days))
            // The wall-clock estimate can be one off around hand-off time and DST; settle it exactly.
            while index > 0 && shiftStart(index, clock: clock) > instant { index -= 1 }
            while shiftStart(index + 1, clock: clock) <= instant { index += 1 }
            return index
        }

        func isActive(at instant: Timestamp, clock: ZoneClock) -> Bool {
            if let endsAt, instant >= endsAt { return false }
            guard !restrictions.isEmpty else { return true }
            let date = clock.localDate(at: instant)
            let minute = clock.minuteOfDay(at: instant)
            return restrictions.contains { $0.contains(date: date, minute: minute) }
        }

        func user(at instant: Timestamp, clock: ZoneClock) -> String? {
            guard let index = shiftIndex(at: instant, clock: clock), isActive(at: instant, clock: clock) else { return nil }
            return userIDs[Int(index % Int64(userIDs.count))]
        }

        /// Every instant in [from, to) where this layer's answer may change.
        func boundaries(from: Timestamp, to: Timestamp, clock: ZoneClock) -> [Timestamp] {
            var result: [Timestamp] = []
            var index = shiftIndex(at: from, clock: clock) ?? 0
            while true {
                let start = shiftStart(index, clock: clock)
                if start >= to { break }
                if start >= from { result.append(start) }
                index += 1
            }
            if let endsAt, endsAt >= from, endsAt < to { result.append(endsAt) }
            guard !restrictions.isEmpty else { return result }
            let minutes = Set(restrictions.flatMap { [$0.startMinute, $0.endMinute % 1440] }).sorted()
            for segment in clock.segments(from: from, to: to) {
                result.append(segment.start)
                let firstDay = floorDiv(segment.start + segment.offset, Millis.day)
                let lastDay = floorDiv(segment.end + segment.offset - 1, Millis.day)
                var day = firstDay
                while day <= lastDay {
                    for minute in minutes {
                        let instant = day * Millis.day + Int64(minute) * Millis.minute - segment.offset
                        if instant >= segment.start && instant < segment.end { result.append(instant) }
                    }
                    day += 1
                }
            }
            return result
        }
    }

    /// Someone covers for the rotation between two instants.
    public struct Override: Codable, Sendable, Equatable {
        public let personID: String
        public let start: Timestamp
        public let end: Timestamp
        public init(personID: String, start: Timestamp, end: Timestamp) {
            self.personID = personID
            self.start = start
            self.end = end
        }
    }

    /// A stretch of time during which one person is on call.
    public struct Shift: Codable, Sendable, Equatable {
        public let personID: String
        public let start: Timestamp
        public let end: Timestamp
        public var durationMillis: Int64 { end - start }
    }

    public let id: String
    public let name: String
    public let timeZoneIdentifier: String
    public let layers: [Layer]
    public internal(set) var overrides: [Override]
    /// Minutes before a shift starts that its person is reminded (S9 hand-off), through their notification rules;
    /// nil: no reminders.
    public let handoffReminderMinutes: Int?

    public init(id: String, name: String, timeZoneIdentifier: String, layers: [Layer], overrides: [Override] = [],
                handoffReminderMinutes: Int? = nil) {
        self.handoffReminderMinutes = handoffReminderMinutes
        self.id = id
        self.name = name
        self.timeZoneIdentifier = timeZoneIdentifier
        self.layers = layers
        self.overrides = overrides
    }

    var clock: ZoneClock { ZoneClock(identifier: timeZoneIdentifier)! }

    /// Who is on call at an instant: the newest override, else the highest active layer.
    public func onCall(at instant: Timestamp) -> String? {
        if let override = overrides.last(where: { $0.start <= instant && instant < $0.end }) { return override.personID }
        let clock = self.clock
        for layer in layers.reversed() {
            if let user = layer.user(at: instant, clock: clock) { return user }
        }
        return nil
    }

    /// The final merged timeline over [from, to): overrides over layers, adjacent turns of the
    /// same person joined, and times when nobody is on call left out.
    public func finalTimeline(from: Timestamp, to: Timestamp) -> [Shift] {
        guard from < to else { return [] }
        let clock = self.clock
        var points = Set<Timestamp>([from])
        for layer in layers {
            for point in layer.boundaries(from: from, to: to, clock: clock) { points.insert(point) }
        }
        for override in overrides {
            if override.start > from && override.start < to { points.insert(override.start) }
            if override.end > from && override.end < to { points.insert(override.end) }
        }
        let sorted = points.sorted()
        var shifts: [Shift] = []
        for (index, start) in sorted.enumerated() {
            let end = index + 1 < sorted.count ? sorted[index + 1] : to
            guard let person = onCall(at: start) else { continue }
            if let last = shifts.last, last.personID == person, last.end == start {
                shifts[shifts.count - 1] = Shift(personID: person, start: last.start, end: end)
            } else {
                shifts.append(Shift(personID: person, start: start, end: end))
            }
        }
        return shifts
    }

    /// The turns of one layer alone (restrictions applied, no overrides), for inspection.
    public func layerShifts(_ layerIndex: Int, from: Timestamp, to: Timestamp) -> [Shift] {
        let single = OnCallSchedule(id: id, name: name, timeZoneIdentifier: timeZoneIdentifier, layers: [layers[layerIndex]])
        return single.finalTimelineUnmerged(from: from, to: to)
    }

    /// Like `finalTimeline` but keeps consecutive turns apart even when the same person follows.
    func finalTimelineUnmerged(from: Timestamp, to: Timestamp) -> [Shift] {
        guard from < to else { return [] }
        let clock = self.clock
        var turnStarts = Set<Timestamp>()
        var points = Set<Timestamp>([from])
        for layer in layers {
            var index = layer.shiftIndex(at: from, clock: clock) ?? 0
            while true {
                let start = layer.shiftStart(index, clock: clock)
                if start >= to { break }
                if start >= from { turnStarts.insert(start) }
                index += 1
            }
            for point in layer.boundaries(from: from, to: to, clock: clock) { points.insert(point) }
        }
        let sorted = points.sorted()
        var shifts: [Shift] = []
        for (index, start) in sorted.enumerated() {
            let end = index + 1 < sorted.count ? sorted[index + 1] : to
            guard let person = onCall(at: start) else { continue }
            if let last = shifts.last, last.personID == person, last.end == start, !turnStarts.contains(start) {
                shifts[shifts.count - 1] = Shift(personID: person, start: last.start, end: end)
            } else {
                shifts.append(Shift(personID: person, start: start, end: end))
            }
        }
        return shifts
    }

    /// The next `count` shifts that start after `instant` (the one running at `instant` is `onCall`).
    public func nextShifts(after instant: Timestamp, count: Int) -> [Shift] {
        guard count > 0 else { return [] }
        var spanDays: Int64 = 7
        while true {
            let end = instant + spanDays * Millis.day
            let shifts = finalTimeline(from: instant, to: end).filter { $0.start > instant }
            // The last shift may be cut off by the horizon; only trust it once a later one exists.
            if shifts.count > count { return Array(shifts.prefix(count)) }
            if spanDays >= Int64(DutyLimits.maxScheduleSpanDays) { return Array(shifts.prefix(count)) }
            spanDays = min(spanDays * 2, Int64(DutyLimits.maxScheduleSpanDays))
        }
    }

    func validate(people: [String: Person]) -> DutyError? {
        if let error = Validate.identifier(id, field: "schedule.id") { return error }
        if let error = Validate.title(name, field: "schedule.name") { return error }
        if ZoneClock(identifier: timeZoneIdentifier) == nil {
            return .invalid("schedule.timeZoneIdentifier", "unknown time zone '\(timeZoneIdentifier)'")
        }
        if layers.isEmpty { return .invalid("schedule.layers", "a schedule needs at least one layer") }
        if let minutes = handoffReminderMinutes, !(1...10_080).contains(minutes) {
            return .invalid("schedule.handoffReminderMinutes", "must be 1…10080 (a week)")
        }
        if layers.count > DutyLimits.maxLayersPerSchedule { return .limit("schedule.layers", "at most \(DutyLimits.maxLayersPerSchedule)") }
        if overrides.count > DutyLimits.maxOverridesPerSchedule {
            return .limit("schedule.overrides", "at most \(DutyLimits.maxOverridesPerSchedule)")
        }
        for (index, layer) in layers.enumerated() {
            let field = "schedule.layers[\(index)]"
            if let error = Validate.title(layer.name, field: "\(field).name") { return error }
            if layer.userIDs.isEmpty { return .invalid("\(field).userIDs", "a layer needs at least one person") }
            if layer.userIDs.count > DutyLimits.maxUsersPerLayer { return .limit("\(field).userIDs", "at most \(DutyLimits.maxUsersPerLayer)") }
            for (userIndex, user) in layer.userIDs.enumerated() where people[user] == nil {
                return .notFound("\(field).userIDs[\(userIndex)]", "no person '\(user)'")
            }
            switch layer.rotation {
            case .days(let days) where !(1...365).contains(days):
                return .invalid("\(field).rotation", "a rotation lasts 1–365 days")
            case .hours(let hours) where !(1...8760).contains(hours):
                return .invalid("\(field).rotation", "a rotation lasts 1–8760 hours")
            default: break
            }
            if !layer.startDate.isValid { return .invalid("\(field).startDate", "'\(layer.startDate)' is not a valid date") }
            // Wider years would overflow the day and millisecond arithmetic of every shift computation.
            if !(1970...9999).contains(layer.startDate.year) { return .invalid("\(field).startDate", "the year must be 1970…9999") }
            if let endsAt = layer.endsAt, let error = Validate.timestamp(endsAt, field: "\(field).endsAt") { return error }
            if !(0..<1440).contains(layer.handoffMinute) { return .invalid("\(field).handoffMinute", "must be 0…1439") }
            if layer.restrictions.count > DutyLimits.maxRestrictionsPerLayer {
                return .limit("\(field).restrictions", "at most \(DutyLimits.maxRestrictionsPerLayer)")
            }
            for (restrictionIndex, restriction) in layer.restrictions.enumerated() {
                let restrictionField = "\(field).restrictions[\(restrictionIndex)]"
                if !(0..<1440).contains(restriction.startMinute) || !(0...1440).contains(restriction.endMinute)
                    || restriction.startMinute == restriction.endMinute {
                    return .invalid(restrictionField, "needs startMinute 0…1439, endMinute 0…1440, and they must differ")
                }
                if restriction.isoWeekdays.contains(where: { !(1...7).contains($0) }) {
                    return .invalid("\(restrictionField).isoWeekdays", "weekdays are 1 (Monday) … 7 (Sunday)")
                }
            }
        }
        for (index, override) in overrides.enumerated() {
            if let error = Self.validate(override, people: people, field: "schedule.overrides[\(index)]") { return error }
        }
        return nil
    }

    static func validate(_ override: Override, people: [String: Person], field: String) -> DutyError? {
        if people[override.personID] == nil { return .notFound("\(field).personID", "no person '\(override.personID)'") }
        if let error = Validate.timestamp(override.start, field: "\(field).start") ?? Validate.timestamp(override.end, field: "\(field).end") {
            return error
        }
        if override.end <= override.start { return .invalid("\(field).end", "must be after start") }
        if override.end - override.start > Int64(DutyLimits.maxScheduleSpanDays) * Millis.day {
            return .limit("\(field).end", "an override lasts at most \(DutyLimits.maxScheduleSpanDays) days")
        }
        return nil
    }
}
