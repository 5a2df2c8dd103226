import Testing
@testable import DutyModel

@Suite struct DeterminismTests {
    static func log(seed: UInt64, count: Int) throws -> [(DutyCommand, Timestamp, ActorID)] {
        var workload = RandomWorkload(seed: seed)
        var state = try RandomWorkload.initialState()
        var log: [(DutyCommand, Timestamp, ActorID)] = []
        for _ in 0..<count {
            let entry = workload.next(for: state)
            _ = state.apply(entry.0, at: entry.1, actor: entry.2)
            log.append(entry)
        }
        return log
    }

    /// Four replicas apply one log; one of them restarts from its own snapshot every 37 commands,
    /// another passes every command through JSON as the Raft log would, the last keeps only one ticket
    /// decoded in memory (every other read and write goes through its record). All end byte-identical.
    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func threeReplicasProduceIdenticalSnapshots(seed: UInt64) throws {
        let log = try Self.log(seed: seed, count: 600)
        var plain = try RandomWorkload.initialState()
        var restarting = try RandomWorkload.initialState()
        var viaWire = try RandomWorkload.initialState()
        var encoded = try RandomWorkload.initialState()
        encoded.tickets.live.setDecodedLimit(1)
        var outcomes: [[String]] = [[], [], [], []]
        for (index, (command, at, actor)) in log.enumerated() {
            outcomes[0].append("\(plain.apply(command, at: at, actor: actor))")
            outcomes[1].append("\(restarting.apply(command, at: at, actor: actor))")
            let wire = try JSONEncoderHelper.roundTrip(command)
            outcomes[2].append("\(viaWire.apply(wire, at: at, actor: actor))")
            outcomes[3].append("\(encoded.apply(command, at: at, actor: actor))")
            #expect(encoded.tickets.live.decodedCount <= 1)
            if index % 37 == 36 { restarting = try DutyState.restore(from: restarting.snapshot()) }
        }
        #expect(outcomes[0] == outcomes[1])
        #expect(outcomes[0] == outcomes[2])
        #expect(outcomes[0] == outcomes[3])
        #expect(plain == encoded)
        let bytes = plain.snapshot()
        #expect(bytes == restarting.snapshot())
        #expect(bytes == viaWire.snapshot())
        #expect(bytes == encoded.snapshot())
        #expect(plain.ticketCount > 20, "the workload must actually create tickets")
        #expect(outcomes[0].filter { $0.hasPrefix("success") }.count > 100, "the workload must mostly do something")
    }

    @Test func snapshotRestoreSnapshotIsIdentical() throws {
        var state = try RandomWorkload.initialState()
        for (command, at, actor) in try Self.log(seed: 99, count: 300) { _ = state.apply(command, at: at, actor: actor) }
        let bytes = state.snapshot()
        let restored = try DutyState.restore(from: bytes)
        #expect(restored == state)
        #expect(restored.snapshot() == bytes)
    }

    @Test func aSnapshotRestoresPieceByPieceAsItWasWritten() throws {
        var state = try RandomWorkload.initialState()
        for (command, at, actor) in try Self.log(seed: 7, count: 2_000) { _ = state.apply(command, at: at, actor: actor) }
        #expect(state.archivedTicketCount > 0 && state.workingSetTicketCount > 0, "both kinds of ticket are in the pieces")
        let whole = state.snapshot()
        var pieces: [[UInt8]] = []
        try state.writeSnapshot(chunkBytes: 512) { pieces.append($0) }
        #expect(pieces.count > 10)
        #expect(Array(pieces.joined()) == whole)
        var restorer = DutyState.SnapshotRestorer()
        for piece in pieces { try restorer.consume(piece) }
        let restored = try restorer.finish()
        #expect(restored == state)
        #expect(restored.snapshot() == whole)

        // A piece that ends inside a ticket, a missing last piece, a piece after the last ticket: refused.
        var split = DutyState.SnapshotRestorer()
        try split.consume(pieces[0])
        #expect(throws: DutyError.self) { try split.consume(Array(pieces[1].dropLast(3))) }
        var short = DutyState.SnapshotRestorer()
        for piece in pieces.dropLast() { try short.consume(piece) }
        #expect(throws: DutyError.self) { try short.finish() }
        var long = DutyState.SnapshotRestorer()
        for piece in pieces { try long.consume(piece) }
        #expect(throws: DutyError.self) { try long.consume(pieces[1]) }
    }

    @Test func snapshotBytesDoNotDependOnInsertionOrder() throws {
        var a = try Fixture.state()
        var b = try Fixture.state()
        let articles = (0..<20).map { ArticleDraft(id: "a\($0)", title: "Article \($0)", body: "body \($0)", category: "c\($0 % 3)") }
        for article in articles { try Fixture.ok(&a, .upsertArticle(article), at: Fixture.t0) }
        for article in articles.reversed() { try Fixture.ok(&b, .upsertArticle(article), at: Fixture.t0) }
        let aBytes = a.snapshot(), bBytes = b.snapshot()
        // The audit trail records the different order; everything else must agree byte for byte.
        #expect(a.knowledgeBase == b.knowledgeBase)
        #expect(aBytes != bBytes)
        let encoder = JSONEncoderHelper.sorted()
        #expect(try encoder.encode(a.knowledgeBase) == encoder.encode(b.knowledgeBase))
    }

    @Test func restoreRejectsGarbageTruncationAndWrongVersions() throws {
        #expect(throws: DutyError.self) { try DutyState.restore(from: Array("not a snapshot".utf8)) }
        var state = try Fixture.state()
        _ = try Fixture.register(&state)
        try Fixture.ok(&state, .addNote(ticketID: 1, text: "密码 reset", customerVisible: true), at: Fixture.t0, actor: ActorID("bob"))
        let bytes = state.snapshot()
        for cut in [1, 8, bytes.count / 3, bytes.count / 2, bytes.count - 1] {
            #expect(throws: DutyError.self, "cut at \(cut)") { try DutyState.restore(from: Array(bytes.prefix(cut))) }
        }
        #expect(throws: DutyError.self) { try DutyState.restore(from: bytes + [0]) }
        // Flip every byte of the ticket section in turn: each result is either rejected or a
        // different but well-formed state; restore never crashes.
        let ticketSection = bytes.count - 200
        for index in ticketSection..<bytes.count {
            var corrupted = bytes
            corrupted[index] ^= 0xFF
            if let restored = try? DutyState.restore(from: corrupted) { #expect(restored != state || corrupted == bytes) }
        }
        let marker = Array("\"formatVersion\":1".utf8)
        let at = try #require((0..<(bytes.count - marker.count)).first { Array(bytes[$0..<($0 + marker.count)]) == marker })
        var tampered = bytes
        tampered[at + marker.count - 1] = UInt8(ascii: "7")
        do {
            _ = try DutyState.restore(from: tampered)
            Issue.record("a snapshot of another format version must be rejected")
        } catch {
            #expect(error.field == "snapshot.formatVersion")
        }
    }

    /// Property: over random logs no ticket is lost or duplicated, rejected commands change
    /// nothing, and every open ticket has exactly one next escalation deadline or none.
    @Test(arguments: [11, 12, 13] as [UInt64])
    func invariantsHoldOverRandomLogs(seed: UInt64) throws {
        var workload = RandomWorkload(seed: seed)
        var state = try RandomWorkload.initialState()
        var registered = 0
        for _ in 0..<400 {
            let (command, at, actor) = workload.next(for: state)
            let before = state
            switch state.apply(command, at: at, actor: actor) {
            case .failure:
                #expect(state == before, "rejected \(command.name) changed the state")
            case .success(let events):
                registered += events.filter { if case .ticketRegistered = $0.kind { true } else { false } }.count
                #expect(events.allSatisfy { $0.actor == actor && $0.at >= before.lastAppliedAt })
            }
            #expect(state.ticketCount == registered)
            let all = try state.allTickets()
            #expect(all.enumerated().allSatisfy { $0.element.id == $0.offset + 1 })
            #expect(state.openTicketCount == all.filter { $0.stage.isOpen }.count)
            for ticket in all {
                let step = state.nextDueStep(ticket.id)
                let owes = ticket.stage.isOpen && ticket.acknowledgedAt == nil && ticket.escalation.map { progress in
                    !progress.suppressedByMaintenance
                        && progress.stepsFired < state.escalationPolicy(progress.policyID, version: progress.policyVersion)!.stepCount
                } == true
                #expect((step != nil) == owes, "ticket \(ticket.id)")
                if let step { #expect(step.dueAt == ticket.escalation?.nextDueAt) }
            }
            for (key, id) in state.openAlerts { #expect(state.ticket(id)?.alertKey == key) }
        }
        #expect(registered > 10)
    }
}

import Foundation

enum JSONEncoderHelper {
    static func sorted() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }

    static func roundTrip(_ command: DutyCommand) throws -> DutyCommand {
        try JSONDecoder().decode(DutyCommand.self, from: sorted().encode(command))
    }
}

@Suite struct TicketCodecTests {
    /// Every timeline action and every optional field survives the binary ticket layout.
    @Test func everyTimelineActionRoundTrips() throws {
        var state = try Fixture.state()
        let id = try Fixture.register(&state, kind: .emergency, priority: .p1, service: "web", customer: "acme")
        let actions: [TimelineEntry.Action] = [
            .registered(kind: .incident, priority: .p4), .stageChanged(from: .handling, to: .feedback),
            .reopened(from: .archived, reason: "again"), .acknowledged, .ownerChanged(from: nil, to: "bob"),
            .ownerChanged(from: "bob", to: "carol"), .note(text: "说明 note", customerVisible: true), .initialSolution(text: "x"),
            .waitingForCustomer(true), .slaWarning(.updateInterval), .slaBreached(.resolution),
            .escalated(step: 3, level: 1, personIDs: ["a", "b"], idempotencyKey: "k"), .alertTriggered(dedupKey: "d", summary: "s"),
            .alertAcknowledged(dedupKey: "d"), .alertResolved(dedupKey: "d"), .articlesSuggested(["x", "y"]),
            .feedback(rating: 2, comment: "meh"), .followUpOpened(9), .followUpOf(8), .priorityChanged(from: .p1, to: .p3),
        ]
        for (offset, action) in actions.enumerated() {
            state.tickets.live[id]!.timeline.append(TimelineEntry(at: -Int64(offset) * 1_000_000_007, actor: ActorID("a\(offset)"), action: action))
        }
        state.tickets.live[id]!.feedback = Feedback(rating: 1, comment: "", at: Int64.max)
        state.tickets.live[id]!.followUpTicketID = Int.max
        state.tickets.live[id]!.clocks[0].recordWarning(at: Int64.min)
        let restored = try DutyState.restore(from: state.snapshot())
        #expect(restored.ticket(id) == state.ticket(id))
        #expect(restored == state)
    }
}
