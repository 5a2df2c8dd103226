import DutyModel
import Foundation
import NodeState
import Testing

/// The hand-written JSON of the scheduler's and people's most frequent commands against Foundation's Codable JSON,
/// which every release before it wrote and read.
@Suite("duty proposal JSON")
struct DutyProposalJSONTests {
    /// Strings that exercise escaping: quotes, backslashes, slashes, control characters, multi-byte and astral
    /// characters, the empty string.
    static let awkwardPieces = ["", "a", "page:12:alice:sms:3", "\"", "\\", "/", "\n\r\t", "\u{0}\u{1}\u{1f}\u{7f}", "é", "夜間",
                                "😀", "\u{2028}", "ack-link:\"x\"", " spaced out "]

    static func text(_ random: inout SplitMix64) -> String {
        (0..<random.next(below: 5)).map { _ in awkwardPieces[random.next(below: awkwardPieces.count)] }.joined()
    }

    static func integer(_ random: inout SplitMix64) -> Int {
        [0, 1, -1, 9, 10, 99, 1_234_567, Int.max, Int.min, Int(Int32.max), Int(truncatingIfNeeded: random.next())][random.next(below: 11)]
    }

    static func unsigned(_ random: inout SplitMix64) -> UInt64 {
        [0, 1, 7, 10, UInt64.max, random.next()][random.next(below: 6)]
    }

    static func proposal(_ random: inout SplitMix64) -> DutyProposal {
        func list<T>(_ make: (inout SplitMix64) -> T) -> [T] { (0..<random.next(below: 4)).map { _ in make(&random) } }
        let command: DutyCommand
        switch random.next(below: 20) {
        case 0:
            command = .recordPageOutcomes(list { r in
                PageOutcome(key: text(&r), result: PageOutcome.Result.allCases[r.next(below: 3)], attempts: integer(&r), detail: text(&r))
            })
        case 1:
            command = .recordPageIntents(keys: list { text(&$0) }, leaderTerm: unsigned(&random))
        case 2:
            command = .recordSLAEvents(list { r in
                SLAEventRecord(ticketID: integer(&r), target: SLATarget.allCases[r.next(below: SLATarget.allCases.count)],
                               isBreach: r.next(below: 2) == 0, keysNoticesByCycle: r.next(below: 2) == 0)
            })
        case 3:
            command = .recordEscalationSteps(list { r in
                EscalationStepRecord(ticketID: integer(&r), stepIndex: integer(&r), intendDuePages: r.next(below: 2) == 0)
            }, leaderTerm: random.next(below: 2) == 0 ? nil : unsigned(&random))
        case 4:
            command = .acknowledgeTicket(ticketID: integer(&random))
        case 5:
            let actions: [PagerDutyEvent.Action] = [.trigger, .acknowledge, .resolve]
            command = .pagerDutyEvent(PagerDutyEvent(
                routingKey: text(&random), action: actions[random.next(below: 3)], dedupKey: random.next(below: 2) == 0 ? nil : text(&random),
                summary: text(&random), source: text(&random), severity: text(&random),
                details: random.next(below: 2) == 0 ? nil : #"{"component":"db","custom_details":{"a":""b""}}"#))
        case 6:
            command = .alertmanagerNotification(AlertmanagerNotification(
                routingKey: text(&random), groupKey: text(&random), severity: text(&random),
                alerts: list { r in AlertmanagerNotification.Alert(fingerprint: text(&r), firing: r.next(below: 2) == 0, summary: text(&r)) },
                details: random.next(below: 2) == 0 ? nil : text(&random)))
        case 7:
            command = .heartbeatPing(monitorID: text(&random))
        case 8:
            command = .heartbeatMissed(monitorID: text(&random))
        case 9:
            command = .expireAcknowledgements(ticketIDs: list { integer(&$0) })
        case 10:
            command = .recordInspectionResult(inspectionID: text(&random), passed: random.next(below: 2) == 0, detail: text(&random))
        case 11:
            command = .reopenTicket(ticketID: integer(&random), reason: text(&random))
        case 12:
            command = .advanceTicket(ticketID: integer(&random), to: TicketStage.allCases[random.next(below: TicketStage.allCases.count)])
        case 13:
            command = .addNote(ticketID: integer(&random), text: text(&random), customerVisible: random.next(below: 2) == 0)
        case 14:
            command = .provideInitialSolution(ticketID: integer(&random), text: text(&random))
        case 15:
            command = .setWaitingForCustomer(ticketID: integer(&random), waiting: random.next(below: 2) == 0)
        case 16:
            command = .registerTicket(NewTicket(
                kind: TicketKind.allCases[random.next(below: TicketKind.allCases.count)], priority: Priority.allCases[random.next(below: 4)],
                title: text(&random), description: text(&random), serviceID: text(&random),
                customerID: random.next(below: 2) == 0 ? nil : text(&random), ownerID: random.next(below: 2) == 0 ? nil : text(&random)))
        case 17:
            command = .addScheduleOverride(scheduleID: text(&random), override: OnCallSchedule.Override(
                personID: text(&random), start: Int64(integer(&random)), end: Int64(integer(&random))))
        case 18:
            command = .addMaintenanceWindow(serviceID: text(&random), window: Service.MaintenanceWindow(
                start: Int64(integer(&random)), end: Int64(integer(&random)), reason: text(&random)))
        default:
            command = .resolveTicket(ticketID: integer(&random))
        }
        return DutyProposal(command: command, leaderTimestamp: Int64(integer(&random)), actor: ActorID(text(&random)),
                            leaderTerm: random.next(below: 2) == 0 ? nil : unsigned(&random))
    }

    @Test("what it writes, Foundation reads as the same proposal, and so does it; it reads Foundation's JSON in any key order")
    func roundTripsBothWays() throws {
        var random = SplitMix64(seed: 1)
        for _ in 0..<3_000 {
            let proposal = Self.proposal(&random)
            let fast = try #require(DutyProposalJSON.encode(proposal))
            #expect(try JSONDecoder().decode(DutyProposal.self, from: Data(fast)) == proposal, "\(String(decoding: fast, as: UTF8.self))")
            #expect(DutyProposalJSON.decode(fast[...]) == proposal, "\(String(decoding: fast, as: UTF8.self))")
            let foundation = try JSONEncoder().encode(proposal)
            #expect(DutyProposalJSON.decode(Array(foundation)[...]) == proposal, "\(String(decoding: foundation, as: UTF8.self))")
            let entry = ReplicatedCommand.duty(proposal).encoded()
            #expect(ReplicatedCommand(decoding: entry) == .duty(proposal))
        }
    }

    @Test("a damaged entry is either refused by both readers or read alike; never read here when Foundation refuses it")
    func mutatedEntriesReadAsFoundationReadsThem() throws {
        var random = SplitMix64(seed: 2)
        // Bytes a mutation puts in: structure, space, digits, escapes, a non-UTF-8 byte.
        let inserted = Array(#"{}[]:,"\ 0123456789-.eEtfnu"#.utf8) + [0x09, 0x0A, 0x00, 0x1F, 0xC3, 0xFF]
        var acceptedByBoth = 0
        var refusedHere = 0
        for _ in 0..<600 {
            let original = try #require(DutyProposalJSON.encode(Self.proposal(&random)))
            for _ in 0..<20 {
                var mutated = original
                switch random.next(below: 4) {
                case 0: mutated[random.next(below: mutated.count)] = inserted[random.next(below: inserted.count)]
                case 1: mutated.remove(at: random.next(below: mutated.count))
                case 2: mutated.insert(inserted[random.next(below: inserted.count)], at: random.next(below: mutated.count + 1))
                default: mutated.removeLast(1 + random.next(below: mutated.count))
                }
                let foundation = try? JSONDecoder().decode(DutyProposal.self, from: Data(mutated))
                guard let fast = DutyProposalJSON.decode(mutated[...]) else {
                    refusedHere += 1
                    continue
                }
                acceptedByBoth += 1
                #expect(fast == foundation, "\(String(decoding: mutated, as: UTF8.self))")
            }
        }
        // The mutations reach both outcomes (whitespace and digit changes are still valid entries).
        #expect(acceptedByBoth > 500 && refusedHere > 5_000, "accepted \(acceptedByBoth), refused \(refusedHere)")
    }

    @Test("other commands, and shapes it does not read, go to Foundation's JSON as before")
    func everythingElseFallsBack() throws {
        let person = DutyProposal(command: .upsertPerson(Person(id: "zed", name: "Zed", role: .responder, contactMethods: [])),
                                  leaderTimestamp: 5, actor: ActorID("p"))
        #expect(DutyProposalJSON.encode(person) == nil)
        #expect(ReplicatedCommand(decoding: ReplicatedCommand.duty(person).encoded()) == .duty(person))
        // A stage that does not exist, a missing member, a member of another command: left to Foundation, which refuses them.
        for json in [#"{"command":{"advanceTicket":{"ticketID":1,"to":"nowhere"}},"leaderTimestamp":1,"actor":"s"}"#,
                     #"{"command":{"addNote":{"ticketID":1,"text":"x"}},"leaderTimestamp":1,"actor":"s"}"#,
                     #"{"command":{"reopenTicket":{"ticketID":1,"text":"x"}},"leaderTimestamp":1,"actor":"s"}"#] {
            #expect(DutyProposalJSON.decode(Array(json.utf8)[...]) == nil, "\(json)")
            #expect((try? JSONDecoder().decode(DutyProposal.self, from: Data(json.utf8))) == nil, "\(json)")
        }
        // Surrogate pairs: read as Foundation reads them, or left to it (space between the halves is not a pair).
        for actor in [#"\ud83d\ude00"#, #"\ud83d \ude00"#, #"\ud83d"#, #"\ude00"#, #"\u00e9\/"#] {
            let json = #"{"command":{"resolveTicket":{"ticketID":1}},"leaderTimestamp":1,"actor":""# + actor + #""}"#
            let foundation = try? JSONDecoder().decode(DutyProposal.self, from: Data(json.utf8))
            if let fast = DutyProposalJSON.decode(Array(json.utf8)[...]) { #expect(fast == foundation, "\(json)") }
        }
        #expect(DutyProposalJSON.decode(Array(#"{"command":{"resolveTicket":{"ticketID":1}},"leaderTimestamp":1,"actor":"\ud83d\ude00"}"#.utf8)[...])?
            .actor.rawValue == "😀")
        // An explicit `false` (no encoder writes it) and a null are left to Foundation, which reads them its way.
        for json in [#"{"command":{"recordSLAEvents":{"_0":[{"ticketID":1,"target":"firstResponse","isBreach":true,"keysNoticesByCycle":false}]}},"leaderTimestamp":1,"actor":"s"}"#,
                     #"{"command":{"acknowledgeTicket":{"ticketID":1}},"leaderTimestamp":1,"actor":"s","leaderTerm":null}"#,
                     #"{"command":{"acknowledgeTicket":{"ticketID":1}},"leaderTimestamp":1.0,"actor":"s"}"#] {
            #expect(DutyProposalJSON.decode(Array(json.utf8)[...]) == nil, "\(json)")
            let foundation = try JSONDecoder().decode(DutyProposal.self, from: Data(json.utf8))
            #expect(ReplicatedCommand(decoding: [UInt8(ascii: "D")] + Array(json.utf8)) == .duty(foundation))
        }
    }
}
