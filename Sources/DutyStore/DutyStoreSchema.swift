import GRDB

/// The on-disk layout of the duty store and the migrations that produce it.
///
/// A checkpoint is `working_set` (the head) plus `live_ticket` (unarchived tickets), rewritten
/// only where they changed, and `archived_ticket`. Two generations of archived tickets:
/// `archived_ticket` is the archive as of the checkpoint, `archive_delta` what changed since (a
/// NULL record is a reopened ticket). A restart drops the delta and replays the log after the checkpoint. Keeping
/// the checkpoint's records untouched is what makes that replay exact: a reopen during replay must
/// read the ticket as it was archived then, not a later version the delta may hold.
enum DutyStoreSchema {
    static let formatVersion = 1
    /// SQLite's header field for "which application wrote this file": 'VgDS'.
    static let applicationID: Int32 = 0x5667_4453

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: meta, working set, archived tickets") { db in
            try db.execute(sql: """
                PRAGMA application_id = \(applicationID);
                CREATE TABLE meta (
                    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                    cluster_id TEXT NOT NULL,
                    format_version INTEGER NOT NULL,
                    -- the Raft index the working set and archived_ticket reflect; replay resumes after it
                    checkpoint_index INTEGER NOT NULL,
                    -- the Raft index the last commit of archive_delta reflects
                    applied_index INTEGER NOT NULL
                );
                -- the checkpoint: every field but the tickets, the ticket count, and the unarchived tickets
                CREATE TABLE working_set (
                    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                    head BLOB NOT NULL
                );
                CREATE TABLE live_ticket (
                    id INTEGER PRIMARY KEY,
                    record BLOB NOT NULL
                );
                -- id aliases the rowid: ordered scans walk the table's own b-tree, ascending inserts append.
                CREATE TABLE archived_ticket (
                    id INTEGER PRIMARY KEY,
                    registered_at INTEGER NOT NULL,
                    record BLOB NOT NULL
                );
                CREATE INDEX archived_ticket_by_registration ON archived_ticket (registered_at);
                CREATE TABLE archive_delta (
                    id INTEGER PRIMARY KEY,
                    registered_at INTEGER,
                    record BLOB
                );
                """)
        }
        return migrator
    }

    static let registrationIndexSQL = "CREATE INDEX archived_ticket_by_registration ON archived_ticket (registered_at)"
}
