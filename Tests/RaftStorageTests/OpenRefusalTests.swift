import Foundation
import GRDB
import RaftCore
import Testing
@testable import RaftStorage

/// Each case damages or forges a file, then checks that opening it is refused with the right error and
/// that neither the file's bytes nor the directory's contents changed.
@Suite struct OpenRefusalTests {
    /// A log of cluster `testCluster`, node `testNode`, with entries spread over several pages, closed cleanly.
    static func writeValidLog(at path: String) throws {
        let store = try RaftLogStore(path: path, clusterID: testCluster, nodeID: testNode)
        let payload = [UInt8](repeating: 7, count: 1000)
        try store.persist(hardState: HardState(term: 1, vote: 1, commit: 40),
                          entries: (1...40).map { Entry(term: 1, index: $0, data: payload) }, snapshot: nil)
        try store.close()
    }

    /// Opens `path` the way the node would and returns the refusal, after checking the file was left untouched.
    /// `allowedNewFiles` names side files SQLite may create (the -shm WAL index when reading a hot WAL).
    static func refusal(at directory: TemporaryDirectory, clusterID: String = testCluster, nodeID: NodeID = testNode,
                        allowedNewFiles: Set<String> = []) throws -> StorageError? {
        let path = directory.logPath
        let fingerprint = try FileFingerprint(path: path)
        let listing = try directory.listing()
        var refusal: StorageError?
        do {
            _ = try RaftLogStore(path: path, clusterID: clusterID, nodeID: nodeID)
        } catch {
            refusal = error
        }
        #expect(try FileFingerprint(path: path) == fingerprint, "the refused file changed")
        #expect(try directory.listing().filter { !allowedNewFiles.contains($0) } == listing, "the refused open left files behind")
        if let refusal { #expect(refusal.description.contains(path)) }
        return refusal
    }

    @Test func otherClusterIsRefused() throws {
        let directory = try TemporaryDirectory()
        try Self.writeValidLog(at: directory.logPath)
        let error = try Self.refusal(at: directory, clusterID: "another-cluster")
        #expect(error == .foreignDatabase(path: directory.logPath, field: "cluster id", expected: "another-cluster", found: testCluster))
    }

    @Test func otherNodeIsRefused() throws {
        let directory = try TemporaryDirectory()
        try Self.writeValidLog(at: directory.logPath)
        let error = try Self.refusal(at: directory, nodeID: 2)
        #expect(error == .foreignDatabase(path: directory.logPath, field: "node id", expected: "2", found: String(testNode)))
    }

    @Test func otherNodeIsRefusedWhileItsWriteAheadLogIsHot() throws {
        let original = try TemporaryDirectory()
        let owner = try RaftLogStore(path: original.logPath, clusterID: testCluster, nodeID: testNode)
        try owner.persist(hardState: HardState(term: 1, vote: 1, commit: 1), entries: makeEntries(1...3, term: 1), snapshot: nil)
        // A crash image: the last transactions live only in the -wal file, which must stay untouched too.
        let directory = try TemporaryDirectory()
        try original.copyCrashImage(to: directory)
        let walFingerprint = try FileFingerprint(path: directory.logPath + "-wal")
        // Reading a hot WAL needs its index, which SQLite keeps in a -shm file; that cache is all it may add.
        let error = try Self.refusal(at: directory, nodeID: 9, allowedNewFiles: ["raft.sqlite-shm"])
        #expect(error == .foreignDatabase(path: directory.logPath, field: "node id", expected: "9", found: String(testNode)))
        #expect(try FileFingerprint(path: directory.logPath + "-wal") == walFingerprint)
        #expect(try RaftLogStore(path: directory.logPath, clusterID: testCluster, nodeID: testNode).load().entries == makeEntries(1...3, term: 1))
    }

    @Test func newerFormatIsRefused() throws {
        let directory = try TemporaryDirectory()
        try Self.writeValidLog(at: directory.logPath)
        try Self.tamper(directory.logPath, sql: "UPDATE meta SET format_version = ?", arguments: [RaftLogSchema.formatVersion + 1])
        let error = try Self.refusal(at: directory)
        #expect(error == .newerFormat(path: directory.logPath, supportedVersion: RaftLogSchema.formatVersion, foundVersion: RaftLogSchema.formatVersion + 1))
    }

    @Test func unknownMigrationIsRefused() throws {
        let directory = try TemporaryDirectory()
        try Self.writeValidLog(at: directory.logPath)
        try Self.tamper(directory.logPath, sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99: from the future')", arguments: [])
        let error = try Self.refusal(at: directory)
        guard case let .corrupt(_, detail) = error else {
            Issue.record("expected corrupt, got \(String(describing: error))")
            return
        }
        #expect(detail.contains("v99: from the future"))
    }

    @Test func randomBytesAreRefused() throws {
        let directory = try TemporaryDirectory()
        var generator = SplitMix64(seed: 42)
        let bytes = (0..<8192).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        try Data(bytes).write(to: URL(fileURLWithPath: directory.logPath))
        let error = try Self.refusal(at: directory)
        guard case .notADatabase = error else {
            Issue.record("expected notADatabase, got \(String(describing: error))")
            return
        }
    }

    @Test func damagedHeaderIsRefused() throws {
        let directory = try TemporaryDirectory()
        try Self.writeValidLog(at: directory.logPath)
        try Self.overwrite(directory.logPath, at: 0, with: Array("NOT SQLite file!".utf8))
        let error = try Self.refusal(at: directory)
        guard case .notADatabase = error else {
            Issue.record("expected notADatabase, got \(String(describing: error))")
            return
        }
    }

    @Test func damagedPageFailsQuickCheck() throws {
        let directory = try TemporaryDirectory()
        try Self.writeValidLog(at: directory.logPath)
        let rootPage = try DatabaseQueue(path: directory.logPath).read { db in
            try Int.fetchOne(db, sql: "SELECT rootpage FROM sqlite_master WHERE name = 'hard_state'")
        }
        let pageSizeBytes = 4096
        // An invalid b-tree page type byte: the header still reads, the page does not.
        try Self.overwrite(directory.logPath, at: (try #require(rootPage) - 1) * pageSizeBytes, with: [0x0d, 0xff, 0xff, 0xff, 0xff, 0xff])
        let error = try Self.refusal(at: directory)
        guard case let .corrupt(_, detail) = error else {
            Issue.record("expected corrupt, got \(String(describing: error))")
            return
        }
        #expect(detail.contains("quick_check") || detail.contains("malformed"), "\(detail)")
    }

    @Test func otherSQLiteDatabaseIsRefused() throws {
        let directory = try TemporaryDirectory()
        try DatabaseQueue(path: directory.logPath).write { db in
            try db.execute(sql: "CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
        }
        let error = try Self.refusal(at: directory)
        #expect(error == .notARaftLog(path: directory.logPath, detail: "it has no meta table"))
    }

    @Test func emptyFileIsRefused() throws {
        let directory = try TemporaryDirectory()
        #expect(FileManager.default.createFile(atPath: directory.logPath, contents: Data()))
        let error = try Self.refusal(at: directory)
        #expect(error == .notARaftLog(path: directory.logPath, detail: "it has no meta table"))
    }

    @Test func writeAheadLogWithoutDatabaseIsRefused() throws {
        let directory = try TemporaryDirectory()
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: directory.logPath + "-wal"))
        #expect(throws: StorageError.corrupt(path: directory.logPath, detail: "its write-ahead log \(directory.logPath)-wal exists but the database file is missing")) {
            try RaftLogStore(path: directory.logPath, clusterID: testCluster, nodeID: testNode)
        }
        #expect(try directory.listing() == ["raft.sqlite-wal"])
    }

    @Test func validLogStillOpensAfterTheseChecks() throws {
        let directory = try TemporaryDirectory()
        try Self.writeValidLog(at: directory.logPath)
        let store = try RaftLogStore(path: directory.logPath, clusterID: testCluster, nodeID: testNode)
        #expect(try store.load().entries.count == 40)
    }

    // MARK: - Forging files

    static func tamper(_ path: String, sql: String, arguments: StatementArguments) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in try db.execute(sql: sql, arguments: arguments) }
        try queue.close()
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"), "the forged file should be self-contained")
    }

    static func overwrite(_ path: String, at offset: Int, with bytes: [UInt8]) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        try handle.seek(toOffset: UInt64(offset))
        try handle.write(contentsOf: Data(bytes))
        try handle.close()
    }
}
