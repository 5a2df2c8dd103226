/// One running SLA target on one ticket; pauses while waiting for the customer.
public struct SLAClock: Codable, Sendable, Equatable {
    public let target: SLATarget
    public let clockMode: ClockMode
    public let targetMillis: Int64
    public let warningThresholdPercent: Int
    /// Target time not yet used up, as of `runningSince` (or of the pause).
    public internal(set) var remainingMillis: Int64
    public internal(set) var runningSince: Timestamp?
    /// Deadlines are computed when the clock (re)starts so that queries need no calendar maths.
    public internal(set) var dueAt: Timestamp?
    public internal(set) var warnAt: Timestamp?
    public internal(set) var stoppedAt: Timestamp?
    public internal(set) var warnedAt: Timestamp?
    public internal(set) var breachedAt: Timestamp?
    public internal(set) var breachCount: Int

    public var isRunning: Bool { runningSince != nil }
    public var isStopped: Bool { stoppedAt != nil }
    public var isPaused: Bool { runningSince == nil && stoppedAt == nil }
    /// Nil while the clock still runs.
    public var met: Bool? { isStopped ? breachCount == 0 : nil }

    init(rule: SLAPolicy.Rule, warningThresholdPercent: Int, startedAt: Timestamp, calendar: BusinessCalendar?) {
        target = rule.target
        clockMode = rule.clockMode
        targetMillis = rule.targetSeconds * Millis.second
        self.warningThresholdPercent = warningThresholdPercent
        remainingMillis = targetMillis
        breachCount = 0
        run(from: startedAt, calendar: calendar)
    }

    /// Field-by-field, for the snapshot codec.
    init(target: SLATarget, clockMode: ClockMode, targetMillis: Int64, warningThresholdPercent: Int, remainingMillis: Int64,
         runningSince: Timestamp?, dueAt: Timestamp?, warnAt: Timestamp?, stoppedAt: Timestamp?, warnedAt: Timestamp?,
         breachedAt: Timestamp?, breachCount: Int) {
        self.target = target
        self.clockMode = clockMode
        self.targetMillis = targetMillis
        self.warningThresholdPercent = warningThresholdPercent
        self.remainingMillis = remainingMillis
        self.runningSince = runningSince
        self.dueAt = dueAt
        self.warnAt = warnAt
        self.stoppedAt = stoppedAt
        self.warnedAt = warnedAt
        self.breachedAt = breachedAt
        self.breachCount = breachCount
    }

    private func elapsed(from start: Timestamp, to end: Timestamp, calendar: BusinessCalendar?) -> Int64 {
        switch clockMode {
        case .calendarTime: return max(0, end - start)
        case .businessTime: return calendar?.businessMillis(from: start, to: end) ?? max(0, end - start)
        }
    }

    private func advance(_ start: Timestamp, by millis: Int64, calendar: BusinessCalendar?) -> Timestamp {
        switch clockMode {
        case .calendarTime: return start + millis
        case .businessTime:
            // A calendar without working time never comes due; Int64.max keeps it sortable.
            return calendar.map { $0.adding(businessMillis: millis, to: start) ?? Int64.max } ?? start + millis
        }
    }

    private mutating func run(from start: Timestamp, calendar: BusinessCalendar?) {
        runningSince = start
        dueAt = advance(start, by: remainingMillis, calendar: calendar)
        let warnElapsed = targetMillis * Int64(warningThresholdPercent) / 100
        let used = targetMillis - remainingMillis
        if warnedAt != nil {
            warnAt = nil
        } else if used >= warnElapsed {
            warnAt = start
        } else {
            warnAt = advance(start, by: warnElapsed - used, calendar: calendar)
        }
    }

    private mutating func noteOverdue(at instant: Timestamp) {
        if let dueAt, instant > dueAt, breachedAt != dueAt {
            breachedAt = dueAt
            breachCount += 1
        }
    }

    mutating func pause(at instant: Timestamp, calendar: BusinessCalendar?) {
        guard let since = runningSince else { return }
        noteOverdue(at: instant)
        remainingMillis = max(0, remainingMillis - elapsed(from: since, to: instant, calendar: calendar))
        runningSince = nil
        dueAt = nil
        warnAt = nil
    }

    mutating func resume(at instant: Timestamp, calendar: BusinessCalendar?) {
        guard isPaused else { return }
        run(from: instant, calendar: calendar)
    }

    /// Stops the clock for good (target reached); an overdue stop counts as a breach.
    mutating func stop(at instant: Timestamp) {
        guard !isStopped else { return }
        noteOverdue(at: instant)
        runningSince = nil
        dueAt = nil
        warnAt = nil
        stoppedAt = instant
    }

    /// Starts a fresh cycle (update interval after each customer update, or after a reopen).
    mutating func rearm(at instant: Timestamp, calendar: BusinessCalendar?) {
        noteOverdue(at: instant)
        stoppedAt = nil
        warnedAt = nil
        remainingMillis = targetMillis
        run(from: instant, calendar: calendar)
    }

    mutating func recordWarning(at instant: Timestamp) {
        warnedAt = instant
        warnAt = nil
    }

    /// Records the breach of the current cycle at its due time (the scheduler reports it late).
    mutating func recordBreach() {
        guard let dueAt, breachedAt != dueAt else { return }
        breachedAt = dueAt
        breachCount += 1
        // A warning after the breach would only be noise.
        warnAt = nil
    }

    /// Whether a breach for the current cycle is already on record.
    var breachRecordedForCurrentCycle: Bool {
        guard let breachedAt, let dueAt else { return false }
        return breachedAt == dueAt
    }
}
