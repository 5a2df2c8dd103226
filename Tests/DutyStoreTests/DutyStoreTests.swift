import DutyModel
@testable import DutyStore
import Foundation
import Testing

@Suite struct DutyStoreTests {
    /// The store and an all-in-memory replica apply one log with the same outcomes and end with the
    /// same snapshot bytes; small batches make most archived tickets come back from SQLite.
    @Test(arguments: [1, 2, 3] as [UInt64])
    func storeAndMemoryReplicasAgree(seed: UInt64) throws {
        let log = ArchiveChurn.log(seed: seed, count: 1_500)
        let directory = try TemporaryDirectory()
        let store = try DutyStore(path: directory.storePath, clusterID: testCluster)
        store.archiveBatchSize = 3
        var memory = DutyState()
        var outcomes: ([String], [String]) = ([], [])
        for chunk in stride(from: 0, to: log.count, by: 250) {
            let range = chunk..<min(log.count, chunk + 250)
            outcomes.0 += memory.apply(log, range)
            outcomes.1 += try store.apply(log, range)
            #expect(try store.snapshot() == memory.snapshot(), "after command \(range.upperBound)")
            if chunk % 500 == 0 { try store.checkpoint() }
        }
        #expect(outcomes.0 == outcomes.1)
        #expect(memory.archivedTicketCount > 30, "the log must archive tickets")
        #expect(outcomes.0.filter { $0.contains("ticketReopened") }.count > 10, "the log must reopen tickets")
        try store.commit()
        #expect(store.state.pendingArchiveChangeCount == 0)
        #expect(store.state.workingSetTicketCount == memory.workingSetTicketCount)
        #expect(try store.state.allTickets() == memory.allTickets())
        try store.close()
    }

    /// A reopened store starts from its checkpoint (dropping archive rows written after it) and
    /// replays the rest of the log to the same state, including reopens of tickets archived before
    /// the checkpoint and archived again after it.
    @Test(arguments: [4, 5] as [UInt64])
    func restartResumesAfterTheCheckpoint(seed: UInt64) throws {
        let log = ArchiveChurn.log(seed: seed, count: 1_200)
        var reference = DutyState()
        let expected = reference.apply(log, 0..<log.count)
        let directory = try TemporaryDirectory()
        let checkpointAt = 700
        do {
            let store = try DutyStore(path: directory.storePath, clusterID: testCluster)
            store.archiveBatchSize = 2
            #expect(try store.apply(log, 0..<checkpointAt) == Array(expected[0..<checkpointAt]))
            try store.checkpoint()
            #expect(store.checkpointIndex == UInt64(checkpointAt))
            try store.apply(log, checkpointAt..<1_000)
            try store.commit()
            #expect(store.appliedIndex == 1_000)
            try store.close()
        }
        let reopened = try DutyStore(path: directory.storePath, clusterID: testCluster)
        #expect(reopened.checkpointIndex == UInt64(checkpointAt))
        #expect(reopened.appliedIndex == UInt64(checkpointAt), "replay resumes after the checkpoint")
        #expect(reopened.indexBeforeOpen == 1_000, "the last commit's applied index is remembered")
        var atCheckpoint = DutyState()
        atCheckpoint.apply(log, 0..<checkpointAt)
        #expect(try reopened.snapshot() == atCheckpoint.snapshot())
        let replayed = try reopened.apply(log, checkpointAt..<log.count)
        #expect(replayed == Array(expected[checkpointAt...]))
        #expect(try reopened.snapshot() == reference.snapshot())
        #expect(throws: DutyStoreError.self) { try reopened.apply(log[0].command, at: log[0].at, actor: log[0].actor, index: 5) }
        try reopened.close()
    }

    /// The scenario the two archive generations exist for, step by step.
    @Test func replayedReopenReadsTheTicketAsArchivedBeforeTheCheckpoint() throws {
        var log = ArchiveChurn.setup()
        let alice = ActorID("alice")
        func add(_ command: DutyCommand) { log.append(LoggedCommand(command: command, at: ArchiveChurn.t0 + Int64(log.count) * 1_000, actor: alice)) }
        add(.registerTicket(NewTicket(kind: .consultation, priority: .p3, title: "Cannot log in", serviceID: "helpdesk")))
        add(.resolveTicket(ticketID: 1))
        add(.advanceTicket(ticketID: 1, to: .archived))
        let checkpointAt = log.count
        add(.reopenTicket(ticketID: 1, reason: "again"))
        add(.addNote(ticketID: 1, text: "second round", customerVisible: false))
        add(.resolveTicket(ticketID: 1))
        add(.advanceTicket(ticketID: 1, to: .archived))
        let directory = try TemporaryDirectory()
        do {
            let store = try DutyStore(path: directory.storePath, clusterID: testCluster)
            try store.apply(log, 0..<checkpointAt)
            try store.checkpoint()
            try store.apply(log, checkpointAt..<log.count)
            try store.commit()
            #expect(store.state.pendingArchiveChangeCount == 0)
            try store.close()
        }
        let store = try DutyStore(path: directory.storePath, clusterID: testCluster)
        #expect(try store.state.loadTicket(1)?.reopenCount == 0, "the checkpoint's record, not the one archived after it")
        let outcomes = try store.apply(log, checkpointAt..<log.count)
        #expect(outcomes.allSatisfy { $0.hasPrefix("success") })
        var memory = DutyState()
        memory.apply(log, 0..<log.count)
        #expect(try store.snapshot() == memory.snapshot())
        #expect(store.state.ticket(1)?.reopenCount == 1)
    }

    /// An archived ticket that only SQLite holds can be reopened, before and after a restart.
    @Test func reopenOfAnArchivedTicketReadsItFromDisk() throws {
        let directory = try TemporaryDirectory()
        var log = ArchiveChurn.setup()
        let bob = ActorID("bob")
        func add(_ command: DutyCommand) { log.append(LoggedCommand(command: command, at: ArchiveChurn.t0 + Int64(log.count) * 1_000, actor: bob)) }
        for _ in 0..<3 {
            add(.registerTicket(NewTicket(kind: .complaint, priority: .p2, title: "Payment failed", serviceID: "helpdesk")))
        }
        for id in 1...2 {
            add(.addNote(ticketID: id, text: "looking", customerVisible: true))
            add(.resolveTicket(ticketID: id))
            add(.advanceTicket(ticketID: id, to: .archived))
        }
        let store = try DutyStore(path: directory.storePath, clusterID: testCluster)
        try store.apply(log, 0..<log.count)
        try store.commit()
        #expect(store.state.pendingArchiveChangeCount == 0)
        #expect(store.state.workingSetTicketCount == 1)
        #expect(store.state.archivedTicketCount == 2)
        #expect(try store.archiveRowCount() == 2, "both archived tickets left memory for SQLite")
        let archived = try #require(try store.state.loadTicket(1))
        #expect(archived.stage == .archived)
        #expect(archived.timeline.contains { if case .note(text: "looking", _) = $0.action { true } else { false } })

        let reopened = try store.apply(.reopenTicket(ticketID: 1, reason: "still broken"), at: ArchiveChurn.t0 + 100_000, actor: bob, index: 1_000)
        #expect(try reopened.get().contains { if case .ticketReopened(1) = $0.kind { true } else { false } })
        let ticket = try #require(store.state.ticket(1))
        #expect(ticket.stage == .analysing && ticket.reopenCount == 1)
        #expect(ticket.timeline.count == archived.timeline.count + 1)
        // A note on an archived ticket is refused after reading it from disk, not because it is missing.
        let refused = try store.apply(.addNote(ticketID: 2, text: "x", customerVisible: false), at: ArchiveChurn.t0 + 100_000, actor: bob, index: 1_001)
        #expect(refused.failure?.reason == .conflict)
        try store.checkpoint()
        try store.close()

        let again = try DutyStore(path: directory.storePath, clusterID: testCluster)
        #expect(again.state.workingSetTicketCount == 2)
        #expect(try again.archiveRowCount() == 1, "the checkpoint dropped the record of the reopened ticket")
        let secondReopen = try again.apply(.reopenTicket(ticketID: 2, reason: "also broken"), at: ArchiveChurn.t0 + 200_000, actor: bob, index: 1_002)
        #expect((try? secondReopen.get()) != nil)
        #expect(again.state.ticket(2)?.stage == .analysing)
    }

    /// Supervision samples and monthly reports read archived tickets from SQLite and agree with a
    /// replica that keeps everything in memory.
    @Test func samplingAndReportsAgreeWithTheMemoryReplica() throws {
        let log = ArchiveChurn.log(seed: 9, count: 2_000)
        let directory = try TemporaryDirectory()
        let store = try DutyStore(path: directory.storePath, clusterID: testCluster)
        store.archiveBatchSize = 5
        var memory = DutyState()
        try store.apply(log, 0..<1_500)
        try store.checkpoint()
        try store.apply(log, 1_500..<log.count)
        memory.apply(log, 0..<log.count)
        try store.commit()
        #expect(store.state.archivedTicketCount > 50)

        let draw = DutyCommand.drawSupervisionSample(sampleID: "audit", seed: 0xDEC0DE, size: 40)
        let at = log.last!.at + 1_000
        let fromStore = try store.apply(draw, at: at, actor: ActorID("dave"), index: UInt64(log.count + 1))
        let fromMemory = memory.apply(draw, at: at, actor: ActorID("dave"))
        #expect("\(fromStore)" == "\(fromMemory)")
        #expect(store.state.samples["audit"]?.ticketIDs.count == 40)
        #expect(store.state.samples["audit"]?.ticketIDs.allSatisfy { store.state.ticket($0)?.stage == .archived } == true)

        for month in [3, 4] {
            for grouping in DutyReport.Grouping.allCases {
                let stored = try DutyReport(state: store.state, year: 2026, month: month, timeZoneIdentifier: "Asia/Shanghai", grouping: grouping, asOf: at)
                let inMemory = try DutyReport(state: memory, year: 2026, month: month, timeZoneIdentifier: "Asia/Shanghai", grouping: grouping, asOf: at)
                #expect(stored == inMemory)
                #expect(stored.csv() == inMemory.csv())
            }
        }
        let march = try DutyReport(state: store.state, year: 2026, month: 3, timeZoneIdentifier: "UTC", grouping: .overall, asOf: at)
        #expect((march.rows.first?.ticketsRegistered ?? 0) > 100)
        let questions = try DutyReport.frequentQuestions(store.state, from: ArchiveChurn.t0, to: at, limit: 5)
        let questionsInMemory = try DutyReport.frequentQuestions(memory, from: ArchiveChurn.t0, to: at, limit: 5)
        #expect(questions.map(\.articleID) == questionsInMemory.map(\.articleID))
        #expect(questions.map(\.ticketCount) == questionsInMemory.map(\.ticketCount))
        #expect(try store.snapshot() == memory.snapshot())
    }

    /// `restore` replaces everything in one transaction; the store's own snapshot then matches the
    /// input byte for byte, before and after a restart. Bad bytes change nothing.
    @Test func restoreReplacesEverythingAndSurvivesARestart() throws {
        let log = ArchiveChurn.log(seed: 12, count: 1_000)
        var memory = DutyState()
        memory.apply(log, 0..<log.count)
        let bytes = memory.snapshot()
        let directory = try TemporaryDirectory()
        do {
            let store = try DutyStore(path: directory.storePath, clusterID: testCluster)
            try store.apply(ArchiveChurn.log(seed: 13, count: 300), 0..<300)
            try store.restore(from: bytes, appliedIndex: 5_000)
            #expect(store.appliedIndex == 5_000 && store.checkpointIndex == 5_000)
            #expect(store.state.pendingArchiveChangeCount == 0)
            #expect(try store.archiveRowCount() == memory.archivedTicketCount)
            #expect(try store.snapshot() == bytes)

            var truncated = bytes
            truncated.removeLast(10)
            #expect(throws: DutyStoreError.self) { try store.restore(from: truncated, appliedIndex: 6_000) }
            #expect(store.appliedIndex == 5_000)
            #expect(try store.snapshot() == bytes)
            try store.close()
        }
        let reopened = try DutyStore(path: directory.storePath, clusterID: testCluster)
        #expect(reopened.checkpointIndex == 5_000)
        #expect(try reopened.snapshot() == bytes)
        #expect(try DutyState.restore(from: reopened.snapshot()) == memory)
    }

    /// The stream and the one-piece snapshot are the same bytes, whatever the chunking.
    @Test func streamedSnapshotMatches() throws {
        let log = ArchiveChurn.log(seed: 21, count: 800)
        let directory = try TemporaryDirectory()
        let store = try DutyStore(path: directory.storePath, clusterID: testCluster)
        store.archiveBatchSize = 1
        try store.apply(log, 0..<log.count)
        var chunks: [[UInt8]] = []
        try store.writeSnapshot { chunks.append($0) }
        #expect(chunks.flatMap { $0 } == (try store.snapshot()))
        var memory = DutyState()
        memory.apply(log, 0..<log.count)
        var small: [[UInt8]] = []
        try memory.writeSnapshot(chunkBytes: 100) { small.append($0) }
        #expect(small.count > 10)
        #expect(small.flatMap { $0 } == memory.snapshot())
    }

    /// A checkpoint rewrites the tickets that changed, not the whole working set.
    @Test func checkpointWritesOnlyChangedTickets() throws {
        let log = ArchiveChurn.log(seed: 17, count: 600)
        let directory = try TemporaryDirectory()
        let store = try DutyStore(path: directory.storePath, clusterID: testCluster)
        try store.apply(log, 0..<log.count)
        try store.checkpoint()
        #expect(store.state.workingSetChanges().changed.isEmpty)
        let rows = try store.queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM live_ticket")! }
        #expect(rows == store.state.workingSetTicketCount)
        let open = try #require(store.state.workingSetTickets().first { $0.stage.isOpen })
        _ = try store.apply(.addNote(ticketID: open.id, text: "one more", customerVisible: false), at: log.last!.at, actor: ActorID("bob"),
                            index: UInt64(log.count + 1))
        #expect(store.state.workingSetChanges().changed.map(\.id) == [open.id])
        try store.checkpoint()
        try store.close()
        let reopened = try DutyStore(path: directory.storePath, clusterID: testCluster)
        #expect(reopened.state.ticket(open.id)?.timeline.last.map { "\($0.action)" }?.contains("one more") == true)
    }

    @Test func settingsAreWALWithNormalSync() throws {
        let directory = try TemporaryDirectory()
        let store = try DutyStore(path: directory.storePath, clusterID: testCluster)
        let settings = try store.durabilitySettings()
        #expect(settings.journalMode == "wal" && settings.synchronous == 1)
        try store.checkpoint()
        #expect(try store.durabilitySettings().synchronous == 1, "a checkpoint switches back to NORMAL")
    }
}

extension DutyStore {
    func archiveRowCount() throws -> Int {
        try queue.read { db in
            try Int.fetchOne(db, sql: "SELECT (SELECT count(*) FROM archived_ticket WHERE id NOT IN (SELECT id FROM archive_delta)) + (SELECT count(*) FROM archive_delta WHERE record IS NOT NULL)")!
        }
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
