import Testing
@testable import DutyModel

@Suite struct ReportTests {
    let t0 = Fixture.t0
    let minute = Fixture.minute

    static let csvCases: [(String, String)] = [
        ("plain", "plain"), ("a,b", "\"a,b\""), ("say \"hi\"", "\"say \"\"hi\"\"\""), ("two\nlines", "\"two\nlines\""), ("", ""), (" padded", "\" padded\""),
    ]

    @Test(arguments: csvCases)
    func csvQuoting(raw: String, quoted: String) {
        #expect(CSVWriter.field(raw) == quoted)
    }

    @Test func monthlyFiguresPerPerson() throws {
        var state = try Fixture.state()
        // Ticket 1: bob acknowledges in 2 min, resolves after 60 min, rating 5.
        // Ticket 2: carol acknowledges after 10 min (breach) and leaves it open.
        // Commands are applied in time order, as the leader stamps them.
        let one = try Fixture.register(&state, priority: .p2, at: t0)
        let two = try Fixture.register(&state, priority: .p2, at: t0 + minute)
        try Fixture.ok(&state, .acknowledgeTicket(ticketID: one), at: t0 + 2 * minute, actor: ActorID("bob"))
        try Fixture.ok(&state, .provideInitialSolution(ticketID: one, text: "restart"), at: t0 + 10 * minute, actor: ActorID("bob"))
        try Fixture.ok(&state, .advanceTicket(ticketID: one, to: .analysing), at: t0 + 10 * minute, actor: ActorID("bob"))
        try Fixture.ok(&state, .acknowledgeTicket(ticketID: two), at: t0 + 11 * minute, actor: ActorID("carol"))
        try Fixture.ok(&state, .advanceTicket(ticketID: one, to: .handling), at: t0 + 20 * minute, actor: ActorID("bob"))
        try Fixture.ok(&state, .addNote(ticketID: one, text: "fixed soon", customerVisible: true), at: t0 + 25 * minute, actor: ActorID("bob"))
        try Fixture.ok(&state, .advanceTicket(ticketID: one, to: .feedback), at: t0 + 60 * minute, actor: ActorID("bob"))
        try Fixture.ok(&state, .submitFeedback(ticketID: one, rating: 5, comment: "great, thanks"), at: t0 + 70 * minute)
        // Ticket 3: in April, not counted in March.
        _ = try Fixture.register(&state, priority: .p2, at: LocalDate(year: 2026, month: 4, day: 2).daysSinceEpoch * 86_400_000)

        let asOf = t0 + 40 * minute
        let report = try DutyReport(state: state, year: 2026, month: 3, timeZoneIdentifier: "UTC", grouping: .person, asOf: asOf)
        #expect(report.rows.map(\.group) == ["bob", "carol"])
        let bob = report.rows[0], carol = report.rows[1]
        #expect(bob.ticketsRegistered == 1 && bob.ticketsResolved == 1)
        #expect(bob.mttaSeconds == 120)
        #expect(bob.mttrSeconds == 3600)
        #expect(bob.satisfactionAverage == 5)
        #expect(bob.attainment[.firstResponse]?.percent == 100)
        #expect(bob.attainment[.initialSolution]?.percent == 100)
        #expect(carol.attainment[.firstResponse]?.percent == 0)
        #expect(carol.breaches.map(\.target).contains(.firstResponse))
        #expect(carol.attainment[.initialSolution]?.breached == 1, "30 min passed by asOf without a solution")
        #expect(carol.resolutionRatePercent == 0)

        let overall = try DutyReport(state: state, year: 2026, month: 3, timeZoneIdentifier: "UTC", grouping: .overall, asOf: asOf)
        #expect(overall.rows.map(\.ticketsRegistered) == [2])
        #expect(overall.rows.first?.resolutionRatePercent == 50)
        let team = try DutyReport(state: state, year: 2026, month: 3, timeZoneIdentifier: "UTC", grouping: .team, asOf: asOf)
        #expect(team.rows.map(\.group) == ["ops"])

        let csv = report.csv()
        let lines = csv.split(separator: "\r\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("month,group,tickets,resolved,resolution_rate_pct,first_response_pct"))
        #expect(lines[1].hasPrefix("2026-03,bob,1,1,100.0,100.0,100.0,"))
        #expect(lines[2].hasSuffix(",\(carol.breachCount)") && carol.breachCount == 3, "the CSV counts breaches: \(lines[2])")
    }

    @Test("a month of many breaches is summarised in the report and paged through in full, each breach once")
    func breachesAreSummarisedAndPaged() throws {
        var state = try Fixture.state()
        for index in 0..<30 { _ = try Fixture.register(&state, priority: .p3, at: t0 + Int64(index) * 1_000) }
        let asOf = t0 + 3 * Fixture.hour
        let report = try DutyReport(state: state, year: 2026, month: 3, timeZoneIdentifier: "UTC", grouping: .overall, asOf: asOf)
        let row = try #require(report.rows.first)
        #expect(row.breachCount >= 30)
        #expect(row.breaches.count == DutyReport.listedBreaches)
        #expect(row.breaches.map(\.ticketID) == row.breaches.map(\.ticketID).sorted())
        var seen: [DutyReport.Breach] = []
        var after = 0
        for _ in 0..<100 {
            let page = try DutyReport.breaches(state: state, year: 2026, month: 3, timeZoneIdentifier: "UTC", grouping: .overall,
                                               group: nil, afterTicketID: after, limit: 7, asOf: asOf)
            seen += page.items
            guard let next = page.next else { break }
            #expect(page.items.count <= 7)
            after = next
        }
        #expect(seen.count == row.breachCount)
        #expect(Set(seen.map { "\($0.ticketID)-\($0.target)" }).count == seen.count, "a breach was listed twice")
        let other = try DutyReport.breaches(state: state, year: 2026, month: 3, timeZoneIdentifier: "UTC", grouping: .team,
                                            group: "no-such-team", afterTicketID: 0, limit: 7, asOf: asOf)
        #expect(other.items.isEmpty && other.next == nil)
    }

    @Test func invalidReportArguments() throws {
        let state = try Fixture.state()
        #expect(throws: DutyError.self) { try DutyReport(state: state, year: 2026, month: 13, timeZoneIdentifier: "UTC", grouping: .overall, asOf: 0) }
        #expect(throws: DutyError.self) { try DutyReport(state: state, year: 2026, month: 3, timeZoneIdentifier: "Atlantis", grouping: .overall, asOf: 0) }
    }
}
