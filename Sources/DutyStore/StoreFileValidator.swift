import Foundation
import GRDB
import SQLiteSupport

/// Decides whether an existing file may be opened for writing, without changing a byte of it.
enum StoreFileValidator {
    /// Refuses a damaged, foreign or newer file with the matching `DutyStoreError`.
    static func validate(path: String, clusterID: String) throws(DutyStoreError) {
        do {
            let queue = try SQLiteFiles.openForChecking(path: path, label: "DutyStore validation")
            defer { try? queue.close() }
            try queue.read { db in try check(db, path: path, clusterID: clusterID) }
        } catch {
            throw DutyStoreError.wrapping(error, path: path, operation: "validate")
        }
    }

    private static func check(_ db: Database, path: String, clusterID: String) throws {
        if let problems = try SQLiteFiles.structuralProblems(db) { throw DutyStoreError.corrupt(path: path, detail: problems) }
        let applicationID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
        guard applicationID == DutyStoreSchema.applicationID else {
            throw DutyStoreError.notADutyStore(
                path: path, detail: "its SQLite application_id is \(String(format: "0x%08x", applicationID)), a duty store has \(String(format: "0x%08x", DutyStoreSchema.applicationID))")
        }
        guard try db.tableExists("meta"),
              let row = try Row.fetchOne(db, sql: "SELECT cluster_id, format_version FROM meta WHERE singleton = 1"),
              let foundCluster = String.fromDatabaseValue(row[0]), let foundVersion = Int.fromDatabaseValue(row[1]) else {
            throw DutyStoreError.corrupt(path: path, detail: "its meta row is missing or malformed")
        }
        guard foundVersion <= DutyStoreSchema.formatVersion else {
            throw DutyStoreError.newerFormat(path: path, supportedVersion: DutyStoreSchema.formatVersion, foundVersion: foundVersion)
        }
        if let unknown = try SQLiteFiles.unknownMigrations(DutyStoreSchema.migrator, db) {
            throw DutyStoreError.corrupt(
                path: path, detail: "meta says format \(foundVersion) but the file records migrations this build does not know: \(unknown)")
        }
        guard foundCluster == clusterID else {
            throw DutyStoreError.foreignCluster(path: path, expected: clusterID, found: foundCluster)
        }
    }
}
