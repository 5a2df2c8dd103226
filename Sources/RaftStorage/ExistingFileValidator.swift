import Foundation
import GRDB
import RaftCore
import SQLiteSupport

/// Decides whether an existing file may be opened for writing, without changing a byte of it.
enum ExistingFileValidator {
    /// Refuses a damaged, foreign or newer file with the matching `StorageError`.
    static func validate(path: String, clusterID: String, nodeID: NodeID) throws(StorageError) {
        do {
            let queue = try SQLiteFiles.openForChecking(path: path, label: "RaftLogStore validation")
            defer { try? queue.close() }
            try queue.read { db in try check(db, path: path, clusterID: clusterID, nodeID: nodeID) }
        } catch {
            throw StorageError.wrapping(error, path: path, operation: "validate")
        }
    }

    private static func check(_ db: Database, path: String, clusterID: String, nodeID: NodeID) throws {
        if let problems = try SQLiteFiles.structuralProblems(db) { throw StorageError.corrupt(path: path, detail: problems) }
        let meta = try MetaRecord.read(db, path: path)
        guard meta.formatVersion <= RaftLogSchema.formatVersion else {
            throw StorageError.newerFormat(path: path, supportedVersion: RaftLogSchema.formatVersion, foundVersion: meta.formatVersion)
        }
        if let unknown = try SQLiteFiles.unknownMigrations(RaftLogSchema.migrator, db) {
            throw StorageError.corrupt(
                path: path, detail: "meta says format \(meta.formatVersion) but the file records migrations this build does not know: \(unknown)")
        }
        guard meta.clusterID == clusterID else {
            throw StorageError.foreignDatabase(path: path, field: "cluster id", expected: clusterID, found: meta.clusterID)
        }
        guard meta.nodeID == nodeID else {
            throw StorageError.foreignDatabase(path: path, field: "node id", expected: String(nodeID), found: String(meta.nodeID))
        }
    }
}
