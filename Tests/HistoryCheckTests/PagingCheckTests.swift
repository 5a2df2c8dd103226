import HistoryCheck
import Testing

@Suite struct PagingCheckTests {
    static let second: UInt64 = 1_000_000_000
    static let parameters = PagingCheckParameters(allowanceNanoseconds: 2 * second, minorityGraceNanoseconds: second,
                                                  observedUntilNanoseconds: 30 * second)

    static func alert(_ ticket: Int?, at registered: UInt64, levels: Int = 2, acknowledged: UInt64? = nil) -> AlertRecord {
        AlertRecord(dedupKey: "a\(ticket ?? 0)", acceptedNanoseconds: registered, ticket: ticket,
                    deadlinesNanoseconds: (0..<levels).map { registered + UInt64($0) * 2 * second }, acknowledgedNanoseconds: acknowledged)
    }

    static func page(_ ticket: Int, level: Int, at arrived: UInt64, node: Int = 1, key: String? = nil) -> PageRecord {
        PageRecord(arrivedNanoseconds: arrived, node: node, ticket: ticket, step: level, level: level, person: "p\(level)",
                   key: key ?? "t\(ticket)-s\(level)-p\(level)")
    }

    static func kinds(_ alerts: [AlertRecord], _ pages: [PageRecord], _ faults: [FaultRecord] = []) -> [PagingCheck.Violation.Kind] {
        PagingCheck.check(alerts: alerts, pages: pages, faults: faults, parameters: parameters).violations.map(\.kind)
    }

    @Test func everyLevelInTimeIsClean() {
        let report = PagingCheck.check(alerts: [Self.alert(1, at: Self.second)],
                                       pages: [Self.page(1, level: 0, at: Self.second + 5_000_000), Self.page(1, level: 1, at: 3 * Self.second + 900_000_000),
                                               Self.page(1, level: 1, at: 4 * Self.second)],  // the same key again: allowed
                                       faults: [], parameters: Self.parameters)
        #expect(report.violations.isEmpty)
        #expect(report.levelsOwed == 2)
        #expect(report.delaysNanoseconds == [5_000_000, 900_000_000])
    }

    @Test func lateMissingAndLost() {
        #expect(Self.kinds([Self.alert(1, at: Self.second)], [Self.page(1, level: 0, at: Self.second), Self.page(1, level: 1, at: 6 * Self.second)]) == [.latePage])
        #expect(Self.kinds([Self.alert(1, at: Self.second)], [Self.page(1, level: 0, at: Self.second)]) == [.missingPage])
        #expect(Self.kinds([Self.alert(nil, at: Self.second)], []) == [.lostAlert])
        // Not owed yet: the deadline plus the allowance is after the end of the observation.
        #expect(Self.kinds([Self.alert(1, at: 27 * Self.second)], [Self.page(1, level: 0, at: 27 * Self.second)]) == [])
        // Acknowledged before level 1 fell due: level 1 is not owed.
        #expect(Self.kinds([Self.alert(1, at: Self.second, acknowledged: 2 * Self.second)], [Self.page(1, level: 0, at: Self.second)]) == [])
        // Not accepted (no 202): nothing is owed.
        var refused = Self.alert(1, at: Self.second)
        refused.acceptedNanoseconds = nil
        #expect(Self.kinds([refused], []) == [])
    }

    @Test func aPowerCutMovesWhatFallsDueDuringItToOneAllowanceAfterTheRestart() {
        let faults = [FaultRecord(atNanoseconds: 2 * Self.second, action: "power-cut", nodes: [1, 2, 3], minority: [], detail: ""),
                      FaultRecord(atNanoseconds: 6 * Self.second, action: "start", nodes: [1, 2, 3], minority: [], detail: "")]
        let alert = Self.alert(1, at: Self.second)  // level 1 due at 3 s, during the cut
        let page0 = Self.page(1, level: 0, at: Self.second)
        #expect(Self.kinds([alert], [page0, Self.page(1, level: 1, at: 7_900_000_000)], faults) == [], "due 3 s, back at 6 s, owed by 8 s")
        #expect(Self.kinds([alert], [page0, Self.page(1, level: 1, at: 8_100_000_000)], faults) == [.latePage])
        #expect(Self.kinds([alert], [page0, Self.page(1, level: 1, at: 7_900_000_000)]) == [.latePage], "no cut, no extension")
    }

    @Test func twoKeysForOneStep() {
        let pages = [Self.page(1, level: 0, at: Self.second), Self.page(1, level: 0, at: Self.second + 1, key: "another"),
                     Self.page(1, level: 1, at: 3 * Self.second)]
        #expect(Self.kinds([Self.alert(1, at: Self.second)], pages) == [.twoKeysForOneStep])
    }

    @Test func pageFromANodeCutOffFromTheMajority() {
        let faults = [FaultRecord(atNanoseconds: 2 * Self.second, action: "isolate", nodes: [1], minority: [1], detail: ""),
                      FaultRecord(atNanoseconds: 10 * Self.second, action: "heal", nodes: [1], minority: [], detail: "")]
        let alert = Self.alert(1, at: Self.second)
        // Node 1 pages level 1 at 3.9 s, 1.9 s into its isolation: a violation.
        #expect(Self.kinds([alert], [Self.page(1, level: 0, at: Self.second), Self.page(1, level: 1, at: 3_900_000_000)], faults)
            == [.pageFromMinority])
        // Within the grace (a send that began before the cut), or from node 2, or after the heal: fine.
        #expect(Self.kinds([alert], [Self.page(1, level: 0, at: 2_500_000_000), Self.page(1, level: 1, at: 3 * Self.second, node: 2)], faults) == [])
        #expect(Self.kinds([alert], [Self.page(1, level: 0, at: Self.second), Self.page(1, level: 1, at: 11 * Self.second, node: 1)], faults)
            == [.latePage])
    }

    @Test func pageFromANodeThatWasNotTheLeader() {
        // Node 1 leads; at 5 s node 1 is cut off and node 2 is elected; the majority names node 2 only from 7.5 s
        // (the watcher lags after an election), node 3 follows throughout.
        let leaders = [LeaderRecord(atNanoseconds: 0, leader: 1, claimants: [1], deniers: [2, 3]),
                       LeaderRecord(atNanoseconds: 5 * Self.second, leader: nil, claimants: [1, 2], deniers: [3]),
                       LeaderRecord(atNanoseconds: 6 * Self.second, leader: nil, claimants: [2], deniers: [1, 3]),
                       LeaderRecord(atNanoseconds: 7_500_000_000, leader: 2, claimants: [2], deniers: [1, 3])]
        let alert = Self.alert(1, at: Self.second)
        func kinds(_ pages: [PageRecord]) -> [PagingCheck.Violation.Kind] {
            PagingCheck.check(alerts: [alert], pages: pages, faults: [], leaders: leaders, parameters: Self.parameters).violations.map(\.kind)
        }
        let inTime = [Self.page(1, level: 0, at: Self.second), Self.page(1, level: 1, at: 3 * Self.second)]
        #expect(kinds(inTime) == [])
        // The new leader pages before the majority names it: it said it led, so fine.
        #expect(kinds(inTime + [Self.page(1, level: 1, at: 5_200_000_000, node: 2)]) == [])
        // The old leader within the grace after it stopped claiming: fine.
        #expect(kinds(inTime + [Self.page(1, level: 1, at: 6_500_000_000, node: 1)]) == [])
        // A follower that pages, and the old leader seconds after it said it no longer led: violations.
        #expect(kinds(inTime + [Self.page(1, level: 0, at: Self.second, node: 3)]) == [.pageFromNonLeader])
        #expect(kinds(inTime + [Self.page(1, level: 1, at: 9 * Self.second, node: 1)]) == [.pageFromNonLeader])
        // A node nobody heard from (it did not answer the watcher) is not judged by this rule.
        #expect(kinds(inTime + [Self.page(1, level: 1, at: 3 * Self.second, node: 4)]) == [])
    }

    @Test func drillFolderRoundTrip() throws {
        let lines = [JSONLines.line(Self.alert(3, at: Self.second)), JSONLines.line(Self.page(3, level: 0, at: Self.second))]
        #expect(lines[0] == #"{"accepted_ns":1000000000,"acknowledged_ns":null,"deadlines_ns":[1000000000,3000000000],"dedup_key":"a3","ticket":3}"#)
        #expect(try JSONLines.parse(lines[0], path: "alerts.jsonl", as: AlertRecord.self) == [Self.alert(3, at: Self.second)])
        #expect(try JSONLines.parse(lines[1], path: "pages.jsonl", as: PageRecord.self) == [Self.page(3, level: 0, at: Self.second)])
        let error = #expect(throws: HistoryError.self) { try JSONLines.parse("\n{\"ticket\": 1}", path: "pages.jsonl", as: PageRecord.self) }
        #expect(error?.line == 2)
    }

    @Test func lostWriteIsToldApartFromAStaleRead() {
        let put = HistoryOperation(client: 1, op: .put, key: "k", value: "v1", callNanoseconds: 0, returnNanoseconds: 10)
        let finalRead = HistoryOperation(client: DrillCheck.finalReadClient, op: .get, key: "k", value: nil, callNanoseconds: 20, returnNanoseconds: 30)
        let lost = DrillCheck.run(history: [put, finalRead], alerts: [], pages: [], faults: [], parameters: Self.parameters)
        #expect(lost.lostWrites == 1)
        #expect(lost.linearizabilityViolations.count == 1)
        #expect(DrillCheck.summary(lost) == "lost_writes=1 linearizability_violations=1 paging_violations=0")
        let staleRead = HistoryOperation(client: 2, op: .get, key: "k", value: nil, callNanoseconds: 12, returnNanoseconds: 14)
        let stale = DrillCheck.run(history: [put, staleRead], alerts: [], pages: [], faults: [], parameters: Self.parameters)
        #expect(stale.lostWrites == 0)
        #expect(stale.linearizabilityViolations.count == 1)
        #expect(!stale.isClean)
        // After a power cut the checking read finds the old value, and a client then reads it too: still one
        // lost write, found by the checking read (the client's read alone would also be a violation).
        let afterCut = HistoryOperation(client: 3, op: .get, key: "k", value: nil, callNanoseconds: 40, returnNanoseconds: 50)
        let cut = DrillCheck.run(history: [put, finalRead, afterCut], alerts: [], pages: [], faults: [], parameters: Self.parameters)
        #expect(cut.lostWrites == 1)
    }
}
