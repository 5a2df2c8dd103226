import Foundation
import GRDB

/// Decides whether an existing file may be opened for writing, without changing a byte of it.
enum StoreFileValidator {
    /// Refuses a damaged, foreign or newer file with the matching `DutyStoreError`.
    static func validate(path: String, clusterID: String) throws(DutyStoreError) {
        do {
            let queue = try openReadOnly(path: path)
            defer { try? queue.close() }
            try queue.read { db in try check(db, path: path, clusterID: clusterID) }
        } catch {
            throw DutyStoreError.wrapping(error, path: path, operation: "validate")
        }
    }

    private static func check(_ db: Database, path: String, clusterID: String) throws {
        // Reading the schema is what trips over a damaged header (SQLITE_NOTADB).
        _ = try Row.fetchAll(db, sql: "SELECT name FROM sqlite_master LIMIT 1")
        let applicationID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
        guard applicationID == DutyStoreSchema.applicationID else {
            throw DutyStoreError.notADutyStore(
                path: path, detail: "its SQLite application_id is \(String(format: "0x%08x", applicationID)), a duty store has \(String(format: "0x%08x", DutyStoreSchema.applicationID))")
        }
        // Structure only (b-trees, free lists); O(file size), a second or so for a million archived tickets.
        let problems = try String.fetchAll(db, sql: "PRAGMA quick_check")
        guard problems == ["ok"] else {
            throw DutyStoreError.corrupt(path: path, detail: "PRAGMA quick_check reported: " + problems.prefix(5).joined(separator: "; "))
        }
        guard try db.tableExists("meta"),
              let row = try Row.fetchOne(db, sql: "SELECT cluster_id, format_version FROM meta WHERE singleton = 1"),
              let foundCluster = String.fromDatabaseValue(row[0]), let foundVersion = Int.fromDatabaseValue(row[1]) else {
            throw DutyStoreError.corrupt(path: path, detail: "its meta row is missing or malformed")
        }
        guard foundVersion <= DutyStoreSchema.formatVersion else {
            throw DutyStoreError.newerFormat(path: path, supportedVersion: DutyStoreSchema.formatVersion, foundVersion: foundVersion)
        }
        let migrator = DutyStoreSchema.migrator
        if try migrator.hasBeenSuperseded(db) {
            let unknown = try migrator.appliedIdentifiers(db).subtracting(migrator.migrations).sorted()
            throw DutyStoreError.corrupt(
                path: path, detail: "meta says format \(foundVersion) but the file records migrations this build does not know: \(unknown.joined(separator: ", "))")
        }
        guard foundCluster == clusterID else {
            throw DutyStoreError.foreignCluster(path: path, expected: clusterID, found: foundCluster)
        }
    }

    /// Opens without creating anything next to the file where SQLite allows it.
    ///
    /// A read-only open of a WAL database creates `-wal` and `-shm` files. Without a `-wal` the main
    /// file holds every commit, so `immutable=1` reads it with no locks and no side files. With a
    /// `-wal` (the node crashed) its frames are data and must be read normally; SQLite then builds
    /// the WAL index in a `-shm` file, the only file a refused open may add.
    private static func openReadOnly(path: String) throws -> DatabaseQueue {
        let configuration = ConnectionSettings.readOnly()
        guard !FileSystem.exists(path + "-wal") else {
            return try DatabaseQueue(path: path, configuration: configuration)
        }
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "/-._~")
        let uri = "file:\(path.addingPercentEncoding(withAllowedCharacters: allowed) ?? path)?immutable=1"
        do {
            return try DatabaseQueue(path: uri, configuration: configuration)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CANTOPEN {
            // An SQLite built without URI support looks for a file literally named "file:…"; read-only never creates it.
            return try DatabaseQueue(path: path, configuration: configuration)
        }
    }
}
