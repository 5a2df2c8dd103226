import Foundation
import Testing
@testable import DutyModel

/// An independent, slow reference: is this instant business time? Uses Foundation's Calendar,
/// not the model's civil arithmetic.
private func naiveIsWorking(_ calendar: BusinessCalendar, _ instant: Timestamp) -> Bool {
    var gregorian = Calendar(identifier: .gregorian)
    gregorian.timeZone = TimeZone(identifier: calendar.timeZoneIdentifier)!
    let parts = gregorian.dateComponents([.year, .month, .day, .weekday, .hour, .minute],
                                         from: Date(timeIntervalSince1970: Double(instant) / 1000))
    let date = LocalDate(year: parts.year!, month: parts.month!, day: parts.day!)
    if calendar.holidays.contains(date) { return false }
    let isoWeekday = (parts.weekday! + 5) % 7 + 1
    let minute = parts.hour! * 60 + parts.minute!
    return calendar.windows.contains { $0.isoWeekday == isoWeekday && minute >= $0.startMinute && minute < $0.endMinute }
}

@Suite struct BusinessCalendarTests {
    static let zones = ["Europe/Berlin", "America/New_York", "Asia/Shanghai", "Australia/Lord_Howe", "UTC"]
    /// Instants 36 h after each 2026 DST change of a zone, so a 4-day walk starting up to
    /// 72 h earlier spends its time where the bugs live.
    static func hotSpots(_ zone: String) -> [Timestamp] {
        let timeZone = TimeZone(identifier: zone)!
        var date = Date(timeIntervalSince1970: 1_767_225_600)
        var result: [Timestamp] = []
        for _ in 0..<2 {
            guard let next = timeZone.nextDaylightSavingTimeTransition(after: date) else { break }
            result.append(Int64(next.timeIntervalSince1970) * 1000 + 36 * Fixture.hour)
            date = next
        }
        return result.isEmpty ? [Fixture.t0] : result
    }

    @Test func fridayEveningPlusTwoWorkingHoursIsMondayMorning() throws {
        let calendar = BusinessCalendar.weekdays(id: "cn", timeZoneIdentifier: "Asia/Shanghai", startMinute: 540, endMinute: 1080)
        // Friday 2026-03-06 17:00 in Shanghai is 09:00 UTC.
        let friday1700 = LocalDate(year: 2026, month: 3, day: 6).daysSinceEpoch * 86_400_000 + 9 * Fixture.hour
        let due = try #require(calendar.adding(businessMillis: 2 * Fixture.hour, to: friday1700))
        let monday1000 = LocalDate(year: 2026, month: 3, day: 9).daysSinceEpoch * 86_400_000 + 2 * Fixture.hour
        #expect(due == monday1000)
        #expect(calendar.businessMillis(from: friday1700, to: monday1000) == 2 * Fixture.hour)
    }

    @Test func holidaysAreSkipped() throws {
        let calendar = BusinessCalendar.weekdays(id: "cn", timeZoneIdentifier: "Asia/Shanghai", startMinute: 540, endMinute: 1080,
                                                 holidays: [LocalDate(year: 2026, month: 3, day: 9)])
        let friday1700 = LocalDate(year: 2026, month: 3, day: 6).daysSinceEpoch * 86_400_000 + 9 * Fixture.hour
        let due = try #require(calendar.adding(businessMillis: 2 * Fixture.hour, to: friday1700))
        #expect(due == LocalDate(year: 2026, month: 3, day: 10).daysSinceEpoch * 86_400_000 + 2 * Fixture.hour)
    }

    @Test func springForwardDayHasOneHourLessOvernight() throws {
        // A 00:00–06:00 window in Berlin on 2026-03-29 holds only 5 real hours.
        let calendar = BusinessCalendar(id: "night", timeZoneIdentifier: "Europe/Berlin",
                                        windows: [.init(isoWeekday: 7, startMinute: 0, endMinute: 360)])
        let start = LocalDate(year: 2026, month: 3, day: 28).daysSinceEpoch * 86_400_000
        #expect(calendar.businessMillis(from: start, to: start + 2 * 86_400_000) == 5 * Fixture.hour)
    }

    @Test func invalidCalendarsAreRejected() {
        let cases: [(BusinessCalendar, String)] = [
            (BusinessCalendar(id: "x", timeZoneIdentifier: "Mars/Olympus", windows: [.init(isoWeekday: 1, startMinute: 0, endMinute: 60)]), "calendar.timeZoneIdentifier"),
            (BusinessCalendar(id: "x", timeZoneIdentifier: "UTC", windows: []), "calendar.windows"),
            (BusinessCalendar(id: "x", timeZoneIdentifier: "UTC", windows: [.init(isoWeekday: 8, startMinute: 0, endMinute: 60)]), "calendar.windows[0].isoWeekday"),
            (BusinessCalendar(id: "x", timeZoneIdentifier: "UTC", windows: [.init(isoWeekday: 1, startMinute: 60, endMinute: 60)]), "calendar.windows[0]"),
            (BusinessCalendar(id: "x", timeZoneIdentifier: "UTC", windows: [.init(isoWeekday: 1, startMinute: 0, endMinute: 120), .init(isoWeekday: 1, startMinute: 60, endMinute: 180)]), "calendar.windows[1]"),
            (BusinessCalendar(id: "x", timeZoneIdentifier: "UTC", windows: [.init(isoWeekday: 1, startMinute: 0, endMinute: 60)], holidays: [LocalDate(year: 2026, month: 2, day: 30)]), "calendar.holidays[0]"),
        ]
        for (calendar, field) in cases { #expect(calendar.validate()?.field == field) }
    }

    /// Property: the interval arithmetic agrees minute by minute with the naive reference,
    /// in zones with 1-hour and 30-minute DST changes, with random windows and holidays.
    @Test(arguments: 0..<24)
    func agreesWithMinuteByMinuteReference(seed: Int) throws {
        var random = SplitMix64(seed: UInt64(seed) &* 7919 &+ 17)
        let zone = Self.zones[random.next(below: Self.zones.count)]
        var windows: [BusinessCalendar.WorkingWindow] = []
        for weekday in 1...7 where random.next(below: 4) != 0 {
            var cursor = random.next(below: 8) * 30
            for _ in 0..<(1 + random.next(below: 3)) {
                let start = cursor + random.next(below: 12) * 15
                let end = min(1440, start + 15 + random.next(below: 40) * 15)
                if start >= 1440 || start >= end { break }
                windows.append(.init(isoWeekday: weekday, startMinute: start, endMinute: end))
                cursor = end
            }
        }
        if windows.isEmpty { windows = [.init(isoWeekday: 1, startMinute: 0, endMinute: 1440)] }
        let spots = Self.hotSpots(zone)
        let base = spots[random.next(below: spots.count)] - Int64(random.next(below: 72 * 60)) * Fixture.minute
        let holidays = (0..<random.next(below: 3)).map { _ in
            LocalDate(daysSinceEpoch: base / 86_400_000 + Int64(random.next(below: 4)))
        }
        let calendar = BusinessCalendar(id: "random", timeZoneIdentifier: zone, windows: windows, holidays: holidays)
        #expect(calendar.validate() == nil)

        let minutes = 60 * 24 * 4
        var workingPrefix = [0]
        for step in 0..<minutes {
            workingPrefix.append(workingPrefix.last! + (naiveIsWorking(calendar, base + Int64(step) * Fixture.minute) ? 1 : 0))
        }
        for _ in 0..<20 {
            let a = random.next(below: minutes)
            let b = a + random.next(below: minutes - a + 1)
            let expected = Int64(workingPrefix[b] - workingPrefix[a]) * Fixture.minute
            let actual = calendar.businessMillis(from: base + Int64(a) * Fixture.minute, to: base + Int64(b) * Fixture.minute)
            #expect(actual == expected, "\(zone) [\(a), \(b)) minutes from \(base)")
        }
        // adding(): the due instant is the end of the k-th working minute after the start.
        for _ in 0..<10 {
            let a = random.next(below: minutes / 2)
            let available = workingPrefix[minutes] - workingPrefix[a]
            guard available > 0 else { continue }
            let k = 1 + random.next(below: available)
            let endMinute = (a..<minutes).first { workingPrefix[$0 + 1] - workingPrefix[a] == k }!
            let due = calendar.adding(businessMillis: Int64(k) * Fixture.minute, to: base + Int64(a) * Fixture.minute)
            #expect(due == base + Int64(endMinute + 1) * Fixture.minute, "\(zone) +\(k) working minutes")
        }
    }
}
