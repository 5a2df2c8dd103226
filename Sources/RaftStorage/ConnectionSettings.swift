import GRDB

/// How the store's SQLite connections are configured.
enum ConnectionSettings {
    /// The writable connection: exclusive lock, WAL journal, `synchronous=FULL`, foreign keys on.
    ///
    /// Why `synchronous=FULL` and not `NORMAL`: in WAL mode `NORMAL` fsyncs the WAL only when it
    /// checkpoints, not at each commit. A commit then survives `kill -9` (it sits in the OS page cache)
    /// but may vanish on power loss or a kernel crash. Raft counts a follower's acknowledgement toward
    /// the commit quorum, so "a write the leader acknowledged survives power loss on a majority" needs
    /// every commit on the platter before `persist` returns; `FULL` fsyncs the WAL on every commit.
    /// `fullfsync` does the same on macOS, where a plain fsync does not flush the drive's cache
    /// (it is ignored elsewhere).
    ///
    /// Foreign keys are on so that later format versions can rely on them; format 1 declares none.
    static func writable() -> Configuration {
        var configuration = Configuration()
        // Not `configuration.journalMode = .wal`: GRDB 7 then sets `synchronous = NORMAL` after
        // `prepareDatabase` has run, silently undoing the FULL below. The store verifies both after opening.
        configuration.foreignKeysEnabled = true
        configuration.label = "RaftLogStore"
        configuration.prepareDatabase { db in
            // One writer per log: a second process (a stray node started on the same data directory) gets
            // SQLITE_BUSY instead of interleaving its writes. Set before WAL so the WAL index lives in memory.
            try db.execute(sql: "PRAGMA locking_mode = EXCLUSIVE")
            let journalMode = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
            guard journalMode == "wal" else {
                throw DatabaseError(message: "could not switch to WAL mode, the journal mode stayed \(journalMode ?? "unknown")")
            }
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA fullfsync = ON")
            try db.execute(sql: "PRAGMA checkpoint_fullfsync = ON")
            // Debian builds SQLite with SECURE_DELETE on, which zeroes every freed page and writes it through the
            // WAL: compacting 80 MB of entries then wrote 80 MB and held the Raft loop for a second, long enough
            // to cost the leader its term. FAST still clears deleted cells on pages being written anyway, but
            // not whole freed overflow pages; what compaction deletes lives on in the snapshot regardless.
            try db.execute(sql: "PRAGMA secure_delete = FAST")
            // A large snapshot grows the WAL once; without a limit the file keeps that size forever.
            try db.execute(sql: "PRAGMA journal_size_limit = 67108864")
        }
        return configuration
    }

    /// A connection that can neither write nor, through SQLite's own recovery, change the file.
    static func readOnly() -> Configuration {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.label = "RaftLogStore validation"
        return configuration
    }
}
