/// Working hours in a time zone, minus holidays; SLA targets may be counted in its business time.
public struct BusinessCalendar: Codable, Sendable, Equatable {
    /// One weekly working window, e.g. Monday 09:00–18:00 (end minute exclusive, at most 1440).
    public struct WorkingWindow: Codable, Sendable, Equatable, Comparable {
        public let isoWeekday: Int
        public let startMinute: Int
        public let endMinute: Int
        public init(isoWeekday: Int, startMinute: Int, endMinute: Int) {
            self.isoWeekday = isoWeekday
            self.startMinute = startMinute
            self.endMinute = endMinute
        }
        public static func < (lhs: WorkingWindow, rhs: WorkingWindow) -> Bool {
            (lhs.isoWeekday, lhs.startMinute, lhs.endMinute) < (rhs.isoWeekday, rhs.startMinute, rhs.endMinute)
        }
    }

    public let id: String
    public let timeZoneIdentifier: String
    public let windows: [WorkingWindow]
    public let holidays: [LocalDate]

    public init(id: String, timeZoneIdentifier: String, windows: [WorkingWindow], holidays: [LocalDate] = []) {
        self.id = id
        self.timeZoneIdentifier = timeZoneIdentifier
        // Stored sorted so that two equal calendars encode to the same bytes.
        self.windows = windows.sorted()
        self.holidays = Array(Set(holidays)).sorted()
    }

    /// Monday–Friday, the same hours every day.
    public static func weekdays(id: String, timeZoneIdentifier: String, startMinute: Int, endMinute: Int, holidays: [LocalDate] = []) -> BusinessCalendar {
        BusinessCalendar(id: id, timeZoneIdentifier: timeZoneIdentifier,
                         windows: (1...5).map { WorkingWindow(isoWeekday: $0, startMinute: startMinute, endMinute: endMinute) },
                         holidays: holidays)
    }

    func validate() -> DutyError? {
        if let error = Validate.identifier(id, field: "calendar.id") { return error }
        guard ZoneClock(identifier: timeZoneIdentifier) != nil else {
            return .invalid("calendar.timeZoneIdentifier", "unknown time zone '\(timeZoneIdentifier)'")
        }
        if windows.isEmpty { return .invalid("calendar.windows", "a calendar needs at least one working window") }
        if windows.count > DutyLimits.maxWorkingWindowsPerCalendar {
            return .limit("calendar.windows", "at most \(DutyLimits.maxWorkingWindowsPerCalendar) windows")
        }
        if holidays.count > DutyLimits.maxHolidaysPerCalendar {
            return .limit("calendar.holidays", "at most \(DutyLimits.maxHolidaysPerCalendar) holidays")
        }
        for (index, window) in windows.enumerated() {
            guard (1...7).contains(window.isoWeekday) else {
                return .invalid("calendar.windows[\(index)].isoWeekday", "must be 1 (Monday) … 7 (Sunday)")
            }
            guard window.startMinute >= 0, window.endMinute <= 1440, window.startMinute < window.endMinute else {
                return .invalid("calendar.windows[\(index)]", "needs 0 ≤ startMinute < endMinute ≤ 1440")
            }
            if index > 0, windows[index - 1].isoWeekday == window.isoWeekday, windows[index - 1].endMinute > window.startMinute {
                return .invalid("calendar.windows[\(index)]", "overlaps the previous window on the same weekday")
            }
        }
        for (index, holiday) in holidays.enumerated() where !holiday.isValid {
            return .invalid("calendar.holidays[\(index)]", "'\(holiday)' is not a valid date")
        }
        return nil
    }

    private var clock: ZoneClock { ZoneClock(identifier: timeZoneIdentifier)! }

    /// Working intervals (instants) overlapping [from, to), in order, exact across DST changes.
    func workingIntervals(from: Timestamp, to: Timestamp, clock: ZoneClock) -> [(Timestamp, Timestamp)] {
        var result: [(Timestamp, Timestamp)] = []
        for segment in clock.segments(from: from, to: to) {
            // Within a segment the wall clock is instant + offset, a straight line.
            let wallStart = segment.start + segment.offset
            let wallEnd = segment.end + segment.offset
            var day = floorDiv(wallStart, Millis.day)
            let lastDay = floorDiv(wallEnd - 1, Millis.day)
            while day <= lastDay {
                let date = LocalDate(daysSinceEpoch: day)
                if holidays.isEmpty || !isHoliday(date) {
                    let weekday = date.isoWeekday
                    for window in windows where window.isoWeekday == weekday {
                        let start = max(day * Millis.day + Int64(window.startMinute) * Millis.minute, wallStart)
                        let end = min(day * Millis.day + Int64(window.endMinute) * Millis.minute, wallEnd)
                        if start < end {
                            let interval = (start - segment.offset, end - segment.offset)
                            // Windows ending at 24:00 meet the next day's 00:00 window: join them.
                            if let last = result.last, last.1 == interval.0 {
                                result[result.count - 1].1 = interval.1
                            } else {
                                result.append(interval)
                            }
                        }
                    }
                }
                day += 1
            }
        }
        return result
    }

    private func isHoliday(_ date: LocalDate) -> Bool {
        var low = 0, high = holidays.count
        while low < high {
            let mid = (low + high) / 2
            if holidays[mid] < date { low = mid + 1 } else { high = mid }
        }
        return low < holidays.count && holidays[low] == date
    }

    /// Business milliseconds elapsed in [from, to).
    public func businessMillis(from: Timestamp, to: Timestamp) -> Int64 {
        guard from < to else { return 0 }
        return workingIntervals(from: from, to: to, clock: clock).reduce(0) { $0 + ($1.1 - $1.0) }
    }

    /// The instant at which `millis` of business time have elapsed after `from`; nil if the
    /// calendar has no working time within the search horizon.
    public func adding(businessMillis millis: Int64, to from: Timestamp) -> Timestamp? {
        let clock = self.clock
        var remaining = millis
        var chunkStart = from
        let horizon = from + Int64(DutyLimits.maxBusinessSearchDays) * Millis.day
        if remaining <= 0 { return from }
        while chunkStart < horizon {
            let chunkEnd = chunkStart + 14 * Millis.day
            for (start, end) in workingIntervals(from: chunkStart, to: chunkEnd, clock: clock) {
                let length = end - start
                if remaining <= length { return start + remaining }
                remaining -= length
            }
            chunkStart = chunkEnd
        }
        return nil
    }
}

extension BusinessCalendar {
    /// Decoded calendars go through the sorting initialiser, so validation and the holiday search
    /// see sorted windows and holidays whatever order a client sent.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(id: try container.decode(String.self, forKey: .id),
                  timeZoneIdentifier: try container.decode(String.self, forKey: .timeZoneIdentifier),
                  windows: try container.decode([WorkingWindow].self, forKey: .windows),
                  holidays: try container.decode([LocalDate].self, forKey: .holidays))
    }
}
