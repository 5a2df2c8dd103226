import DutyModel

/// SLA clocks recomputed from a ticket's timeline by the rules the documentation gives users, to hold the model's
/// clocks to. The model keeps each clock as running state updated by every command; this walks what happened
/// instead, so a command path that forgets to stop, pause or re-arm a clock, or a warning recorded before its time,
/// shows up as a difference.
///
/// The rules: every clock of the ticket's priority starts when it is registered. The first acknowledgement or reply
/// stops first response; the initial solution stops its clock; reaching feedback stops all. Waiting for the
/// customer pauses every clock that runs, and the end of the wait resumes the paused ones. A customer-visible reply
/// on an open ticket starts a new update-interval cycle (paused at once while waiting); a reopening starts new
/// update-interval and resolution cycles. A cycle is due once it has run its target (business time on the policy's
/// calendar for business-time rules) and warns once it has run the policy's share of it; a stop, pause or new cycle
/// after the due time counts one breach.
struct SLAReference {
    /// One clock as the rules say it should be.
    struct Clock: Equatable {
        let target: SLATarget
        let mode: ClockMode
        let targetMillis: Int64
        let warnMillis: Int64
        /// Time run in this cycle before `runningSince`.
        var usedMillis: Int64 = 0
        var runningSince: Timestamp?
        var stoppedAt: Timestamp?
        var warnedAt: Timestamp?
        var breachCount = 0
        var breachedDue: Timestamp?

        func run(from start: Timestamp, for millis: Int64, calendar: BusinessCalendar?) -> Timestamp {
            switch mode {
            case .calendarTime: return start + millis
            case .businessTime: return calendar.map { $0.adding(businessMillis: millis, to: start) ?? Int64.max } ?? start + millis
            }
        }

        func ran(from start: Timestamp, to end: Timestamp, calendar: BusinessCalendar?) -> Int64 {
            switch mode {
            case .calendarTime: return max(0, end - start)
            case .businessTime: return calendar?.businessMillis(from: start, to: end) ?? max(0, end - start)
            }
        }

        func dueAt(calendar: BusinessCalendar?) -> Timestamp? {
            runningSince.map { run(from: $0, for: max(0, targetMillis - usedMillis), calendar: calendar) }
        }

        /// When this cycle's warning falls due: nil once warned, or while not running.
        func warnAt(calendar: BusinessCalendar?) -> Timestamp? {
            guard warnedAt == nil, let since = runningSince else { return nil }
            return usedMillis >= warnMillis ? since : run(from: since, for: warnMillis - usedMillis, calendar: calendar)
        }

        mutating func countBreach(at instant: Timestamp, calendar: BusinessCalendar?) {
            if let due = dueAt(calendar: calendar), instant > due, breachedDue != due {
                breachedDue = due
                breachCount += 1
            }
        }

        mutating func pause(at instant: Timestamp, calendar: BusinessCalendar?) {
            guard let since = runningSince else { return }
            countBreach(at: instant, calendar: calendar)
            usedMillis = min(targetMillis, usedMillis + ran(from: since, to: instant, calendar: calendar))
            runningSince = nil
        }

        mutating func resume(at instant: Timestamp) {
            guard runningSince == nil, stoppedAt == nil else { return }
            runningSince = instant
        }

        mutating func stop(at instant: Timestamp, calendar: BusinessCalendar?) {
            guard stoppedAt == nil else { return }
            countBreach(at: instant, calendar: calendar)
            runningSince = nil
            stoppedAt = instant
        }

        mutating func newCycle(at instant: Timestamp, calendar: BusinessCalendar?) {
            countBreach(at: instant, calendar: calendar)
            usedMillis = 0
            stoppedAt = nil
            warnedAt = nil
            runningSince = instant
        }
    }

    /// What differs between `ticket`'s clocks and the rules, or nil. Tickets whose timeline was trimmed are skipped
    /// (nil), as the walk needs all of it.
    static func mismatch(in ticket: Ticket, state: DutyState) -> String? {
        guard ticket.droppedTimelineEntries == 0,
              case let .registered(_, priority)? = ticket.timeline.first?.action,
              let policy = state.slaPolicy(ticket.slaPolicyID, version: ticket.slaPolicyVersion) else { return nil }
        let calendar = policy.calendarID.flatMap { state.calendars[$0] }
        var clocks = policy.rules(for: priority).map {
            Clock(target: $0.target, mode: $0.clockMode, targetMillis: $0.targetSeconds * 1_000,
                  warnMillis: $0.targetSeconds * 1_000 * Int64(policy.warningThresholdPercent) / 100)
        }
        var stage = TicketStage.registered
        var waiting = false
        func each(_ targets: Set<SLATarget>, _ body: (inout Clock) -> Void) {
            for index in clocks.indices where targets.contains(clocks[index].target) { body(&clocks[index]) }
        }
        let all = Set(SLATarget.allCases)
        for entry in ticket.timeline {
            let at = entry.at
            switch entry.action {
            case .registered:
                each(all) { $0.runningSince = at }
            case .acknowledged:
                each([.firstResponse]) { $0.stop(at: at, calendar: calendar) }
            case let .stageChanged(_, to):
                stage = to
                if to == .feedback {
                    waiting = false
                    each(all) { $0.stop(at: at, calendar: calendar) }
                }
            case .reopened:
                stage = .analysing
                each([.updateInterval, .resolution]) { $0.newCycle(at: at, calendar: calendar) }
            case let .note(_, customerVisible) where customerVisible && stage.isOpen:
                each([.updateInterval]) { clock in
                    guard clock.stoppedAt == nil else { return }
                    clock.newCycle(at: at, calendar: calendar)
                    if waiting { clock.pause(at: at, calendar: calendar) }
                }
            case .initialSolution:
                each([.initialSolution]) { $0.stop(at: at, calendar: calendar) }
            case let .waitingForCustomer(isWaiting):
                waiting = isWaiting
                each(all) { clock in
                    if isWaiting { clock.pause(at: at, calendar: calendar) } else { clock.resume(at: at) }
                }
            case let .slaWarning(target):
                guard let index = clocks.firstIndex(where: { $0.target == target }) else { return "ticket \(ticket.id) warned of \(target), a clock it lacks" }
                guard let warnAt = clocks[index].warnAt(calendar: calendar), at >= warnAt else {
                    return "ticket \(ticket.id): \(target) warned at \(at), not due then (\(clocks[index]))"
                }
                clocks[index].warnedAt = at
            case let .slaBreached(target):
                guard let index = clocks.firstIndex(where: { $0.target == target }) else { return "ticket \(ticket.id) breached \(target), a clock it lacks" }
                guard let due = clocks[index].dueAt(calendar: calendar), at >= due, clocks[index].breachedDue != due else {
                    return "ticket \(ticket.id): \(target) breach recorded at \(at), not due then (\(clocks[index]))"
                }
                clocks[index].breachedDue = due
                clocks[index].breachCount += 1
            default:
                break
            }
        }
        guard clocks.map(\.target) == ticket.clocks.map(\.target) else {
            return "ticket \(ticket.id) has clocks \(ticket.clocks.map(\.target)), the rules give \(clocks.map(\.target))"
        }
        for (expected, clock) in zip(clocks, ticket.clocks) {
            let model = (stoppedAt: clock.stoppedAt, warnedAt: clock.warnedAt, breachCount: clock.breachCount, dueAt: clock.dueAt,
                         running: clock.isRunning, remaining: clock.isPaused ? clock.remainingMillis : nil)
            let rules = (stoppedAt: expected.stoppedAt, warnedAt: expected.warnedAt, breachCount: expected.breachCount,
                         dueAt: expected.dueAt(calendar: calendar), running: expected.runningSince != nil,
                         remaining: expected.runningSince == nil && expected.stoppedAt == nil ? expected.targetMillis - expected.usedMillis : nil)
            if model != rules {
                return "ticket \(ticket.id) \(clock.target): the model has \(model), the rules give \(rules)"
            }
        }
        return nil
    }
}
