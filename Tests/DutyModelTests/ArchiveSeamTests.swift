import Testing
@testable import DutyModel

/// The `TicketArchive` seam with the in-memory archive: where archived tickets live must not
/// change a single outcome or snapshot byte.
@Suite struct ArchiveSeamTests {
    /// An archive-backed copy of `state` (which must have no archived tickets yet).
    static func backed(_ state: DutyState, by archive: InMemoryTicketArchive) throws -> DutyState {
        try DutyState.restore(from: state.snapshot(), archive: archive) { id, _, _ in
            Issue.record("ticket \(id) is already archived")
        }
    }

    static func store(_ state: inout DutyState, into archive: InMemoryTicketArchive) {
        let changes = state.pendingArchiveChanges
        archive.store(changes)
        state.archiveChangesStored(changes)
    }

    /// `RandomWorkload`'s log with every other command replaced by a legal step forward of a random
    /// ticket, so that many tickets reach the archive (and the workload's reopens find them there).
    static func archivingLog(seed: UInt64, count: Int) throws -> [(DutyCommand, Timestamp, ActorID)] {
        var workload = RandomWorkload(seed: seed)
        var random = SplitMix64(seed: seed ^ 0x5EED)
        var state = try RandomWorkload.initialState()
        var log: [(DutyCommand, Timestamp, ActorID)] = []
        for _ in 0..<count {
            var entry = workload.next(for: state)
            if random.next(below: 2) == 0, state.ticketCount > 0 {
                let id = 1 + random.next(below: state.ticketCount)
                if let stage = state.ticket(id)?.stage, let next = TicketLifecycle.forward[stage] {
                    entry.0 = .advanceTicket(ticketID: id, to: next)
                }
            }
            _ = state.apply(entry.0, at: entry.1, actor: entry.2)
            log.append(entry)
        }
        return log
    }

    /// One replica keeps everything in memory; another hands archived tickets over every few
    /// commands; a third also restarts from its working set every 41 commands.
    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func archivedTicketsMayLiveElsewhere(seed: UInt64) throws {
        let log = try Self.archivingLog(seed: seed, count: 800)
        var plain = try RandomWorkload.initialState()
        let archive = InMemoryTicketArchive(), restartingArchive = InMemoryTicketArchive()
        var backed = try Self.backed(plain, by: archive)
        var restarting = try Self.backed(plain, by: restartingArchive)
        var outcomes: [[String]] = [[], [], []]
        for (index, (command, at, actor)) in log.enumerated() {
            outcomes[0].append("\(plain.apply(command, at: at, actor: actor))")
            outcomes[1].append("\(backed.apply(command, at: at, actor: actor))")
            outcomes[2].append("\(restarting.apply(command, at: at, actor: actor))")
            if index % 3 == 2 { Self.store(&backed, into: archive) }
            if index % 41 == 40 {
                Self.store(&restarting, into: restartingArchive)
                restarting = try DutyState.restoreWorkingSet(from: restarting.workingSetBytes(), archive: restartingArchive)
            }
        }
        #expect(outcomes[0] == outcomes[1])
        #expect(outcomes[0] == outcomes[2])
        #expect(plain.snapshot() == backed.snapshot())
        #expect(plain.snapshot() == restarting.snapshot())
        #expect(try plain.allTickets() == backed.allTickets())
        #expect(plain.archivedTicketCount == backed.archivedTicketCount)
        #expect(archive.count > 10, "the log must archive tickets")
        #expect(outcomes[0].filter { $0.contains("ticketReopened") }.count > 3, "the log must reopen archived tickets")
        #expect(backed.workingSetTicketCount == plain.ticketCount - plain.archivedTicketCount)
    }

    @Test func reopenAndArchiveAgainBeforeStoringKeepsTheArchiveExact() throws {
        var state = try Fixture.state()
        let archive = InMemoryTicketArchive()
        state = try Self.backed(state, by: archive)
        let id = try Fixture.register(&state)
        for stage in [TicketStage.analysing, .handling, .feedback, .archived] {
            try Fixture.ok(&state, .advanceTicket(ticketID: id, to: stage), at: Fixture.t0)
        }
        Self.store(&state, into: archive)
        #expect(archive.count == 1 && state.workingSetTicketCount == 0)
        try Fixture.ok(&state, .reopenTicket(ticketID: id, reason: "again"), at: Fixture.t0 + Fixture.hour)
        for stage in [TicketStage.handling, .feedback, .archived] {
            try Fixture.ok(&state, .advanceTicket(ticketID: id, to: stage), at: Fixture.t0 + Fixture.hour)
        }
        try Fixture.ok(&state, .reopenTicket(ticketID: id, reason: "and again"), at: Fixture.t0 + 2 * Fixture.hour)
        let changes = state.pendingArchiveChanges
        #expect(changes.reopened == [id] && changes.archived.isEmpty)
        Self.store(&state, into: archive)
        #expect(archive.count == 0)
        #expect(state.ticket(id)?.reopenCount == 2)
    }

    @Test func sampleDrawsFromTheArchiveInIdOrder() throws {
        /// Twelve tickets; all but every third archived.
        func fill(_ state: inout DutyState, afterEach: (inout DutyState) -> Void) throws {
            for _ in 0..<12 {
                let id = try Fixture.register(&state)
                for stage in [TicketStage.analysing, .handling, .feedback, .archived] where id % 3 != 0 {
                    try Fixture.ok(&state, .advanceTicket(ticketID: id, to: stage), at: Fixture.t0)
                }
                afterEach(&state)
            }
        }
        let archive = InMemoryTicketArchive()
        var state = try Self.backed(try Fixture.state(), by: archive)
        try fill(&state) { Self.store(&$0, into: archive) }
        var plain = try Fixture.state()
        try fill(&plain) { _ in }
        #expect(state.tickets.archivedIDs() == [1, 2, 4, 5, 7, 8, 10, 11])
        #expect(state.workingSetTicketCount == 4 && archive.count == 8)
        let draw = DutyCommand.drawSupervisionSample(sampleID: "s", seed: 7, size: 3)
        let events = try Fixture.ok(&state, draw, at: Fixture.t0)
        #expect(events == (try Fixture.ok(&plain, draw, at: Fixture.t0)))
    }

    @Test func workingSetRejectsDamage() throws {
        var state = try Fixture.state()
        _ = try Fixture.register(&state)
        let bytes = state.workingSetBytes()
        let archive = InMemoryTicketArchive()
        #expect(try DutyState.restoreWorkingSet(from: bytes, archive: archive).snapshot() == state.snapshot())
        #expect(throws: DutyError.self) { try DutyState.restoreWorkingSet(from: state.snapshot(), archive: archive) }
        for cut in [1, bytes.count / 2, bytes.count - 1] {
            #expect(throws: DutyError.self) { try DutyState.restoreWorkingSet(from: Array(bytes.prefix(cut)), archive: archive) }
        }
    }

    /// An archive that lost a ticket is reported by queries, not silently skipped.
    @Test func missingArchivedTicketIsAStorageError() throws {
        var state = try Fixture.state()
        let archive = InMemoryTicketArchive()
        state = try Self.backed(state, by: archive)
        let id = try Fixture.register(&state)
        for stage in [TicketStage.analysing, .handling, .feedback, .archived] {
            try Fixture.ok(&state, .advanceTicket(ticketID: id, to: stage), at: Fixture.t0)
        }
        let changes = state.pendingArchiveChanges
        state.archiveChangesStored(changes)
        #expect(throws: DutyError(.storage, field: "ticketID", "ticket 1 is archived but the archive does not hold it")) {
            try state.loadTicket(id)
        }
        #expect(throws: DutyError.self) { try state.writeSnapshot { _ in } }
    }
}
