import GRDB
import SQLiteSupport
import RaftCore
import Synchronization

/// The durable Raft log of one node: hard state, the latest snapshot and the entries after it, in one SQLite file.
///
/// The node persists each `Ready` with one `persist` call before sending anything that depends on it;
/// `persist` returns only after SQLite has fsync'd the transaction (see `SQLiteFiles.writable`).
/// Every write is checked against the Raft log invariants first (`LogWriteRules`) and refused whole if
/// it breaks one.
public final class RaftLogStore: Sendable {
    public let path: String
    public let clusterID: String
    public let nodeID: NodeID
    private let queue: DatabaseQueue
    /// GRDB crashes on a closed connection, so every call checks this first; held during each call so that
    /// `close` cannot slip between the check and the use.
    private let isClosed = Mutex(false)

    /// Creates the database if absent (writing cluster id, node id and format version), or validates an
    /// existing one read-only first and refuses a damaged, foreign or newer file without touching it.
    public init(path: String, clusterID: String, nodeID: NodeID) throws(StorageError) {
        guard !clusterID.isEmpty, nodeID != noNode else {
            throw .invariant(path: path, violation: "a log needs a non-empty cluster id and a non-zero node id, got \"\(clusterID)\" and \(nodeID)")
        }
        if FileSystem.exists(path) {
            try ExistingFileValidator.validate(path: path, clusterID: clusterID, nodeID: nodeID)
        } else if FileSystem.exists(path + "-wal") {
            throw .corrupt(path: path, detail: "its write-ahead log \(path)-wal exists but the database file is missing")
        } else {
            try Self.create(path: path, clusterID: clusterID, nodeID: nodeID)
        }
        self.path = path
        self.clusterID = clusterID
        self.nodeID = nodeID
        self.queue = try Self.openWritable(path: path)
    }

    /// Everything needed to restart the core.
    public func load() throws(StorageError) -> PersistedState {
        try read("load") { db in
            let hardState = try Self.readHardState(db)
            let snapshot = try Self.readSnapshot(db)
            if let stale = try Int64.fetchOne(db, sql: "SELECT log_index FROM entry WHERE log_index <= ? LIMIT 1",
                                              arguments: [StoredValues.integer(snapshot.index)]) {
                throw MalformedRow(message: "entry \(stale) is still stored at or below the snapshot index \(snapshot.index)")
            }
            let entries = try Self.readEntries(db, sql: "SELECT * FROM entry ORDER BY log_index", arguments: [])
            var expected = snapshot.index + 1
            for entry in entries {
                guard entry.index == expected else {
                    throw MalformedRow(message: "the log jumps from entry \(expected - 1) to entry \(entry.index)")
                }
                expected += 1
            }
            return PersistedState(hardState: hardState, snapshot: snapshot, entries: entries)
        }
    }

    /// Persists one `Ready` in one fsync'd transaction, in this order: if `snapshot` is given, store it and
    /// delete every entry (the log restarts after it); if `entries` is non-empty, delete stored entries from
    /// `entries[0].index` on and insert these; if `hardState` is given, store it.
    ///
    /// An `.invariant` error means the core handed over a state Raft forbids; any other error means the disk
    /// failed. Either way the node must stop rather than retry: after a failed fsync Linux may drop the dirty
    /// pages and report the next fsync as a success, so a retry could acknowledge data that is not on disk.
    public func persist(hardState: HardState?, entries: [Entry], snapshot: Snapshot?) throws(StorageError) {
        guard hardState != nil || !entries.isEmpty || snapshot != nil else { return }
        try write("persist") { db in
            let current = try Self.readShape(db)
            let expected = try LogWriteRules.checkPersist(
                hardState: hardState, entries: entries, snapshot: snapshot, current: current,
                storedTerm: { try Self.storedTerm(db, at: $0) })
            if let snapshot {
                try Self.writeSnapshot(db, snapshot)
                try db.execute(sql: "DELETE FROM entry")
            }
            if let first = entries.first {
                try db.execute(sql: "DELETE FROM entry WHERE log_index >= ?", arguments: [StoredValues.integer(first.index)])
                // COALESCE: GRDB binds an empty Data as NULL, and no-op entries have empty data.
                let insert = try db.cachedStatement(sql: "INSERT INTO entry (log_index, term, kind, data) VALUES (?, ?, ?, COALESCE(?, x''))")
                for entry in entries {
                    try insert.execute(arguments: [
                        StoredValues.integer(entry.index), StoredValues.integer(entry.term),
                        Int64(entry.kind.rawValue), StoredValues.blob(entry.data),
                    ])
                }
            }
            if let hardState {
                try db.execute(
                    sql: "UPDATE hard_state SET term = ?, vote = ?, commit_index = ? WHERE singleton = 1",
                    arguments: [StoredValues.integer(hardState.term), StoredValues.identity(hardState.vote), StoredValues.integer(hardState.commit)])
            }
            try Self.confirmShape(db, expected, after: "persist")
        }
    }

    /// After the application took a snapshot at `snapshot.index` (at most its applied index): stores it and
    /// deletes the entries it covers.
    public func compact(to snapshot: Snapshot) throws(StorageError) {
        try write("compact") { db in
            let current = try Self.readShape(db)
            let expected = try LogWriteRules.checkCompaction(to: snapshot, current: current, storedTerm: { try Self.storedTerm(db, at: $0) })
            try Self.writeSnapshot(db, snapshot)
            try db.execute(sql: "DELETE FROM entry WHERE log_index <= ?", arguments: [StoredValues.integer(snapshot.index)])
            try Self.confirmShape(db, expected, after: "compaction")
        }
    }

    /// The stored entries with indices in `from...through`, in order; compacted or absent ones are left out.
    public func entries(from first: LogIndex, through last: LogIndex) throws(StorageError) -> [Entry] {
        guard first <= last else { return [] }
        let bound = LogWriteRules.largestStorable
        return try read("read entries") { db in
            try Self.readEntries(
                db, sql: "SELECT * FROM entry WHERE log_index BETWEEN ? AND ? ORDER BY log_index",
                arguments: [StoredValues.integer(min(first, bound)), StoredValues.integer(min(last, bound))])
        }
    }

    /// The database file plus its write-ahead log, in bytes.
    public var sizeBytes: Int64 {
        FileSystem.sizeBytes(path) + FileSystem.sizeBytes(path + "-wal")
    }

    /// The journal mode and `synchronous` level in force on the writing connection, e.g. ("wal", 2).
    func durabilitySettings() throws(StorageError) -> (journalMode: String, synchronous: Int) {
        try read("read settings") { db in try SQLiteFiles.durabilitySettings(db) }
    }

    /// Checkpoints and closes the file; later calls fail with `StorageError.database`. Closing twice is harmless.
    public func close() throws(StorageError) {
        try isClosed.withLock { closed throws(StorageError) in
            guard !closed else { return }
            do { try queue.close() } catch { throw .wrapping(error, path: path, operation: "close") }
            closed = true
        }
    }

    // MARK: - Connections

    static let connectionLabel = "RaftLogStore"

    private static func openWritable(path: String) throws(StorageError) -> DatabaseQueue {
        do {
            let queue = try DatabaseQueue(path: path, configuration: SQLiteFiles.writable(label: connectionLabel, synchronous: .full, foreignKeys: true))
            try RaftLogSchema.migrator.migrate(queue)
            try SQLiteFiles.checkDurability(queue, expected: .full)
            return queue
        } catch {
            throw .wrapping(error, path: path, operation: "open")
        }
    }

    /// A new, empty log: the final path holds a complete one or nothing.
    private static func create(path: String, clusterID: String, nodeID: NodeID) throws(StorageError) {
        do {
            try SQLiteFiles.createAtomically(
                path: path, configuration: SQLiteFiles.writable(label: connectionLabel, synchronous: .full, foreignKeys: true)
            ) { queue in
                try RaftLogSchema.migrator.migrate(queue)
                try queue.write { db in
                    try MetaRecord(clusterID: clusterID, nodeID: nodeID, formatVersion: RaftLogSchema.formatVersion).insert(db)
                }
            }
        } catch {
            throw .wrapping(error, path: path, operation: "create")
        }
    }

    private func read<T: Sendable>(_ operation: String, _ body: (Database) throws -> T) throws(StorageError) -> T {
        try isClosed.withLock { closed throws(StorageError) -> T in
            guard !closed else { throw .database(path: path, operation: operation, message: "the store was closed") }
            do { return try queue.read(body) } catch { throw .wrapping(error, path: path, operation: operation) }
        }
    }

    private func write(_ operation: String, _ body: (Database) throws -> Void) throws(StorageError) {
        try isClosed.withLock { closed throws(StorageError) in
            guard !closed else { throw .database(path: path, operation: operation, message: "the store was closed") }
            do { try queue.write(body) } catch { throw .wrapping(error, path: path, operation: operation) }
        }
    }

    // MARK: - Rows

    private static func readShape(_ db: Database) throws -> LogShape {
        let hardState = try readHardState(db)
        guard let snapshotRow = try Row.fetchOne(db, sql: "SELECT snapshot_index, term FROM snapshot WHERE singleton = 1") else {
            throw MalformedRow(message: "the snapshot row is missing")
        }
        let snapshotIndex = try StoredValues.counter(snapshotRow, "snapshot_index", of: "snapshot")
        let snapshotTerm = try StoredValues.counter(snapshotRow, "term", of: "snapshot")
        var shape = LogShape(snapshotIndex: snapshotIndex, snapshotTerm: snapshotTerm,
                             lastIndex: snapshotIndex, lastTerm: snapshotTerm, hardState: hardState)
        if let last = try Row.fetchOne(db, sql: "SELECT log_index, term FROM entry ORDER BY log_index DESC LIMIT 1") {
            shape.lastIndex = try StoredValues.counter(last, "log_index", of: "entry")
            shape.lastTerm = try StoredValues.counter(last, "term", of: "entry")
        }
        return shape
    }

    /// Re-reads the log's bounds inside the transaction: if the SQL and the rules ever disagree, the
    /// transaction rolls back instead of committing a shape the rules did not approve.
    private static func confirmShape(_ db: Database, _ expected: LogShape, after operation: String) throws {
        let written = try readShape(db)
        guard written == expected else {
            throw LogRuleViolation("after \(operation) the log would be \(written) instead of \(expected); rolled back")
        }
    }

    private static func storedTerm(_ db: Database, at index: LogIndex) throws -> Term? {
        guard index <= LogWriteRules.largestStorable,
              let row = try Row.fetchOne(db, sql: "SELECT term FROM entry WHERE log_index = ?", arguments: [StoredValues.integer(index)])
        else { return nil }
        return try StoredValues.counter(row, "term", of: "entry \(index)")
    }

    private static func readHardState(_ db: Database) throws -> HardState {
        guard let row = try Row.fetchOne(db, sql: "SELECT term, vote, commit_index FROM hard_state WHERE singleton = 1") else {
            throw MalformedRow(message: "the hard state row is missing")
        }
        return HardState(
            term: try StoredValues.counter(row, "term", of: "hard_state"),
            vote: try StoredValues.nodeID(row, "vote", of: "hard_state"),
            commit: try StoredValues.counter(row, "commit_index", of: "hard_state"))
    }

    private static func readSnapshot(_ db: Database) throws -> Snapshot {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM snapshot WHERE singleton = 1") else {
            throw MalformedRow(message: "the snapshot row is missing")
        }
        let voters = try StoredValues.members(row, "voters", of: "snapshot")
        let learners = try StoredValues.members(row, "learners", of: "snapshot")
        // ConfState traps on repeated or overlapping ids; a damaged row must become an error instead.
        guard let conf = ConfState(validating: voters, learners: learners) else {
            throw MalformedRow(message: "snapshot lists a node twice, or as both voter and learner (voters \(voters), learners \(learners))")
        }
        return Snapshot(
            index: try StoredValues.counter(row, "snapshot_index", of: "snapshot"),
            term: try StoredValues.counter(row, "term", of: "snapshot"),
            conf: conf,
            data: try StoredValues.bytes(row, "data", of: "snapshot"))
    }

    private static func writeSnapshot(_ db: Database, _ snapshot: Snapshot) throws {
        try db.execute(
            sql: """
                UPDATE snapshot SET snapshot_index = ?, term = ?, voters = ?, learners = ?, data = COALESCE(?, x'')
                WHERE singleton = 1
                """,
            arguments: [
                StoredValues.integer(snapshot.index), StoredValues.integer(snapshot.term),
                MemberListCoding.encode(snapshot.conf.voters), MemberListCoding.encode(snapshot.conf.learners),
                StoredValues.blob(snapshot.data),
            ])
    }

    private static func readEntries(_ db: Database, sql: String, arguments: StatementArguments) throws -> [Entry] {
        try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
            let index = try StoredValues.counter(row, "log_index", of: "entry")
            return Entry(
                term: try StoredValues.counter(row, "term", of: "entry \(index)"),
                index: index,
                kind: try StoredValues.entryKind(row, at: index),
                data: try StoredValues.bytes(row, "data", of: "entry \(index)"))
        }
    }
}
