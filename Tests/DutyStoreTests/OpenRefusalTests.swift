import DutyModel
@testable import DutyStore
import Foundation
import GRDB
import Testing

/// Each case damages or forges a file, then checks that opening it is refused with the right
/// error and that neither the file's bytes nor the directory's contents changed.
@Suite struct OpenRefusalTests {
    /// A store with a few hundred tickets (some archived), checkpointed and closed cleanly.
    static func writeValidStore(at path: String) throws {
        let store = try DutyStore(path: path, clusterID: testCluster)
        let log = ArchiveChurn.log(seed: 3, count: 400)
        try store.apply(log, 0..<log.count)
        try store.checkpoint()
        try store.close()
    }

    static func refusal(at directory: TemporaryDirectory, clusterID: String = testCluster) throws -> DutyStoreError? {
        let path = directory.storePath
        let fingerprint = try FileFingerprint(path: path)
        let listing = try directory.listing()
        var refusal: DutyStoreError?
        do {
            _ = try DutyStore(path: path, clusterID: clusterID)
        } catch {
            refusal = error
        }
        #expect(try FileFingerprint(path: path) == fingerprint, "the refused file changed")
        #expect(try directory.listing() == listing, "the refused open left files behind")
        if let refusal { #expect(refusal.description.contains(path)) }
        return refusal
    }

    /// Changes a closed store with a plain SQLite connection, as a newer build or another tool would.
    static func tamper(_ path: String, _ sql: String) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in try db.execute(sql: sql) }
        try queue.close()
    }

    @Test func aValidStoreOpens() throws {
        let directory = try TemporaryDirectory()
        try Self.writeValidStore(at: directory.storePath)
        let store = try DutyStore(path: directory.storePath, clusterID: testCluster)
        #expect(store.checkpointIndex > 0)
        #expect(store.state.archivedTicketCount > 0)
    }

    @Test func otherClusterIsRefused() throws {
        let directory = try TemporaryDirectory()
        try Self.writeValidStore(at: directory.storePath)
        let error = try Self.refusal(at: directory, clusterID: "another-cluster")
        #expect(error == .foreignCluster(path: directory.storePath, expected: "another-cluster", found: testCluster))
    }

    @Test func newerFormatIsRefused() throws {
        let directory = try TemporaryDirectory()
        try Self.writeValidStore(at: directory.storePath)
        try Self.tamper(directory.storePath, "UPDATE meta SET format_version = \(DutyStoreSchema.formatVersion + 1)")
        let error = try Self.refusal(at: directory)
        #expect(error == .newerFormat(path: directory.storePath, supportedVersion: DutyStoreSchema.formatVersion,
                                      foundVersion: DutyStoreSchema.formatVersion + 1))
    }

    @Test func unknownMigrationIsRefused() throws {
        let directory = try TemporaryDirectory()
        try Self.writeValidStore(at: directory.storePath)
        try Self.tamper(directory.storePath, "INSERT INTO grdb_migrations (identifier) VALUES ('v99: from the future')")
        guard case .corrupt(_, let detail)? = try Self.refusal(at: directory) else {
            Issue.record("expected a corrupt-file refusal")
            return
        }
        #expect(detail.contains("v99: from the future"))
    }

    /// Another program's database, an empty SQLite file, and Vigil's own Raft log look alike to SQLite.
    @Test(arguments: [
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)",
        "CREATE TABLE meta (singleton INTEGER PRIMARY KEY, cluster_id TEXT NOT NULL, node_id INTEGER NOT NULL, format_version INTEGER NOT NULL)",
        "PRAGMA user_version = 1",
    ])
    func foreignDatabaseIsRefused(schema: String) throws {
        let directory = try TemporaryDirectory()
        try Self.tamper(directory.storePath, schema)
        guard case .notADutyStore(_, let detail)? = try Self.refusal(at: directory) else {
            Issue.record("expected a not-a-duty-store refusal")
            return
        }
        #expect(detail.contains("application_id"))
    }

    @Test func garbageIsRefused() throws {
        let directory = try TemporaryDirectory()
        try Data(repeating: 0x42, count: 8_192).write(to: URL(fileURLWithPath: directory.storePath))
        guard case .notADatabase? = try Self.refusal(at: directory) else {
            Issue.record("expected a not-a-database refusal")
            return
        }
    }

    /// A damaged b-tree page is caught by the structural check before anything is written.
    @Test func damagedPagesAreRefused() throws {
        let directory = try TemporaryDirectory()
        try Self.writeValidStore(at: directory.storePath)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: directory.storePath)))
        let pageSize = 4_096
        #expect(bytes.count > 4 * pageSize)
        // Scribble over every page but the first (the header and schema), keeping the size.
        for page in 1..<(bytes.count / pageSize) {
            for offset in stride(from: page * pageSize, to: page * pageSize + 64, by: 1) { bytes[offset] = 0xA5 }
        }
        try Data(bytes).write(to: URL(fileURLWithPath: directory.storePath))
        let error = try Self.refusal(at: directory)
        switch error {
        case .corrupt?, .notADatabase?: break
        default: Issue.record("expected a corrupt-file refusal, got \(String(describing: error))")
        }
    }

    /// A working set that disagrees with the archive it claims is refused with both counts.
    @Test func workingSetThatDisagreesWithTheArchiveIsRefused() throws {
        let directory = try TemporaryDirectory()
        try Self.writeValidStore(at: directory.storePath)
        try Self.tamper(directory.storePath, "DELETE FROM archived_ticket WHERE id = (SELECT min(id) FROM archived_ticket)")
        var refusal: DutyStoreError?
        do { _ = try DutyStore(path: directory.storePath, clusterID: testCluster) } catch { refusal = error }
        guard case .corrupt(_, let detail)? = refusal else {
            Issue.record("expected a corrupt-file refusal")
            return
        }
        #expect(detail.contains("archived tickets"))
    }

    @Test func secondOpenWhileInUseIsRefused() throws {
        let directory = try TemporaryDirectory()
        let owner = try DutyStore(path: directory.storePath, clusterID: testCluster)
        #expect(throws: DutyStoreError.inUse(path: directory.storePath)) {
            _ = try DutyStore(path: directory.storePath, clusterID: testCluster)
        }
        try owner.close()
        _ = try DutyStore(path: directory.storePath, clusterID: testCluster)
    }

    @Test func closedStoreRefusesWork() throws {
        let directory = try TemporaryDirectory()
        let store = try DutyStore(path: directory.storePath, clusterID: testCluster)
        try store.close()
        try store.close()
        #expect(throws: DutyStoreError.self) { try store.checkpoint() }
        #expect(throws: DutyStoreError.self) { _ = try store.snapshot() }
    }
}
