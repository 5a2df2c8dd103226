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

    /// A checkpoint the way DutyStore keeps one: the head and a record per unarchived ticket,
    /// rewritten only where `workingSetChanges` says.
    struct Checkpoint {
        var head: [UInt8] = []
        var records: [TicketID: [UInt8]] = [:]
        var writes = 0

        mutating func take(_ state: inout DutyState, archive: InMemoryTicketArchive) {
            ArchiveSeamTests.store(&state, into: archive)
            let changes = state.workingSetChanges()
            head = changes.head
            for id in changes.removed { records[id] = nil }
            for record in changes.changed { records[record.id] = record.bytes }
            writes += changes.changed.count
            state.workingSetChangesStored()
        }

        func restore(archive: InMemoryTicketArchive) throws -> DutyState {
            try DutyState.restoreWorkingSet(head: head, archive: archive) { add in
                for id in records.keys.sorted() { try records[id]!.withUnsafeBytes(add) }
            }
        }
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
    /// commands; a third also checkpoints every 41 commands and restarts from every other checkpoint.
    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func archivedTicketsMayLiveElsewhere(seed: UInt64) throws {
        let log = try Self.archivingLog(seed: seed, count: 800)
        var plain = try RandomWorkload.initialState()
        let archive = InMemoryTicketArchive(), restartingArchive = InMemoryTicketArchive()
        var backed = try Self.backed(plain, by: archive)
        var restarting = try Self.backed(plain, by: restartingArchive)
        var outcomes: [[String]] = [[], [], []]
        var checkpoint = Checkpoint()
        for (index, (command, at, actor)) in log.enumerated() {
            outcomes[0].append("\(plain.apply(command, at: at, actor: actor))")
            outcomes[1].append("\(backed.apply(command, at: at, actor: actor))")
            outcomes[2].append("\(restarting.apply(command, at: at, actor: actor))")
            if index % 3 == 2 { Self.store(&backed, into: archive) }
            if index % 41 == 40 {
                checkpoint.take(&restarting, archive: restartingArchive)
                if index % 82 == 81 {
                    let restarted = try checkpoint.restore(archive: restartingArchive)
                    #expect(restarted == restarting, "after command \(index)")
                    restarting = restarted
                }
            }
        }
        #expect(checkpoint.writes < log.count * 2 / 3, "checkpoints write changed tickets, not the whole working set each time")
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
        let archive = InMemoryTicketArchive()
        var state = try Self.backed(try Fixture.state(), by: archive)
        _ = try Fixture.register(&state)
        _ = try Fixture.register(&state)
        var checkpoint = Checkpoint()
        checkpoint.take(&state, archive: archive)
        #expect(try checkpoint.restore(archive: archive).snapshot() == state.snapshot())
        for cut in [1, checkpoint.head.count / 2, checkpoint.head.count - 1] {
            var damaged = checkpoint
            damaged.head = Array(checkpoint.head.prefix(cut))
            #expect(throws: DutyError.self) { try damaged.restore(archive: archive) }
        }
        var wrongMagic = checkpoint
        wrongMagic.head = state.snapshot()
        #expect(throws: DutyError.self) { try wrongMagic.restore(archive: archive) }
        var truncatedTicket = checkpoint
        truncatedTicket.records[2]!.removeLast()
        #expect(throws: DutyError.self) { try truncatedTicket.restore(archive: archive) }
        var swapped = checkpoint
        swapped.records[1] = checkpoint.records[2]
        #expect(throws: DutyError.self) { try swapped.restore(archive: archive) }
        var extra = checkpoint
        extra.records[3] = checkpoint.records[2]
        #expect(throws: DutyError.self) { try extra.restore(archive: archive) }
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

/// Restore skims archived tickets instead of decoding them; skimming must judge bytes exactly as decoding does.
@Suite struct TicketSkimTests {
    static func agree(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        var full = ByteReader(bytes: bytes), quick = ByteReader(bytes: bytes)
        var decoded: Ticket?, skimmed: (id: TicketID, stage: TicketStage, registeredAt: Timestamp)?
        do { decoded = try TicketCodec.read(&full) } catch {}
        do { skimmed = try TicketCodec.skim(&quick) } catch {}
        #expect((decoded == nil) == (skimmed == nil), "read and skim disagree on \(bytes.count) bytes", sourceLocation: sourceLocation)
        if let decoded, let skimmed {
            #expect(decoded.id == skimmed.id && decoded.stage == skimmed.stage && decoded.registeredAt == skimmed.registeredAt,
                    sourceLocation: sourceLocation)
            #expect(full.offset == quick.offset, sourceLocation: sourceLocation)
        }
    }

    @Test func skimAndReadAgreeOnIntactAndDamagedRecords() throws {
        var state = try RandomWorkload.initialState()
        for (command, at, actor) in try ArchiveSeamTests.archivingLog(seed: 31, count: 400) { _ = state.apply(command, at: at, actor: actor) }
        var random = SplitMix64(seed: 99)
        let tickets = try state.allTickets()
        #expect(tickets.count > 20)
        for ticket in tickets {
            let record = TicketCodec.record(of: ticket)
            Self.agree(record)
            for _ in 0..<30 {
                var damaged = record
                switch random.next(below: 3) {
                case 0: damaged[random.next(below: damaged.count)] = UInt8(random.next(below: 256))
                case 1: damaged[random.next(below: damaged.count)] ^= 0x80
                default: damaged.removeLast(1 + random.next(below: damaged.count))
                }
                Self.agree(damaged)
            }
        }
    }

    /// The hand-written validator and the standard library agree on every short byte string built
    /// from the bytes where UTF-8's rules change.
    @Test func utf8CheckMatchesTheStandardLibrary() {
        let edges: [UInt8] = [0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF,
                              0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF]
        var random = SplitMix64(seed: 8)
        for _ in 0..<100_000 {
            let bytes = (0..<random.next(below: 7)).map { _ in edges[random.next(below: edges.count)] }
            let expected = String(validating: bytes, as: UTF8.self) != nil
            #expect(bytes.withUnsafeBufferPointer(UTF8Check.isValid) == expected, "\(bytes)")
        }
        for text in ["", "plain", "密码重置", "emoji 🚨", "Ünïcödé"] {
            #expect(Array(text.utf8).withUnsafeBufferPointer(UTF8Check.isValid))
        }
    }
}
