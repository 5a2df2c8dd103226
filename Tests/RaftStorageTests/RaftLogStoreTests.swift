import Foundation
import RaftCore
import Testing
@testable import RaftStorage

@Suite struct RaftLogStoreTests {
    @Test func newLogLoadsEmpty() throws {
        let directory = try TemporaryDirectory()
        let store = try RaftLogStore(path: directory.logPath, clusterID: testCluster, nodeID: testNode)
        #expect(try store.load() == PersistedState())
        #expect(store.sizeBytes > 0)
        // Creation goes through a staging file that must not be left behind.
        #expect(try directory.listing().allSatisfy { !$0.contains(".creating") })
    }

    @Test func persistAndLoadRoundTrip() throws {
        let directory = try TemporaryDirectory()
        let store = try RaftLogStore(path: directory.logPath, clusterID: testCluster, nodeID: testNode)
        let entries = [
            Entry(term: 1, index: 1, kind: .normal, data: []),  // a leader's no-op carries no data
            Entry(term: 1, index: 2, kind: .confChange, data: ConfChange(.addLearner, node: 4).encoded),
            Entry(term: 2, index: 3, kind: .normal, data: [0, 255, 0, 1]),
        ]
        let hardState = HardState(term: 2, vote: .max, commit: 2)  // node ids use the full UInt64 range
        try store.persist(hardState: hardState, entries: entries, snapshot: nil)
        #expect(try store.load() == PersistedState(hardState: hardState, entries: entries))
        #expect(try store.entries(from: 2, through: 3) == Array(entries[1...]))
        #expect(try store.entries(from: 3, through: 99) == [entries[2]])
        #expect(try store.entries(from: 3, through: 2) == [])
    }

    /// The first write of every founding member, exactly as the core builds it.
    @Test func bootstrapStateRoundTrips() throws {
        let directory = try TemporaryDirectory()
        let store = try RaftLogStore(path: directory.logPath, clusterID: testCluster, nodeID: testNode)
        let bootstrap = PersistedState.bootstrap(voters: [1, 2, 3])
        try store.persist(hardState: bootstrap.hardState, entries: bootstrap.entries, snapshot: nil)
        #expect(try store.load() == bootstrap)
    }

    @Test func hardStateAloneKeepsEntries() throws {
        let directory = try TemporaryDirectory()
        let store = try RaftLogStore(path: directory.logPath, clusterID: testCluster, nodeID: testNode)
        try store.persist(hardState: HardState(term: 1, vote: 1, commit: 0), entries: makeEntries(1...3, term: 1), snapshot: nil)
        try store.persist(hardState: HardState(term: 1, vote: 1, commit: 3), entries: [], snapshot: nil)
        let state = try store.load()
        #expect(state.hardState == HardState(term: 1, vote: 1, commit: 3))
        #expect(state.entries == makeEntries(1...3, term: 1))
    }

    @Test func conflictingSuffixIsTruncated() throws {
        let directory = try TemporaryDirectory()
        let store = try RaftLogStore(path: directory.logPath, clusterID: testCluster, nodeID: testNode)
        try store.persist(hardState: HardState(term: 1, vote: 1, commit: 2), entries: makeEntries(1...5, term: 1), snapshot: nil)
        // A new leader of term 2 overwrites the uncommitted tail from index 4 with a shorter log.
        try store.persist(hardState: HardState(term: 2, vote: 2, commit: 2), entries: makeEntries(4...4, term: 2), snapshot: nil)
        #expect(try store.load().entries == makeEntries(1...3, term: 1) + makeEntries(4...4, term: 2))
    }

    @Test func resendingCommittedEntriesUnchangedIsAccepted() throws {
        let directory = try TemporaryDirectory()
        let store = try RaftLogStore(path: directory.logPath, clusterID: testCluster, nodeID: testNode)
        try store.persist(hardState: HardState(term: 1, vote: 1, commit: 3), entries: makeEntries(1...3, term: 1), snapshot: nil)
        try store.persist(hardState: nil, entries: makeEntries(2...5, term: 1), snapshot: nil)
        #expect(try store.load().entries == makeEntries(1...5, term: 1))
    }

    @Test func snapshotInstallWipesTheLog() throws {
        let directory = try TemporaryDirectory()
        let store = try RaftLogStore(path: directory.logPath, clusterID: testCluster, nodeID: testNode)
        try store.persist(hardState: HardState(term: 1, vote: 1, commit: 2), entries: makeEntries(1...6, term: 1), snapshot: nil)
        let snapshot = Snapshot(index: 10, term: 3, conf: ConfState(voters: [1, 2, 3], learners: [7]), data: Array("state".utf8))
        let hardState = HardState(term: 3, vote: 0, commit: 10)
        try store.persist(hardState: hardState, entries: makeEntries(11...12, term: 3), snapshot: snapshot)
        #expect(try store.load() == PersistedState(hardState: hardState, snapshot: snapshot, entries: makeEntries(11...12, term: 3)))
        #expect(try store.entries(from: 1, through: 20) == makeEntries(11...12, term: 3))
    }

    @Test func snapshotWithEmptyDataAndMembershipRoundTrips() throws {
        let directory = try TemporaryDirectory()
        let store = try RaftLogStore(path: directory.logPath, clusterID: testCluster, nodeID: testNode)
        let snapshot = Snapshot(index: 4, term: 2, conf: ConfState(voters: [.max, 1]), data: [])
        try store.persist(hardState: HardState(term: 2, vote: 0, commit: 4), entries: [], snapshot: snapshot)
        #expect(try store.load().snapshot == snapshot)
    }

    @Test func compactionDeletesCoveredEntries() throws {
        let directory = try TemporaryDirectory()
        let store = try RaftLogStore(path: directory.logPath, clusterID: testCluster, nodeID: testNode)
        let entries = makeEntries(1...3, term: 1) + makeEntries(4...8, term: 2)
        try store.persist(hardState: HardState(term: 2, vote: 1, commit: 6), entries: entries, snapshot: nil)
        let snapshot = Snapshot(index: 5, term: 2, conf: ConfState(voters: [1, 2, 3]), data: Array("applied to 5".utf8))
        try store.compact(to: snapshot)
        let state = try store.load()
        #expect(state.snapshot == snapshot)
        #expect(state.entries == Array(entries[5...]))
        #expect(state.hardState == HardState(term: 2, vote: 1, commit: 6))
        #expect(try store.entries(from: 1, through: 5) == [])
        // Compacting to the snapshot already stored replaces its data (a re-taken snapshot) and changes nothing else.
        let retaken = Snapshot(index: 5, term: 2, conf: ConfState(voters: [1, 2, 3]), data: Array("again".utf8))
        try store.compact(to: retaken)
        #expect(try store.load() == PersistedState(hardState: state.hardState, snapshot: retaken, entries: state.entries))
    }

    @Test func compactionOfTheWholeLogThenAppend() throws {
        let directory = try TemporaryDirectory()
        let store = try RaftLogStore(path: directory.logPath, clusterID: testCluster, nodeID: testNode)
        try store.persist(hardState: HardState(term: 1, vote: 1, commit: 4), entries: makeEntries(1...4, term: 1), snapshot: nil)
        try store.compact(to: Snapshot(index: 4, term: 1, conf: ConfState(voters: [1])))
        #expect(try store.load().entries == [])
        try store.persist(hardState: nil, entries: makeEntries(5...6, term: 1), snapshot: nil)
        #expect(try store.load().entries == makeEntries(5...6, term: 1))
        #expect(try store.load().lastIndex == 6)
    }

    @Test func reopenAfterCloseRestoresEverything() throws {
        let directory = try TemporaryDirectory()
        let expected: PersistedState
        do {
            let store = try RaftLogStore(path: directory.logPath, clusterID: testCluster, nodeID: testNode)
            try store.persist(hardState: HardState(term: 3, vote: 2, commit: 7), entries: makeEntries(1...9, term: 3), snapshot: nil)
            try store.compact(to: Snapshot(index: 4, term: 3, conf: ConfState(voters: [1, 2, 3]), data: [9, 9]))
            expected = try store.load()
            try store.close()
            #expect(throws: StorageError.self) { try store.load() }
        }
        let reopened = try RaftLogStore(path: directory.logPath, clusterID: testCluster, nodeID: testNode)
        #expect(try reopened.load() == expected)
        // Writing goes on where it stopped.
        try reopened.persist(hardState: nil, entries: makeEntries(10...10, term: 3), snapshot: nil)
        #expect(try reopened.load().lastIndex == 10)
    }

    @Test func crashImageWithHotWriteAheadLogRecovers() throws {
        let directory = try TemporaryDirectory()
        let store = try RaftLogStore(path: directory.logPath, clusterID: testCluster, nodeID: testNode)
        try store.persist(hardState: HardState(term: 1, vote: 1, commit: 1), entries: makeEntries(1...2, term: 1), snapshot: nil)
        // Copying the files of an open store is what a power cut leaves: committed frames only in the -wal.
        let image = try TemporaryDirectory()
        try directory.copyCrashImage(to: image)
        #expect(FileManager.default.fileExists(atPath: image.logPath + "-wal"))
        let recovered = try RaftLogStore(path: image.logPath, clusterID: testCluster, nodeID: testNode)
        #expect(try recovered.load() == store.load())
    }

    @Test func secondOpenerIsRefusedWhileTheFirstRuns() throws {
        let directory = try TemporaryDirectory()
        let first = try RaftLogStore(path: directory.logPath, clusterID: testCluster, nodeID: testNode)
        try first.persist(hardState: HardState(term: 1, vote: 1, commit: 0), entries: [], snapshot: nil)
        #expect(throws: StorageError.inUse(path: directory.logPath)) {
            try RaftLogStore(path: directory.logPath, clusterID: testCluster, nodeID: testNode)
        }
        #expect(try first.load().hardState == HardState(term: 1, vote: 1, commit: 0))
        try first.close()
        _ = try RaftLogStore(path: directory.logPath, clusterID: testCluster, nodeID: testNode)
    }

    /// GRDB's own WAL setup lowers `synchronous` to NORMAL; this is the check that caught it.
    @Test func writesAreFsyncedAtEveryCommit() throws {
        let directory = try TemporaryDirectory()
        let store = try RaftLogStore(path: directory.logPath, clusterID: testCluster, nodeID: testNode)
        let settings = try store.durabilitySettings()
        #expect(settings.journalMode == "wal")
        #expect(settings.synchronous == 2, "synchronous must be FULL (2)")
        try store.close()
        let reopened = try RaftLogStore(path: directory.logPath, clusterID: testCluster, nodeID: testNode)
        #expect(try reopened.durabilitySettings().synchronous == 2)
    }

    @Test func errorsReadAsSentences() {
        let error = StorageError.foreignDatabase(path: "/data/raft.sqlite", field: "cluster id", expected: "prod", found: "staging")
        #expect(error.description.contains("/data/raft.sqlite"))
        #expect(error.description.contains("expected prod, found staging"))
    }
}
