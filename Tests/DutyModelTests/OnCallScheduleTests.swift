import Testing
@testable import DutyModel

@Suite struct OnCallScheduleTests {
    static let hour = Fixture.hour

    static func night(_ zone: String, users: [String] = ["bob"]) -> OnCallSchedule {
        OnCallSchedule(id: "night", name: "Night", timeZoneIdentifier: zone, layers: [
            .init(name: "nights", userIDs: users, rotation: .daily, startDate: LocalDate(year: 2026, month: 1, day: 1),
                  handoffMinute: 22 * 60, restrictions: [.init(startMinute: 22 * 60, endMinute: 6 * 60)]),
        ])
    }

    /// The night shift 22:00 → 06:00 starting on the given local date lasts this many minutes.
    static let nightTable: [(String, LocalDate, Int64)] = [
        ("Europe/Berlin", LocalDate(year: 2026, month: 3, day: 21), 480),
        ("Europe/Berlin", LocalDate(year: 2026, month: 3, day: 28), 420),
        ("Europe/Berlin", LocalDate(year: 2026, month: 10, day: 24), 540),
        ("America/New_York", LocalDate(year: 2026, month: 3, day: 7), 420),
        ("America/New_York", LocalDate(year: 2026, month: 10, day: 31), 540),
        ("America/New_York", LocalDate(year: 2026, month: 7, day: 1), 480),
        ("Asia/Shanghai", LocalDate(year: 2026, month: 3, day: 28), 480),
        ("Asia/Shanghai", LocalDate(year: 2026, month: 10, day: 24), 480),
        ("Australia/Lord_Howe", LocalDate(year: 2026, month: 4, day: 4), 510),
        ("Australia/Lord_Howe", LocalDate(year: 2026, month: 10, day: 3), 450),
        ("Australia/Lord_Howe", LocalDate(year: 2026, month: 6, day: 10), 480),
    ]

    @Test(arguments: nightTable)
    func nightShiftAcrossDSTKeepsItsWallClockTimes(zone: String, date: LocalDate, minutes: Int64) throws {
        let schedule = Self.night(zone)
        let clock = try #require(ZoneClock(identifier: zone))
        let noon = clock.firstInstant(onOrAfterWall: date, minuteOfDay: 12 * 60)
        let shifts = schedule.finalTimeline(from: noon, to: noon + 24 * Self.hour)
        try #require(shifts.count == 1)
        let shift = shifts[0]
        #expect(shift.durationMillis == minutes * Fixture.minute)
        #expect(clock.minuteOfDay(at: shift.start) == 22 * 60, "never shifted by an hour")
        #expect(clock.localDate(at: shift.start) == date)
        #expect(clock.minuteOfDay(at: shift.end) == 6 * 60)
        #expect(clock.localDate(at: shift.end) == date.adding(days: 1))
        #expect(schedule.onCall(at: shift.start) == "bob")
        #expect(schedule.onCall(at: shift.start - 1) == nil)
        #expect(schedule.onCall(at: shift.end) == nil)
    }

    /// A daily hand-off at 09:00 stays at 09:00; the day of the change is shorter or longer.
    static let handoffTable: [(String, LocalDate, Int64)] = [
        ("Europe/Berlin", LocalDate(year: 2026, month: 3, day: 28), 23 * 60),
        ("Europe/Berlin", LocalDate(year: 2026, month: 10, day: 24), 25 * 60),
        ("America/New_York", LocalDate(year: 2026, month: 3, day: 7), 23 * 60),
        ("America/New_York", LocalDate(year: 2026, month: 10, day: 31), 25 * 60),
        ("Asia/Shanghai", LocalDate(year: 2026, month: 3, day: 28), 24 * 60),
        ("Australia/Lord_Howe", LocalDate(year: 2026, month: 4, day: 4), 24 * 60 + 30),
        ("Australia/Lord_Howe", LocalDate(year: 2026, month: 10, day: 3), 24 * 60 - 30),
    ]

    @Test(arguments: handoffTable)
    func dailyHandoffAcrossDST(zone: String, date: LocalDate, minutes: Int64) throws {
        let schedule = OnCallSchedule(id: "d", name: "Daily", timeZoneIdentifier: zone, layers: [
            .init(name: "l", userIDs: ["bob", "carol"], rotation: .daily, startDate: LocalDate(year: 2026, month: 1, day: 1), handoffMinute: 9 * 60),
        ])
        let clock = try #require(ZoneClock(identifier: zone))
        let start = clock.firstInstant(onOrAfterWall: date, minuteOfDay: 9 * 60)
        let shifts = schedule.layerShifts(0, from: start, to: start + 3 * 24 * Self.hour)
        #expect(shifts.first?.durationMillis == minutes * Fixture.minute)
        for shift in shifts.dropLast() {
            #expect(clock.minuteOfDay(at: shift.start) == 9 * 60)
            #expect(clock.minuteOfDay(at: shift.end) == 9 * 60)
        }
        #expect(Set(shifts.prefix(2).map(\.personID)) == ["bob", "carol"])
    }

    @Test func handoffInsideTheRepeatedHourDoesNotFlipBack() throws {
        // 02:30 happens twice in Berlin on 2026-10-25; the turn changes at the first one and stays.
        let schedule = OnCallSchedule(id: "d", name: "Daily", timeZoneIdentifier: "Europe/Berlin", layers: [
            .init(name: "l", userIDs: ["bob", "carol"], rotation: .daily, startDate: LocalDate(year: 2026, month: 10, day: 20), handoffMinute: 150),
        ])
        let clock = try #require(ZoneClock(identifier: "Europe/Berlin"))
        let from = clock.firstInstant(onOrAfterWall: LocalDate(year: 2026, month: 10, day: 24), minuteOfDay: 150)
        let shifts = schedule.layerShifts(0, from: from, to: from + 3 * 24 * Self.hour)
        #expect(shifts.map(\.durationMillis).prefix(2) == [24 * Self.hour, 25 * Self.hour])
        for (a, b) in zip(shifts, shifts.dropFirst()) { #expect(a.personID != b.personID) }
    }

    @Test func laterLayersAndOverridesWin() throws {
        let start = LocalDate(year: 2026, month: 3, day: 2)
        var schedule = OnCallSchedule(id: "s", name: "S", timeZoneIdentifier: "UTC", layers: [
            .init(name: "base", userIDs: ["bob"], rotation: .weekly, startDate: start, handoffMinute: 0),
            .init(name: "business", userIDs: ["carol"], rotation: .weekly, startDate: start, handoffMinute: 0,
                  restrictions: [.init(isoWeekdays: [1, 2, 3, 4, 5], startMinute: 9 * 60, endMinute: 17 * 60)]),
        ])
        let monday = start.daysSinceEpoch * 86_400_000
        #expect(schedule.onCall(at: monday + 8 * Self.hour) == "bob")
        #expect(schedule.onCall(at: monday + 10 * Self.hour) == "carol")
        #expect(schedule.onCall(at: monday + 5 * 24 * Self.hour + 10 * Self.hour) == "bob", "Saturday is not restricted to carol")
        schedule.overrides.append(.init(personID: "dave", start: monday + 9 * Self.hour, end: monday + 12 * Self.hour))
        #expect(schedule.onCall(at: monday + 10 * Self.hour) == "dave")
        let timeline = schedule.finalTimeline(from: monday, to: monday + 24 * Self.hour)
        #expect(timeline.map(\.personID) == ["bob", "dave", "carol", "bob"])
        #expect(timeline.map { ($0.start - monday) / Self.hour } == [0, 9, 12, 17])
        let next = schedule.nextShifts(after: monday + 10 * Self.hour, count: 3)
        #expect(next.map(\.personID) == ["carol", "bob", "carol"])
        #expect(next.first?.start == monday + 12 * Self.hour)
    }

    @Test func invalidSchedulesAreRejected() throws {
        var state = try Fixture.state()
        let date = LocalDate(year: 2026, month: 3, day: 1)
        let cases: [(OnCallSchedule, String)] = [
            (OnCallSchedule(id: "x", name: "X", timeZoneIdentifier: "Nowhere/City", layers: [.init(name: "l", userIDs: ["bob"], rotation: .daily, startDate: date, handoffMinute: 0)]), "schedule.timeZoneIdentifier"),
            (OnCallSchedule(id: "x", name: "X", timeZoneIdentifier: "UTC", layers: []), "schedule.layers"),
            (OnCallSchedule(id: "x", name: "X", timeZoneIdentifier: "UTC", layers: [.init(name: "l", userIDs: ["zed"], rotation: .daily, startDate: date, handoffMinute: 0)]), "schedule.layers[0].userIDs[0]"),
            (OnCallSchedule(id: "x", name: "X", timeZoneIdentifier: "UTC", layers: [.init(name: "l", userIDs: ["bob"], rotation: .days(0), startDate: date, handoffMinute: 0)]), "schedule.layers[0].rotation"),
            (OnCallSchedule(id: "x", name: "X", timeZoneIdentifier: "UTC", layers: [.init(name: "l", userIDs: ["bob"], rotation: .daily, startDate: date, handoffMinute: 1440)]), "schedule.layers[0].handoffMinute"),
            (OnCallSchedule(id: "x", name: "X", timeZoneIdentifier: "UTC", layers: [.init(name: "l", userIDs: ["bob"], rotation: .daily, startDate: date, handoffMinute: 0, restrictions: [.init(startMinute: 60, endMinute: 60)])]), "schedule.layers[0].restrictions[0]"),
        ]
        for (schedule, field) in cases {
            #expect(Fixture.failure(&state, .upsertSchedule(schedule), at: Fixture.t0)?.field == field)
        }
        let override = OnCallSchedule.Override(personID: "bob", start: Fixture.t0, end: Fixture.t0)
        #expect(Fixture.failure(&state, .addScheduleOverride(scheduleID: "primary", override: override), at: Fixture.t0)?.field == "override.end")
    }

    /// Property: a rotation's turns tile time exactly — no gaps, no overlaps — in every zone,
    /// for every rotation length and hand-off time, and agree with `onCall(at:)`.
    @Test(arguments: 0..<40)
    func rotationsHaveNoGapsOrOverlaps(seed: Int) throws {
        var random = SplitMix64(seed: UInt64(seed) &+ 1000)
        let zones = ["Europe/Berlin", "America/New_York", "Asia/Shanghai", "Australia/Lord_Howe"]
        let zone = zones[random.next(below: zones.count)]
        let rotations: [OnCallSchedule.RotationLength] = [.daily, .weekly, .days(1 + random.next(below: 14)), .hours(1 + random.next(below: 48))]
        let rotation = rotations[random.next(below: rotations.count)]
        let users = Array(["bob", "carol", "dave", "erin"].prefix(1 + random.next(below: 4)))
        let handoff = random.next(below: 96) * 15
        let startDate = LocalDate(year: 2026, month: 1 + random.next(below: 10), day: 1 + random.next(below: 28))
        let schedule = OnCallSchedule(id: "p", name: "P", timeZoneIdentifier: zone, layers: [
            .init(name: "l", userIDs: users, rotation: rotation, startDate: startDate, handoffMinute: handoff),
        ])
        let clock = try #require(ZoneClock(identifier: zone))
        let from = clock.firstInstant(onOrAfterWall: startDate, minuteOfDay: handoff) + Int64(random.next(below: 100 * 24)) * Self.hour
        let to = from + 60 * 24 * Self.hour
        let shifts = schedule.layerShifts(0, from: from, to: to)
        try #require(!shifts.isEmpty)
        #expect(shifts.first?.start == from)
        #expect(shifts.last?.end == to)
        for (a, b) in zip(shifts, shifts.dropFirst()) {
            #expect(a.end == b.start, "\(zone) \(rotation): gap or overlap at \(a.end)/\(b.start)")
            if users.count > 1 { #expect(a.personID != b.personID) }
        }
        for shift in shifts.dropFirst().dropLast() {
            switch rotation {
            case .hours(let hours):
                #expect(shift.durationMillis == Int64(hours) * Self.hour)
            default:
                let nominal = Int64(rotation == .weekly ? 7 : (rotation == .daily ? 1 : { if case .days(let d) = rotation { return d }; return 0 }())) * 24 * Self.hour
                #expect(abs(shift.durationMillis - nominal) <= Self.hour, "\(zone): a turn differs from its nominal length by at most the DST change")
            }
        }
        for _ in 0..<50 {
            let instant = from + Int64(random.next(below: Int(to - from)))
            let containing = shifts.first { $0.start <= instant && instant < $0.end }
            #expect(containing?.personID == schedule.onCall(at: instant))
        }
    }
}

@Suite struct ScheduleCommandTests {
    @Test func overridesAddedThroughCommandsChangeWhoIsPaged() throws {
        var state = try Fixture.state()
        let t0 = Fixture.t0
        #expect(state.schedules["primary"]?.onCall(at: t0 + Fixture.hour) == "bob")
        try Fixture.ok(&state, .addScheduleOverride(scheduleID: "primary", override: .init(personID: "dave", start: t0, end: t0 + 2 * Fixture.hour)), at: t0)
        #expect(state.schedules["primary"]?.onCall(at: t0 + Fixture.hour) == "dave")
        let id = try Fixture.register(&state, kind: .emergency, priority: .p1, service: "web", at: t0 + Fixture.hour)
        #expect(state.nextDueStep(id)?.personIDs == ["dave"], "the on-call at the due time is paged")
        let next = try #require(state.schedules["primary"]?.nextShifts(after: t0 + Fixture.hour, count: 3))
        #expect(next.map(\.personID) == ["bob", "carol", "bob"])
        #expect(next.first?.start == t0 + 2 * Fixture.hour)
        #expect(next.dropFirst().first?.start == t0 + 9 * Fixture.hour)

        // Removed, the layer's person is on call again; removing it twice, or from no schedule, changes nothing.
        let override = OnCallSchedule.Override(personID: "dave", start: t0, end: t0 + 2 * Fixture.hour)
        let onCallBefore = state.schedules["primary"]?.onCall(at: t0 + Fixture.hour)
        try Fixture.ok(&state, .removeScheduleOverride(scheduleID: "primary", override: override), at: t0 + Fixture.hour)
        #expect(state.schedules["primary"]?.overrides == [])
        #expect(state.schedules["primary"]?.onCall(at: t0 + Fixture.hour) != onCallBefore)
        #expect(Fixture.failure(&state, .removeScheduleOverride(scheduleID: "primary", override: override), at: t0)?.field == "override")
        #expect(Fixture.failure(&state, .removeScheduleOverride(scheduleID: "nope", override: override), at: t0)?.field == "scheduleID")
    }
}
