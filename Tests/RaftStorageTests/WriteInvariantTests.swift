import Foundation
import RaftCore
import Testing
@testable import RaftStorage

/// A write the store must refuse whole, and a fragment of the violation it must name.
struct RefusedWrite: Sendable, CustomTestStringConvertible {
    var name: String
    var violation: String
    var write: @Sendable (RaftLogStore) throws(StorageError) -> Void

    var testDescription: String { name }

    static func persist(_ name: String, _ violation: String, hardState: HardState? = nil, entries: [Entry] = [], snapshot: Snapshot? = nil) -> RefusedWrite {
        RefusedWrite(name: name, violation: violation) { store throws(StorageError) in
            try store.persist(hardState: hardState, entries: entries, snapshot: snapshot)
        }
    }

    static func compact(_ name: String, _ violation: String, to snapshot: Snapshot) -> RefusedWrite {
        RefusedWrite(name: name, violation: violation) { store throws(StorageError) in try store.compact(to: snapshot) }
    }
}

@Suite struct WriteInvariantTests {
    /// Snapshot at 2 (term 1), entries 3 (term 1) and 4...8 (term 2), hard state term 2, vote 1, commit 5.
    static func baseStore(in directory: TemporaryDirectory) throws -> RaftLogStore {
        let store = try RaftLogStore(path: directory.logPath, clusterID: testCluster, nodeID: testNode)
        try store.persist(hardState: HardState(term: 2, vote: 1, commit: 5),
                          entries: makeEntries(1...3, term: 1) + makeEntries(4...8, term: 2), snapshot: nil)
        try store.compact(to: Snapshot(index: 2, term: 1, conf: ConfState(voters: [1, 2, 3])))
        return store
    }

    static let snapshotAt10 = Snapshot(index: 10, term: 2, conf: ConfState(voters: [1, 2, 3]))

    static let refusedWrites: [RefusedWrite] = [
        .persist("entries with a hole", "not contiguous", entries: [Entry(term: 2, index: 9), Entry(term: 2, index: 11)]),
        .persist("entries in decreasing order", "not contiguous", entries: [Entry(term: 2, index: 9), Entry(term: 2, index: 8)]),
        .persist("terms decreasing inside a batch", "below term 2 of entry 9", entries: [Entry(term: 2, index: 9), Entry(term: 1, index: 10)]),
        .persist("entry at the snapshot index", "at or below the snapshot index 2", entries: makeEntries(2...3, term: 1)),
        .persist("entries after a gap", "leaving a gap", entries: makeEntries(10...10, term: 2)),
        .persist("entry term below the previous entry's", "below term 2 of entry 8", entries: makeEntries(9...9, term: 1)),
        .persist("a committed entry replaced by another term", "entry 5 is committed",
                 hardState: HardState(term: 3, vote: 0, commit: 5), entries: makeEntries(5...6, term: 3)),
        .persist("truncation below the commit index", "beyond the last log index 4", entries: makeEntries(4...4, term: 2)),
        .persist("commit index going back", "commit index would go back from 5 to 4", hardState: HardState(term: 2, vote: 1, commit: 4)),
        .persist("term going back", "term would go back from 2 to 1", hardState: HardState(term: 1, vote: 1, commit: 5)),
        .persist("a second vote in one term", "vote in term 2 would change from node 1 to node 3", hardState: HardState(term: 2, vote: 3, commit: 5)),
        .persist("withdrawing a vote in the same term", "would change from node 1 to node 0", hardState: HardState(term: 2, vote: 0, commit: 5)),
        .persist("commit beyond the log", "commit index 9 is beyond the last log index 8", hardState: HardState(term: 2, vote: 1, commit: 9)),
        .persist("entry term above the hard state's term", "the log holds term 3 but the hard state's term is 2", entries: makeEntries(9...9, term: 3)),
        .persist("entry with term 0", "terms must be positive", entries: [Entry(term: 0, index: 9)]),
        .persist("index beyond SQLite's integers", "at most", entries: [Entry(term: 2, index: UInt64(Int64.max) + 1)]),
        .persist("snapshot without a hard state catching up", "commit index 5 is below the snapshot index 10", snapshot: snapshotAt10),
        .persist("snapshot older than the stored one", "older than the stored snapshot at 2",
                 snapshot: Snapshot(index: 1, term: 1, conf: ConfState(voters: [1]))),
        .persist("snapshot below the commit index", "below the commit index 5",
                 hardState: HardState(term: 2, vote: 1, commit: 5), snapshot: Snapshot(index: 4, term: 2, conf: ConfState(voters: [1]))),
        .persist("snapshot with index 0", "must be positive", snapshot: Snapshot()),
        .persist("entries not following an installed snapshot", "leaving a gap",
                 hardState: HardState(term: 2, vote: 1, commit: 10), entries: makeEntries(12...12, term: 2), snapshot: snapshotAt10),
        .compact("compaction beyond the commit index", "beyond the commit index 5", to: Snapshot(index: 6, term: 2)),
        .compact("compaction with the wrong term", "claims term 1 but the log has term 2", to: Snapshot(index: 4, term: 1)),
        .compact("compaction behind the stored snapshot", "behind the stored snapshot at 2", to: Snapshot(index: 1, term: 1)),
        .compact("compaction re-taking the snapshot with another term", "claims term 2 but the log has term 1", to: Snapshot(index: 2, term: 2)),
    ]

    @Test(arguments: refusedWrites)
    func refusedWriteChangesNothing(_ refused: RefusedWrite) throws {
        let directory = try TemporaryDirectory()
        let store = try Self.baseStore(in: directory)
        let before = try store.load()
        do {
            try refused.write(store)
            Issue.record("\(refused.name) was accepted")
        } catch let error {
            guard case let .invariant(path, violation) = error else {
                Issue.record("expected an invariant error, got \(error)")
                return
            }
            #expect(path == directory.logPath)
            #expect(violation.contains(refused.violation), "\(violation)")
            #expect(error.description.contains("nothing was written"))
        }
        #expect(try store.load() == before)
    }

    @Test func theBaseStateIsWhatTheTableAssumes() throws {
        let directory = try TemporaryDirectory()
        let state = try Self.baseStore(in: directory).load()
        #expect(state.snapshot.index == 2 && state.snapshot.term == 1)
        #expect(state.entries == makeEntries(3...3, term: 1) + makeEntries(4...8, term: 2))
        #expect(state.hardState == HardState(term: 2, vote: 1, commit: 5))
    }

    @Test func identityMustBeGiven() throws {
        let directory = try TemporaryDirectory()
        #expect(throws: StorageError.self) { try RaftLogStore(path: directory.logPath, clusterID: "", nodeID: 1) }
        #expect(throws: StorageError.self) { try RaftLogStore(path: directory.logPath, clusterID: "c", nodeID: noNode) }
        #expect(try directory.listing() == [])
    }
}
