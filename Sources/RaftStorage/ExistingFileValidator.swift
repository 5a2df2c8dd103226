import Foundation
import GRDB
import RaftCore

/// Decides whether an existing file may be opened for writing, without changing a byte of it.
enum ExistingFileValidator {
    /// Refuses a damaged, foreign or newer file with the matching `StorageError`.
    static func validate(path: String, clusterID: String, nodeID: NodeID) throws(StorageError) {
        do {
            let queue = try openReadOnly(path: path)
            defer { try? queue.close() }
            try queue.read { db in try check(db, path: path, clusterID: clusterID, nodeID: nodeID) }
        } catch {
            throw StorageError.wrapping(error, path: path, operation: "validate")
        }
    }

    private static func check(_ db: Database, path: String, clusterID: String, nodeID: NodeID) throws {
        // Reading the schema is what trips over a damaged header (SQLITE_NOTADB).
        _ = try Row.fetchAll(db, sql: "SELECT name FROM sqlite_master LIMIT 1")
        let problems = try String.fetchAll(db, sql: "PRAGMA quick_check")
        guard problems == ["ok"] else {
            throw StorageError.corrupt(path: path, detail: "PRAGMA quick_check reported: " + problems.prefix(5).joined(separator: "; "))
        }
        let meta = try MetaRecord.read(db, path: path)
        guard meta.formatVersion <= RaftLogSchema.formatVersion else {
            throw StorageError.newerFormat(path: path, supportedVersion: RaftLogSchema.formatVersion, foundVersion: meta.formatVersion)
        }
        let migrator = RaftLogSchema.migrator
        if try migrator.hasBeenSuperseded(db) {
            let unknown = try migrator.appliedIdentifiers(db).subtracting(migrator.migrations).sorted()
            throw StorageError.corrupt(
                path: path,
                detail: "meta says format \(meta.formatVersion) but the file records migrations this build does not know: \(unknown.joined(separator: ", "))")
        }
        guard meta.clusterID == clusterID else {
            throw StorageError.foreignDatabase(path: path, field: "cluster id", expected: clusterID, found: meta.clusterID)
        }
        guard meta.nodeID == nodeID else {
            throw StorageError.foreignDatabase(path: path, field: "node id", expected: String(nodeID), found: String(meta.nodeID))
        }
    }

    /// Opens without creating anything next to the file where SQLite allows it.
    ///
    /// A plain read-only open of a WAL database creates `-wal` and `-shm` files. When no `-wal` exists the main
    /// file holds every committed transaction, so `immutable=1` reads it with no locks and no side files.
    /// When a `-wal` exists (the node crashed), its frames are part of the data and must be read the normal way;
    /// SQLite then builds the WAL index in a `-shm` file, a cache that is the only file a refused open may add.
    private static func openReadOnly(path: String) throws -> DatabaseQueue {
        let configuration = ConnectionSettings.readOnly()
        guard !FileSystem.exists(path + "-wal") else {
            return try DatabaseQueue(path: path, configuration: configuration)
        }
        do {
            return try DatabaseQueue(path: immutableURI(for: path), configuration: configuration)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CANTOPEN {
            // An SQLite built without URI support looks for a file literally named "file:…"; read-only never creates it.
            return try DatabaseQueue(path: path, configuration: configuration)
        }
    }

    static func immutableURI(for path: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "/-._~")
        let encoded = path.addingPercentEncoding(withAllowedCharacters: allowed) ?? path
        return "file:\(encoded)?immutable=1"
    }
}
