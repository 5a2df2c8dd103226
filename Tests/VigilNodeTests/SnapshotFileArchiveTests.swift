import DutyModel
import Foundation
import Testing
@testable import VigilNode

/// Archived tickets read from the snapshot file that holds them: a loaded or freshly written snapshot serves them,
/// the state's snapshot bytes do not change, memory keeps only what was archived since the copy.
struct SnapshotFileArchiveTests {
    static let t0: Timestamp = 1_772_409_600_000

    /// `archived` tickets taken through every stage to archived, then `open` more left open.
    static func machine(archived: Int, open: Int) throws -> NodeStateMachine {
        var duty = DutyState()
        var now = t0
        func must(_ command: DutyCommand) throws {
            if case let .failure(error) = duty.apply(command, at: now, actor: ActorID("admin")) { throw error }
        }
        let names = (0..<3).map { "person\($0)" }
        for name in names {
            try must(.upsertPerson(Person(id: name, name: name, role: .responder,
                                          contactMethods: [ContactMethod(id: "sms", kind: .sms, address: "+100000")],
                                          notificationRules: [NotificationRule(contactMethodID: "sms", delayMinutes: 0)])))
        }
        try must(.upsertTeam(Team(id: "ops", name: "Ops", memberIDs: names)))
        try must(.upsertSchedule(OnCallSchedule(id: "primary", name: "Primary", timeZoneIdentifier: "Europe/Berlin", layers: [
            .init(name: "weekly", userIDs: names, rotation: .weekly, startDate: LocalDate(year: 2026, month: 1, day: 5), handoffMinute: 540),
        ])))
        try must(.upsertEscalationPolicy(EscalationPolicy.defaultEmergencyDraft(onCallScheduleID: "primary", leadPersonID: "person0", specialTeamID: "ops")))
        try must(.upsertService(Service(id: "web", name: "Web", teamID: "ops", escalationPolicyID: "emergency")))
        for index in 0..<(archived + open) {
            now += 10
            try must(.registerTicket(NewTicket(kind: .consultation, priority: .p3, title: "ticket \(index)", serviceID: "web")))
            guard index < archived else { continue }
            for stage in [TicketStage.analysing, .handling, .feedback, .archived] {
                try must(.advanceTicket(ticketID: duty.ticketCount, to: stage))
            }
        }
        return NodeStateMachine(duty: duty)
    }

    @Test("a loaded snapshot reads archived tickets from its file; writing the next one from it gives the same bytes")
    func loadedSnapshotServesArchivedTickets() throws {
        let store = try SnapshotTransferTests.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: store.directory) }
        let original = try Self.machine(archived: 6_000, open: 50)
        let descriptor = try store.write(original, index: 10, term: 1)
        let loaded = try store.load(descriptor)
        #expect(loaded.duty.archivedTicketCount == 6_000)
        #expect(loaded.duty.snapshot() == original.duty.snapshot())
        for id in [1, 2, 3_000, 5_999, 6_000] {
            #expect(loaded.duty.ticket(id) == original.duty.ticket(id), "ticket \(id)")
        }
        #expect(loaded.duty.ticket(6_050)?.stage != .archived)
        var inRange: [TicketID] = []
        try loaded.duty.forEachTicket(registeredIn: (Self.t0 + 100)..<(Self.t0 + 200)) { inRange.append($0.id) }
        #expect(inRange == Array(10...19))
        // A second file written from the loaded state reads the first one's records and is byte-identical.
        let again = try store.write(loaded, index: 11, term: 1)
        #expect(try Data(contentsOf: URL(fileURLWithPath: store.path(of: again))).dropFirst(0)
            == Data(contentsOf: URL(fileURLWithPath: store.path(of: descriptor))))
    }

    @Test("after a snapshot, memory holds only tickets archived since the copy; a reopened one is read from memory")
    func archiveSwitch() throws {
        let store = try SnapshotTransferTests.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: store.directory) }
        var live = try Self.machine(archived: 500, open: 20)
        let copy = live
        // Changes after the copy: one more ticket archived, one archived ticket reopened.
        var duty = live.duty
        let openOne = duty.ticketCount
        for stage in [TicketStage.analysing, .handling, .feedback, .archived] {
            _ = duty.apply(.advanceTicket(ticketID: openOne, to: stage), at: Self.t0 + 1_000_000, actor: ActorID("admin"))
        }
        _ = duty.apply(.reopenTicket(ticketID: 7, reason: "again"), at: Self.t0 + 1_000_001, actor: ActorID("admin"))
        live = NodeStateMachine(duty: duty)
        let expected = live.duty.snapshot()

        let (descriptor, archive) = try store.writeWithArchive(copy, index: 20, term: 2)
        #expect(archive.count == 500)
        live.archiveReplaced(by: archive, writtenFrom: copy)
        #expect(live.duty.snapshot() == expected, "where archived tickets live does not change the state")
        #expect(live.duty.ticket(7)?.stage != .archived)
        #expect(live.duty.ticket(openOne)?.stage == .archived)
        #expect(live.duty.ticket(100)?.stage == .archived)
        // The old file may go: the archive reads through its open descriptor.
        unlink(store.path(of: descriptor))
        #expect(live.duty.ticket(200)?.stage == .archived)
        #expect(live.duty.snapshot() == expected)
    }
}
