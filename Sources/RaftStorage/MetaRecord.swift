import GRDB
import RaftCore

/// The `meta` row: whose log this is and which format it is written in.
struct MetaRecord: Equatable {
    var clusterID: String
    var nodeID: NodeID
    var formatVersion: Int

    /// Reads the row, or explains why this is not a Vigil Raft log.
    static func read(_ db: Database, path: String) throws -> MetaRecord {
        guard try db.tableExists("meta") else {
            throw StorageError.notARaftLog(path: path, detail: "it has no meta table")
        }
        guard let row = try Row.fetchOne(db, sql: "SELECT cluster_id, node_id, format_version FROM meta WHERE singleton = 1") else {
            throw StorageError.notARaftLog(path: path, detail: "its meta table is empty")
        }
        guard let clusterID = String.fromDatabaseValue(row[0]),
              let nodeID = Int64.fromDatabaseValue(row[1]),
              let formatVersion = Int.fromDatabaseValue(row[2]) else {
            throw StorageError.notARaftLog(path: path, detail: "its meta row has unexpected column types")
        }
        return MetaRecord(clusterID: clusterID, nodeID: NodeID(bitPattern: nodeID), formatVersion: formatVersion)
    }

    func insert(_ db: Database) throws {
        // Node ids use the whole UInt64 range; the bit pattern round-trips through SQLite's signed integer.
        try db.execute(
            sql: "INSERT INTO meta (singleton, cluster_id, node_id, format_version) VALUES (1, ?, ?, ?)",
            arguments: [clusterID, Int64(bitPattern: nodeID), formatVersion])
    }
}
