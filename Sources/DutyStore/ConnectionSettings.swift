import GRDB

/// How the store's SQLite connections are configured.
enum ConnectionSettings {
    /// The writable connection: exclusive lock, WAL journal, `synchronous=NORMAL` (FULL around checkpoints).
    ///
    /// Why NORMAL: the archive delta a commit writes is dropped at the next open anyway (the log
    /// after the checkpoint is replayed), so it needs atomicity, not an fsync per commit, which
    /// would cost more than the commands themselves. Checkpoints and restores switch to FULL for
    /// their transaction (`DutyStore.durably`): the node compacts its Raft log past a checkpoint, so
    /// that one must survive power loss.
    static func writable() -> Configuration {
        var configuration = Configuration()
        // Not `configuration.journalMode = .wal`: GRDB 7 then sets `synchronous` itself after
        // `prepareDatabase` has run; the store checks the settings after opening.
        configuration.label = "DutyStore"
        configuration.prepareDatabase { db in
            // One writer per file: a second node process on the same data directory gets SQLITE_BUSY.
            // Set before WAL so the WAL index lives in memory.
            try db.execute(sql: "PRAGMA locking_mode = EXCLUSIVE")
            let journalMode = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
            guard journalMode == "wal" else {
                throw DatabaseError(message: "could not switch to WAL mode, the journal mode stayed \(journalMode ?? "unknown")")
            }
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA fullfsync = ON")
            try db.execute(sql: "PRAGMA checkpoint_fullfsync = ON")
            // A restore of a million tickets grows the WAL once; without a limit the file keeps that size.
            try db.execute(sql: "PRAGMA journal_size_limit = 67108864")
        }
        return configuration
    }

    /// A connection that can neither write nor, through SQLite's own recovery, change the file.
    static func readOnly() -> Configuration {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.label = "DutyStore validation"
        return configuration
    }
}
