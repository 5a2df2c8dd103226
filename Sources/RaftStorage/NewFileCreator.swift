import GRDB
import RaftCore

/// Creates a new, empty Raft log so that the final path either holds a complete log or nothing.
enum NewFileCreator {
    /// Builds the file under a staging name, then links it into place and syncs the directory.
    /// A crash before the link leaves only the staging file, which the next attempt discards.
    static func create(path: String, clusterID: String, nodeID: NodeID) throws(StorageError) {
        let staging = path + ".creating"
        do {
            for leftover in [staging, staging + "-wal", staging + "-shm"] { try FileSystem.remove(leftover) }
            let queue = try DatabaseQueue(path: staging, configuration: ConnectionSettings.writable())
            try RaftLogSchema.migrator.migrate(queue)
            try queue.write { db in
                try MetaRecord(clusterID: clusterID, nodeID: nodeID, formatVersion: RaftLogSchema.formatVersion).insert(db)
            }
            // Closing the last connection checkpoints the WAL into the main file (fsync'd under synchronous=FULL)
            // and deletes it, so the staged main file alone is the whole log.
            try queue.close()
            guard FileSystem.sizeBytes(staging + "-wal") == 0 else {
                throw StorageError.database(path: staging, operation: "create", message: "the write-ahead log was not checkpointed on close")
            }
            try FileSystem.linkWithoutReplacing(staging, path)
            try FileSystem.remove(staging)
            try FileSystem.remove(staging + "-shm")
            try FileSystem.remove(staging + "-wal")
            try FileSystem.syncDirectory(containing: path)
        } catch let failure as FileSystem.Failure {
            throw .database(path: path, operation: "create", message: failure.message)
        } catch {
            throw .wrapping(error, path: path, operation: "create")
        }
    }
}
