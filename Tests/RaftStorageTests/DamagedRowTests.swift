import Foundation
import GRDB
import RaftCore
import Testing
@testable import RaftStorage

/// Rows no correct write produces (edited by hand, or damaged in a way quick_check cannot see) must make
/// `load` fail with `StorageError.corrupt` naming the problem, never trap or return a wrong log.
@Suite struct DamagedRowTests {
    struct Damage: Sendable, CustomTestStringConvertible {
        var name: String
        var sql: String
        var detail: String
        var testDescription: String { name }
    }

    static let damages: [Damage] = [
        Damage(name: "hole in the log", sql: "DELETE FROM entry WHERE log_index = 3", detail: "jumps from entry 2 to entry 4"),
        Damage(name: "entry left below the snapshot", sql: "UPDATE snapshot SET snapshot_index = 2, term = 1", detail: "entry 1 is still stored at or below the snapshot index 2"),
        Damage(name: "unknown entry kind", sql: "UPDATE entry SET kind = 9 WHERE log_index = 2", detail: "entry 2 has unknown kind 9"),
        Damage(name: "text in a term column", sql: "UPDATE entry SET term = 'two' WHERE log_index = 2", detail: "not a non-negative integer"),
        Damage(name: "negative commit index", sql: "UPDATE hard_state SET commit_index = -1", detail: "hard_state.commit_index"),
        Damage(name: "malformed voter list", sql: "UPDATE snapshot SET voters = '1,x'", detail: "not a comma-separated list of node ids"),
        Damage(name: "node both voter and learner", sql: "UPDATE snapshot SET voters = '1,2', learners = '2'", detail: "both voter and learner"),
        // The real RaftCore traps on a repeated id in ConfState(voters:learners:); the store must report it instead.
        Damage(name: "voter listed twice", sql: "UPDATE snapshot SET voters = '1,1'", detail: "lists a node twice"),
        Damage(name: "missing hard state row", sql: "DELETE FROM hard_state", detail: "the hard state row is missing"),
    ]

    @Test(arguments: damages)
    func damagedRowIsReportedAsCorrupt(_ damage: Damage) throws {
        let directory = try TemporaryDirectory()
        let store = try RaftLogStore(path: directory.logPath, clusterID: testCluster, nodeID: testNode)
        try store.persist(hardState: HardState(term: 1, vote: 1, commit: 2), entries: makeEntries(1...4, term: 1), snapshot: nil)
        try store.close()
        try OpenRefusalTests.tamper(directory.logPath, sql: damage.sql, arguments: [])

        let reopened = try RaftLogStore(path: directory.logPath, clusterID: testCluster, nodeID: testNode)
        do {
            _ = try reopened.load()
            Issue.record("\(damage.name) was loaded without complaint")
        } catch {
            guard case let .corrupt(path, detail) = error else {
                Issue.record("expected corrupt, got \(error)")
                return
            }
            #expect(path == directory.logPath)
            #expect(detail.contains(damage.detail), "\(detail)")
        }
    }

    @Test func interruptedCreationIsDiscarded() throws {
        let directory = try TemporaryDirectory()
        try Data("half-written".utf8).write(to: URL(fileURLWithPath: directory.logPath + ".creating"))
        let store = try RaftLogStore(path: directory.logPath, clusterID: testCluster, nodeID: testNode)
        #expect(try store.load() == PersistedState())
        #expect(try directory.listing().filter { $0.contains(".creating") } == [])
    }

    @Test func memberListCoding() {
        #expect(MemberListCoding.encode([1, 2, .max]) == "1,2,18446744073709551615")
        #expect(MemberListCoding.decode("1,2,18446744073709551615") == [1, 2, .max])
        #expect(MemberListCoding.decode("") == [])
        for malformed in ["1,,2", "0", "1,", "-1", "1;2", "18446744073709551616"] {
            #expect(MemberListCoding.decode(malformed) == nil, "\(malformed)")
        }
    }
}
