import Foundation
import GRDB

/// The SQLite conventions both stores (the Raft log, the duty store) follow: one exclusive WAL writer per file,
/// durability settings checked after opening, files created whole or not at all, existing files checked
/// read-only before anything writes to them.
public enum SQLiteFiles {
    /// How often a commit reaches the disk; see `writable(label:synchronous:foreignKeys:)`.
    public enum Synchronous: Int, Sendable {
        /// The WAL is fsync'd at checkpoints only: a commit survives `kill -9`, not a power loss.
        case normal = 1
        /// The WAL is fsync'd at every commit.
        case full = 2
    }

    /// The writable connection: exclusive lock, WAL journal, the given `synchronous` level.
    ///
    /// The Raft log needs `full`: Raft counts a follower's acknowledgement toward the commit quorum, so "a write
    /// the leader acknowledged survives power loss on a majority" needs every commit on the platter before
    /// `persist` returns. The duty store's commits are replayed from that log after a crash anyway, so it uses
    /// `normal` and switches to FULL around the transactions the log is compacted against. `fullfsync` makes
    /// macOS flush the drive's cache (it is ignored elsewhere).
    public static func writable(label: String, synchronous: Synchronous, foreignKeys: Bool = false) -> Configuration {
        var configuration = Configuration()
        // Not `configuration.journalMode = .wal`: GRDB 7 then sets `synchronous = NORMAL` after
        // `prepareDatabase` has run, silently undoing a FULL. `checkDurability` verifies both after opening.
        configuration.foreignKeysEnabled = foreignKeys
        configuration.label = label
        configuration.prepareDatabase { db in
            // One writer per file: a second process (a stray node started on the same data directory) gets
            // SQLITE_BUSY instead of interleaving its writes. Set before WAL so the WAL index lives in memory.
            try db.execute(sql: "PRAGMA locking_mode = EXCLUSIVE")
            let journalMode = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
            guard journalMode == "wal" else {
                throw DatabaseError(message: "could not switch to WAL mode, the journal mode stayed \(journalMode ?? "unknown")")
            }
            try db.execute(sql: "PRAGMA synchronous = \(synchronous.rawValue)")
            try db.execute(sql: "PRAGMA fullfsync = ON")
            try db.execute(sql: "PRAGMA checkpoint_fullfsync = ON")
            // Debian builds SQLite with SECURE_DELETE on, which zeroes every freed page and writes it through the
            // WAL: compacting 80 MB of log entries then wrote 80 MB and held the Raft loop for a second, long
            // enough to cost the leader its term. FAST still clears deleted cells on pages being written anyway.
            try db.execute(sql: "PRAGMA secure_delete = FAST")
            // A large snapshot or restore grows the WAL once; without a limit the file keeps that size forever.
            try db.execute(sql: "PRAGMA journal_size_limit = 67108864")
        }
        return configuration
    }

    /// The journal mode and `synchronous` level in force on a connection, e.g. ("wal", 2).
    public static func durabilitySettings(_ db: Database) throws -> (journalMode: String, synchronous: Int) {
        (try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "", try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1)
    }

    /// Throws unless the connection runs with WAL and `expected`: a file system without shared-memory support
    /// silently keeps another journal mode, and a store must not run with settings other than the documented ones.
    public static func checkDurability(_ queue: DatabaseQueue, expected: Synchronous) throws {
        let (journalMode, synchronous) = try queue.read { db in try durabilitySettings(db) }
        guard journalMode == "wal", synchronous == expected.rawValue else {
            throw DatabaseError(message: "expected journal_mode=wal and synchronous=\(expected.rawValue), found \(journalMode) and \(synchronous)")
        }
    }

    /// Builds a new file under a staging name with `build`, then links it into place and syncs the directory:
    /// the final path holds a complete file or nothing. A crash before the link leaves only the staging file,
    /// which the next attempt discards.
    public static func createAtomically(path: String, configuration: Configuration, build: (DatabaseQueue) throws -> Void) throws {
        let staging = path + ".creating"
        do {
            for leftover in [staging, staging + "-wal", staging + "-shm"] { try FileSystem.remove(leftover) }
            let queue = try DatabaseQueue(path: staging, configuration: configuration)
            try build(queue)
            // Closing the only connection checkpoints the WAL into the main file and deletes it, so the staged
            // main file alone is the whole database.
            try queue.close()
            guard FileSystem.sizeBytes(staging + "-wal") == 0 else {
                throw DatabaseError(message: "the write-ahead log of \(staging) was not checkpointed on close")
            }
            try FileSystem.linkWithoutReplacing(staging, path)
            for leftover in [staging, staging + "-shm", staging + "-wal"] { try FileSystem.remove(leftover) }
            try FileSystem.syncDirectory(containing: path)
        } catch let failure as FileSystem.Failure {
            throw DatabaseError(message: failure.message)
        }
    }

    /// Opens an existing file for checking, creating nothing next to it where SQLite allows it.
    ///
    /// A plain read-only open of a WAL database creates `-wal` and `-shm` files. Without a `-wal` the main file
    /// holds every commit, so `immutable=1` reads it with no locks and no side files. With a `-wal` (the node
    /// crashed) its frames are data and must be read normally; SQLite then builds the WAL index in a `-shm`
    /// file, the only file a refused open may add.
    public static func openForChecking(path: String, label: String) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.label = label
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

    /// What is wrong with the structure of an open file (b-trees, free lists), or nil when nothing is.
    /// Reading the schema first is what trips over a damaged header (SQLITE_NOTADB). O(file size).
    public static func structuralProblems(_ db: Database) throws -> String? {
        _ = try Row.fetchAll(db, sql: "SELECT name FROM sqlite_master LIMIT 1")
        let problems = try String.fetchAll(db, sql: "PRAGMA quick_check")
        return problems == ["ok"] ? nil : "PRAGMA quick_check reported: " + problems.prefix(5).joined(separator: "; ")
    }

    /// Migrations the file records that `migrator` does not know (a newer build wrote it), or nil.
    public static func unknownMigrations(_ migrator: DatabaseMigrator, _ db: Database) throws -> String? {
        guard try migrator.hasBeenSuperseded(db) else { return nil }
        return try migrator.appliedIdentifiers(db).subtracting(migrator.migrations).sorted().joined(separator: ", ")
    }
}
