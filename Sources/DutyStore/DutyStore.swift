import DutyModel
import Foundation
import GRDB
import SQLiteSupport

/// The applied duty state of one node: the working set (unarchived tickets, schedules, policies,
/// people…) in memory, archived tickets in SQLite, so years of tickets fit on disk.
///
/// Life cycle, as the node drives it:
/// - `init(path:clusterID:)` creates the file, or validates an existing one read-only first and
///   refuses a damaged, foreign or newer file without touching it. The state is then the last
///   checkpoint's; the node replays its Raft log from `checkpointIndex + 1` through `apply`
///   (`indexBeforeOpen` says how far the previous run had got).
/// - `apply(_:at:actor:index:)` for each committed duty command (`advanceAppliedIndex(to:)` for
///   entries that carry none). Archived tickets leave memory in batches: every
///   `archiveBatchSize` of them, or at `commit()`, one transaction writes them together with
///   `appliedIndex`; no fsync per command.
/// - `checkpoint()` every so often (every 100,000 commands, say, like etcd's snapshot count): one
///   durable transaction writes the head and the unarchived tickets that changed since the last
///   one, and folds the archived tickets written since into the checkpoint's. The node may then
///   compact its Raft log up to `checkpointIndex`, never beyond.
/// - `snapshot()` / `writeSnapshot(to:)` for InstallSnapshot, `restore(from:appliedIndex:)` when one
///   arrives.
/// - If the Raft log's own snapshot is newer than `checkpointIndex` at start-up (a restore lost to
///   a power cut), restore from that snapshot's bytes before replaying.
///
/// Why replay starts at the checkpoint and not at the last commit: see `DutyStoreSchema`.
///
/// Memory, measured by duty-bench (100,000 open + 1,000,000 archived tickets, Linux x86-64):
/// 1.2–1.5 KB resident per unarchived ticket (its `Ticket` value with clocks and timeline, in a
/// dictionary) and nothing per archived ticket (its id is implied by 1…`ticketCount` minus the
/// working set; the bench sees 0–3 bytes of RSS growth per archived ticket, SQLite's page cache
/// being bounded). On disk a ticket takes about 220 bytes plus SQLite's overhead (~290 MB file for
/// that state). See the README for the full figures.
///
/// Not thread-safe: one owner (the node's apply loop) calls it, and queries read `state` through
/// that owner without keeping copies across later applies: a kept copy makes the next command copy
/// the whole working set, and can refer to archive rows a later commit replaces.
public final class DutyStore {
    public let path: String
    public let clusterID: String
    /// The applied state; read tickets with `loadTicket(_:)` where a disk error should not trap.
    public private(set) var state: DutyState
    /// The last Raft index applied to `state`.
    public private(set) var appliedIndex: UInt64
    /// The Raft index of the durable checkpoint; a reopened store starts from it.
    public private(set) var checkpointIndex: UInt64
    /// How far the store had applied and committed before this open (at least `checkpointIndex`):
    /// replay reaches where the node was once `appliedIndex` gets here, e.g. to report start-up progress.
    public let indexBeforeOpen: UInt64
    /// Archived tickets written (and memory freed) once this many wait; `commit()` writes fewer.
    public var archiveBatchSize = 4_096

    /// Internal for tests, which inspect and forge rows.
    let queue: DatabaseQueue
    private let archive: SQLiteTicketArchive
    private var storedIndex: UInt64
    private var failure: String?
    private var isClosed = false

    /// Opens the store at `path`, creating it (with the empty state of `DutyState()`) if absent.
    public init(path: String, clusterID: String) throws(DutyStoreError) {
        guard !clusterID.isEmpty else {
            throw .database(path: path, operation: "open", message: "a duty store needs a non-empty cluster id")
        }
        if FileSystem.exists(path) {
            try StoreFileValidator.validate(path: path, clusterID: clusterID)
        } else if FileSystem.exists(path + "-wal") {
            throw .corrupt(path: path, detail: "its write-ahead log \(path)-wal exists but the database file is missing")
        } else {
            try Self.create(path: path, clusterID: clusterID)
        }
        self.path = path
        self.clusterID = clusterID
        let queue = try Self.openWritable(path: path)
        let archive = SQLiteTicketArchive(path: path, queue: queue)
        do {
            let loaded = try queue.write { db in try Self.loadCheckpoint(db, path: path, archive: archive) }
            self.state = loaded.state
            self.checkpointIndex = loaded.index
            self.indexBeforeOpen = loaded.committedIndex
        } catch {
            try? queue.close()
            throw DutyStoreError.wrapping(error, path: path, operation: "open")
        }
        self.queue = queue
        self.archive = archive
        self.appliedIndex = checkpointIndex
        self.storedIndex = checkpointIndex
    }

    // MARK: - Applying

    /// Applies one committed command at its Raft `index` (above `appliedIndex`; gaps are fine).
    ///
    /// The result is the model's: a rejected command changed nothing. A thrown `.outOfOrder`
    /// changed nothing either; any other thrown error comes from writing a batch after the
    /// command was applied and leaves the store unusable (close it, reopen, replay).
    public func apply(_ command: DutyCommand, at leaderTimestamp: Timestamp, actor: ActorID,
                      index: UInt64) throws(DutyStoreError) -> Result<[DutyEvent], DutyError> {
        try checkUsable("apply")
        guard index > appliedIndex else { throw .outOfOrder(path: path, index: index, appliedIndex: appliedIndex) }
        let result = state.apply(command, at: leaderTimestamp, actor: actor)
        appliedIndex = index
        if state.pendingArchiveChangeCount >= archiveBatchSize { try commit() }
        return result
    }

    /// Records that Raft entries through `index` carry no duty command (no-ops, membership changes).
    public func advanceAppliedIndex(to index: UInt64) throws(DutyStoreError) {
        try checkUsable("advance")
        guard index >= appliedIndex else { throw .outOfOrder(path: path, index: index, appliedIndex: appliedIndex) }
        appliedIndex = index
    }

    /// Writes the archived tickets still held in memory, with `appliedIndex`, in one transaction.
    public func commit() throws(DutyStoreError) {
        try checkUsable("commit")
        let changes = state.pendingArchiveChanges
        guard !changes.isEmpty || storedIndex != appliedIndex else { return }
        let index = appliedIndex
        try write("commit", failing: true) { db in
            try Self.writeDelta(db, path: path, changes)
            try db.execute(sql: "UPDATE meta SET applied_index = ? WHERE singleton = 1", arguments: [Int64(index)])
        }
        state.archiveChangesStored(changes)
        storedIndex = index
    }

    /// Makes the current state the durable restart point: writes the head and the unarchived
    /// tickets changed since the last checkpoint, folds the archive delta into the checkpoint's
    /// archive and sets `checkpointIndex = appliedIndex`, in one fsync'd transaction.
    ///
    /// Costs what changed since the last checkpoint (unarchived tickets written, tickets archived),
    /// plus the head (every field but the tickets), not the size of the working set.
    public func checkpoint() throws(DutyStoreError) {
        try commit()
        let changes = state.workingSetChanges()
        let index = appliedIndex
        try write("checkpoint", failing: true, durably: true) { db in
            try db.execute(sql: """
                DELETE FROM archived_ticket WHERE id IN (SELECT id FROM archive_delta);
                INSERT INTO archived_ticket (id, registered_at, record)
                    SELECT id, registered_at, record FROM archive_delta WHERE record IS NOT NULL ORDER BY id;
                DELETE FROM archive_delta;
                """)
            try Self.writeCheckpoint(db, path: path, changes, index: index)
        }
        state.workingSetChangesStored()
        checkpointIndex = index
    }

    // MARK: - Snapshots

    /// The whole state as `DutyState.snapshot()` bytes (identical to an all-in-memory replica's),
    /// read from memory and, in one read transaction, from the archive.
    public func snapshot() throws(DutyStoreError) -> [UInt8] {
        var bytes: [UInt8] = []
        try writeSnapshot { bytes.append(contentsOf: $0) }
        return bytes
    }

    /// Streams the snapshot in chunks of about 1 MiB, e.g. to a file, without holding it whole.
    public func writeSnapshot(to sink: ([UInt8]) throws -> Void) throws(DutyStoreError) {
        try checkUsable("snapshot")
        do {
            try state.writeSnapshot(to: sink)
        } catch {
            throw DutyStoreError.wrapping(error, path: path, operation: "snapshot")
        }
    }

    /// Replaces everything with the state of `snapshot()` bytes taken at Raft `appliedIndex`, in
    /// one durable transaction; bad bytes (`.invalidSnapshot`) leave the store as it was.
    public func restore(from bytes: [UInt8], appliedIndex index: UInt64) throws(DutyStoreError) {
        try checkUsable("restore")
        var restored: DutyState?
        try write("restore", failing: false, durably: true) { db in
            try db.execute(sql: """
                DELETE FROM archive_delta;
                DELETE FROM archived_ticket;
                DELETE FROM live_ticket;
                DROP INDEX archived_ticket_by_registration;
                """)
            // Inserting a million rows in id order and indexing once afterwards beats keeping the index up to date.
            let insert = try RecordStatement(db, sql: "INSERT INTO archived_ticket (id, registered_at, record) VALUES (?1, ?2, ?3)", path: path)
            let state = try DutyState.restore(from: bytes, archive: archive) { id, registeredAt, record in
                try insert.run(id: id, registeredAt: registeredAt, record: record)
            }
            try db.execute(sql: DutyStoreSchema.registrationIndexSQL)
            try Self.writeCheckpoint(db, path: path, state.workingSetChanges(everything: true), index: index)
            restored = state
        }
        guard var restored else { return }
        restored.workingSetChangesStored()
        state = restored
        appliedIndex = index
        storedIndex = index
        checkpointIndex = index
    }

    // MARK: - Files

    /// The database file plus its write-ahead log, in bytes.
    public var sizeBytes: Int64 { FileSystem.sizeBytes(path) + FileSystem.sizeBytes(path + "-wal") }

    /// Closes the file without committing; unwritten work is replayed from the log at the next open.
    /// Later calls fail with `.database`; closing twice is harmless.
    public func close() throws(DutyStoreError) {
        guard !isClosed else { return }
        archive.markClosed()
        isClosed = true
        do { try queue.close() } catch { throw .wrapping(error, path: path, operation: "close") }
    }

    /// The journal mode and `synchronous` level in force on the writing connection, e.g. ("wal", 1).
    func durabilitySettings() throws(DutyStoreError) -> (journalMode: String, synchronous: Int) {
        do {
            return try queue.read { db in try SQLiteFiles.durabilitySettings(db) }
        } catch {
            throw .wrapping(error, path: path, operation: "read settings")
        }
    }

    // MARK: - Private

    private func checkUsable(_ operation: String) throws(DutyStoreError) {
        if isClosed { throw .database(path: path, operation: operation, message: "the store was closed") }
        if let failure { throw .failed(path: path, cause: failure) }
    }

    /// One transaction. `failing`: a failure leaves memory ahead of the disk, so the store refuses
    /// further work. `durably`: fsync'd before returning (the connection runs at NORMAL otherwise).
    private func write(_ operation: String, failing: Bool, durably: Bool = false,
                       _ body: (Database) throws -> Void) throws(DutyStoreError) {
        do {
            try queue.writeWithoutTransaction { db in
                if durably { try db.execute(sql: "PRAGMA synchronous = FULL") }
                defer { if durably { try? db.execute(sql: "PRAGMA synchronous = NORMAL") } }
                try db.inTransaction {
                    try body(db)
                    return .commit
                }
            }
        } catch {
            let typed = DutyStoreError.wrapping(error, path: path, operation: operation)
            if failing { failure = "\(operation): \(typed)" }
            throw typed
        }
    }

    private static func writeDelta(_ db: Database, path: String, _ changes: ArchiveChanges) throws {
        // Deletions first: a ticket reopened and archived again since the last commit is in both lists.
        let reopen = try RecordStatement(db, sql: "INSERT OR REPLACE INTO archive_delta (id, registered_at, record) VALUES (?1, NULL, NULL)", path: path)
        for id in changes.reopened { try reopen.run(id: id) }
        let archive = try RecordStatement(db, sql: "INSERT OR REPLACE INTO archive_delta (id, registered_at, record) VALUES (?1, ?2, ?3)", path: path)
        for record in changes.archived { try archive.run(id: record.id, registeredAt: record.registeredAt, record: record.bytes[...]) }
    }

    private static func writeCheckpoint(_ db: Database, path: String, _ changes: WorkingSetChanges, index: UInt64) throws {
        let remove = try RecordStatement(db, sql: "DELETE FROM live_ticket WHERE id = ?1", path: path)
        for id in changes.removed { try remove.run(id: id) }
        let upsert = try RecordStatement(db, sql: "INSERT OR REPLACE INTO live_ticket (id, record) VALUES (?1, ?3)", path: path)
        for record in changes.changed { try upsert.run(id: record.id, record: record.bytes[...]) }
        try db.execute(sql: "UPDATE working_set SET head = ? WHERE singleton = 1", arguments: [Data(changes.head)])
        try db.execute(sql: "UPDATE meta SET checkpoint_index = ?, applied_index = ? WHERE singleton = 1",
                       arguments: [Int64(index), Int64(index)])
    }

    /// Drops the delta (the log after the checkpoint is replayed instead) and reads the working set.
    private static func loadCheckpoint(_ db: Database, path: String,
                                       archive: SQLiteTicketArchive) throws -> (state: DutyState, index: UInt64, committedIndex: UInt64) {
        guard let meta = try Row.fetchOne(db, sql: "SELECT checkpoint_index, applied_index FROM meta WHERE singleton = 1"),
              let index = Int64.fromDatabaseValue(meta[0]), let committed = Int64.fromDatabaseValue(meta[1]),
              index >= 0, committed >= index else {
            throw DutyStoreError.corrupt(path: path, detail: "its meta row has no valid checkpoint and applied index")
        }
        try db.execute(sql: "DELETE FROM archive_delta")
        try db.execute(sql: "UPDATE meta SET applied_index = checkpoint_index WHERE singleton = 1")
        guard let row = try Row.fetchOne(db, sql: "SELECT head FROM working_set WHERE singleton = 1"),
              let head = row.dataNoCopy(atIndex: 0) else {
            throw DutyStoreError.corrupt(path: path, detail: "the working set row is missing")
        }
        let state: DutyState
        do {
            state = try DutyState.restoreWorkingSet(head: [UInt8](head), archive: archive) { add in
                let rows = try Row.fetchCursor(db, sql: "SELECT record FROM live_ticket ORDER BY id")
                while let row = try rows.next() {
                    guard let record = row.dataNoCopy(atIndex: 0) else { throw DutyError(.invalid, field: "workingSet.tickets", "a NULL record") }
                    try record.withUnsafeBytes(add)
                }
            }
        } catch let error as DatabaseError {
            throw error
        } catch {
            throw DutyStoreError.corrupt(path: path, detail: "the working set cannot be read: \(error)")
        }
        let stored = try Int.fetchOne(db, sql: "SELECT count(*) FROM archived_ticket") ?? -1
        guard stored == state.archivedTicketCount else {
            throw DutyStoreError.corrupt(
                path: path, detail: "the working set counts \(state.archivedTicketCount) archived tickets but the archive holds \(stored)")
        }
        return (state, UInt64(index), UInt64(committed))
    }

    static let connectionLabel = "DutyStore"

    /// Why NORMAL: the archive delta a commit writes is dropped at the next open anyway (the log after the
    /// checkpoint is replayed), so it needs atomicity, not an fsync per commit, which would cost more than the
    /// commands themselves. Checkpoints and restores switch to FULL for their transaction (`write(durably:)`):
    /// the node compacts its Raft log past a checkpoint, so that one must survive power loss.
    static var connectionSettings: Configuration { SQLiteFiles.writable(label: connectionLabel, synchronous: .normal) }

    /// The final path holds a complete store (with the empty state of `DutyState()`) or nothing.
    private static func create(path: String, clusterID: String) throws(DutyStoreError) {
        do {
            try SQLiteFiles.createAtomically(path: path, configuration: connectionSettings) { queue in
                try DutyStoreSchema.migrator.migrate(queue)
                try queue.write { db in
                    try db.execute(
                        sql: "INSERT INTO meta (singleton, cluster_id, format_version, checkpoint_index, applied_index) VALUES (1, ?, ?, 0, 0)",
                        arguments: [clusterID, DutyStoreSchema.formatVersion])
                    try db.execute(sql: "INSERT INTO working_set (singleton, head) VALUES (1, ?)", arguments: [Data(DutyState().workingSetChanges().head)])
                }
            }
        } catch {
            throw .wrapping(error, path: path, operation: "create")
        }
    }

    private static func openWritable(path: String) throws(DutyStoreError) -> DatabaseQueue {
        do {
            let queue = try DatabaseQueue(path: path, configuration: connectionSettings)
            try DutyStoreSchema.migrator.migrate(queue)
            try SQLiteFiles.checkDurability(queue, expected: .normal)
            return queue
        } catch {
            throw .wrapping(error, path: path, operation: "open")
        }
    }
}
