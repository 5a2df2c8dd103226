/// S10 monthly assessment: SLA attainment, MTTA, MTTR, resolution rate and satisfaction.
public struct DutyReport: Sendable, Equatable {
    /// How report rows are grouped: one row overall, per team (of the service) or per owner.
    public enum Grouping: String, Sendable, CaseIterable { case overall, team, person }

    /// Met and breached counts of one SLA target; tickets whose clock is still undecided are left out.
    public struct Attainment: Sendable, Equatable {
        public var met = 0
        public var breached = 0
        public var percent: Double? { met + breached == 0 ? nil : Double(met) * 100 / Double(met + breached) }
    }

    /// A missed SLA target, for the breach list.
    public struct Breach: Sendable, Equatable {
        public let ticketID: TicketID
        public let target: SLATarget
        public let dueAt: Timestamp
    }

    /// The figures of one group in one month.
    public struct Row: Sendable, Equatable {
        public let group: String
        public internal(set) var ticketsRegistered = 0
        public internal(set) var ticketsResolved = 0
        public internal(set) var attainment: [SLATarget: Attainment] = [:]
        public internal(set) var acknowledgeMillis: [Int64] = []
        public internal(set) var resolveMillis: [Int64] = []
        public internal(set) var ratings: [Int] = []
        /// The first `DutyReport.listedBreaches` breaches by ticket id; `breachCount` counts them all
        /// (a busy month has tens of thousands: `DutyReport.breaches(...)` pages through them).
        public internal(set) var breaches: [Breach] = []
        public internal(set) var breachCount = 0

        init(group: String) { self.group = group }

        public var resolutionRatePercent: Double? {
            ticketsRegistered == 0 ? nil : Double(ticketsResolved) * 100 / Double(ticketsRegistered)
        }
        public var mttaSeconds: Double? { Self.meanSeconds(acknowledgeMillis) }
        public var mttrSeconds: Double? { Self.meanSeconds(resolveMillis) }
        public var satisfactionAverage: Double? { ratings.isEmpty ? nil : Double(ratings.reduce(0, +)) / Double(ratings.count) }

        private static func meanSeconds(_ values: [Int64]) -> Double? {
            values.isEmpty ? nil : Double(values.reduce(0, +)) / Double(values.count) / 1000
        }
    }

    /// Breaches listed inline per row; the rest are counted and paged through `breaches(...)`.
    public static let listedBreaches = 20

    public let year: Int
    public let month: Int
    public let grouping: Grouping
    /// Sorted by group name.
    public let rows: [Row]

    /// Tickets registered in the given month of the given time zone, evaluated as of `asOf`
    /// (a running clock already past its deadline counts as breached). Archived tickets of the
    /// month are read from the archive; an unreadable archive is a `.storage` error.
    public init(state: DutyState, year: Int, month: Int, timeZoneIdentifier: String, grouping: Grouping, asOf: Timestamp) throws(DutyError) {
        let period = try Self.period(year: year, month: month, timeZoneIdentifier: timeZoneIdentifier)
        var rows: [String: Row] = [:]
        // Tickets are visited by ascending id, so breach lists come out in the same order on every replica.
        try state.forEachTicket(registeredIn: period) { ticket in
            let group = Self.group(of: ticket, grouping, in: state)
            // Taken out of the dictionary so that appending to its arrays does not copy them every time.
            var row = rows.removeValue(forKey: group) ?? Row(group: group)
            row.ticketsRegistered += 1
            if let resolvedAt = ticket.resolvedAt ?? ticket.archivedAt {
                row.ticketsResolved += 1
                row.resolveMillis.append(resolvedAt - ticket.registeredAt)
            }
            if let acknowledgedAt = ticket.acknowledgedAt { row.acknowledgeMillis.append(acknowledgedAt - ticket.registeredAt) }
            if let feedback = ticket.feedback { row.ratings.append(feedback.rating) }
            for slaClock in ticket.clocks {
                var attainment = row.attainment[slaClock.target] ?? Attainment()
                if let breach = Self.breach(of: slaClock, ticketID: ticket.id, asOf: asOf) {
                    attainment.breached += 1
                    row.breachCount += 1
                    if row.breaches.count < Self.listedBreaches { row.breaches.append(breach) }
                } else if slaClock.met == true {
                    attainment.met += 1
                } else {
                    continue
                }
                row.attainment[slaClock.target] = attainment
            }
            rows[group] = row
        }
        self.year = year
        self.month = month
        self.grouping = grouping
        self.rows = rows.values.sorted { $0.group < $1.group }
    }

    /// The instants of a calendar month in a time zone.
    static func period(year: Int, month: Int, timeZoneIdentifier: String) throws(DutyError) -> Range<Timestamp> {
        guard let clock = ZoneClock(identifier: timeZoneIdentifier) else {
            throw .invalid("timeZoneIdentifier", "unknown time zone '\(timeZoneIdentifier)'")
        }
        let first = LocalDate(year: year, month: month, day: 1)
        guard first.isValid else { throw .invalid("month", "\(year)-\(month) is not a valid month") }
        let next = month == 12 ? LocalDate(year: year + 1, month: 1, day: 1) : LocalDate(year: year, month: month + 1, day: 1)
        let from = clock.firstInstant(onOrAfterWall: first, minuteOfDay: 0)
        let to = clock.firstInstant(onOrAfterWall: next, minuteOfDay: 0)
        return from..<max(from, to)
    }

    static func group(of ticket: Ticket, _ grouping: Grouping, in state: DutyState) -> String {
        switch grouping {
        case .overall: "all"
        case .team: state.services[ticket.serviceID]?.teamID ?? "no-team"
        case .person: ticket.ownerID ?? "unassigned"
        }
    }

    /// A clock's breach as of `asOf`: recorded, or running past its deadline.
    static func breach(of clock: SLAClock, ticketID: TicketID, asOf: Timestamp) -> Breach? {
        if let breachedAt = clock.breachedAt { return Breach(ticketID: ticketID, target: clock.target, dueAt: breachedAt) }
        if clock.isRunning, let dueAt = clock.dueAt, dueAt <= asOf { return Breach(ticketID: ticketID, target: clock.target, dueAt: dueAt) }
        return nil
    }

    /// One page of the month's breaches in `group` (every group if nil) by ticket id, after ticket `afterTicketID`;
    /// `next` is the cursor for the following page (nil at the end).
    public static func breaches(state: DutyState, year: Int, month: Int, timeZoneIdentifier: String, grouping: Grouping,
                                group: String?, afterTicketID: TicketID, limit: Int, asOf: Timestamp) throws(DutyError)
        -> (items: [Breach], next: TicketID?) {
        let period = try period(year: year, month: month, timeZoneIdentifier: timeZoneIdentifier)
        var items: [Breach] = []
        var next: TicketID?
        try state.forEachTicket(registeredIn: period) { ticket in
            guard next == nil, ticket.id > afterTicketID else { return }
            if let group, Self.group(of: ticket, grouping, in: state) != group { return }
            let found = ticket.clocks.compactMap { Self.breach(of: $0, ticketID: ticket.id, asOf: asOf) }
            guard !found.isEmpty else { return }
            if items.count + found.count > limit, !items.isEmpty {
                next = items.last!.ticketID
                return
            }
            items.append(contentsOf: found)
        }
        return (items, next)
    }

    public static let csvHeader = ["month", "group", "tickets", "resolved", "resolution_rate_pct",
                                   "first_response_pct", "initial_solution_pct", "update_interval_pct", "resolution_pct",
                                   "mtta_seconds", "mttr_seconds", "satisfaction_avg", "ratings", "breaches"]

    public func csv() -> String {
        let monthLabel = "\(year)-\(month < 10 ? "0" : "")\(month)"
        let lines = rows.map { row -> [String] in
            [monthLabel, row.group, "\(row.ticketsRegistered)", "\(row.ticketsResolved)", CSVWriter.decimal(row.resolutionRatePercent)]
                + SLATarget.allCases.map { CSVWriter.decimal(row.attainment[$0]?.percent) }
                + [CSVWriter.decimal(row.mttaSeconds), CSVWriter.decimal(row.mttrSeconds), CSVWriter.decimal(row.satisfactionAverage),
                   "\(row.ratings.count)", "\(row.breachCount)"]
        }
        return CSVWriter.document(header: Self.csvHeader, rows: lines)
    }

    /// S11 "top questions": tickets grouped by their best-matching article, most frequent first.
    /// Reads archived tickets of the period from the archive; an unreadable archive is a `.storage` error.
    public static func frequentQuestions(_ state: DutyState, from: Timestamp, to: Timestamp, limit: Int) throws(DutyError)
        -> [(articleID: String, title: String, ticketCount: Int, hitCount: Int)] {
        var counts: [String: Int] = [:]
        try state.forEachTicket(registeredIn: from..<max(from, to)) { ticket in
            if let best = ticket.suggestedArticleIDs.first { counts[best, default: 0] += 1 }
        }
        return counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(max(0, limit)).map { entry in
            let article = state.knowledgeBase.articles[entry.key]
            return (entry.key, article?.title ?? "", entry.value, article?.hitCount ?? 0)
        }
    }
}
