import GRDB

/// The on-disk layout of the Raft log and the migrations that produce it.
///
/// `formatVersion` is what `meta.format_version` says after every migration has run; each future
/// migration bumps it, so an older build can refuse a file a newer build has already upgraded.
enum RaftLogSchema {
    static let formatVersion = 1

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: meta, hard state, snapshot, entries") { db in
            // Single-row tables pin their row with a CHECK so a bug cannot leave two hard states behind.
            try db.execute(sql: """
                CREATE TABLE meta (
                    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                    cluster_id TEXT NOT NULL,
                    node_id INTEGER NOT NULL,
                    format_version INTEGER NOT NULL
                );
                CREATE TABLE hard_state (
                    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                    term INTEGER NOT NULL,
                    vote INTEGER NOT NULL,
                    commit_index INTEGER NOT NULL
                );
                INSERT INTO hard_state (singleton, term, vote, commit_index) VALUES (1, 0, 0, 0);
                CREATE TABLE snapshot (
                    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
                    snapshot_index INTEGER NOT NULL,
                    term INTEGER NOT NULL,
                    voters TEXT NOT NULL,
                    learners TEXT NOT NULL,
                    data BLOB NOT NULL
                );
                INSERT INTO snapshot (singleton, snapshot_index, term, voters, learners, data) VALUES (1, 0, 0, '', '', x'');
                -- log_index aliases the rowid, so range deletes and ordered scans walk the table's own b-tree.
                CREATE TABLE entry (
                    log_index INTEGER PRIMARY KEY,
                    term INTEGER NOT NULL,
                    kind INTEGER NOT NULL,
                    data BLOB NOT NULL
                );
                """)
        }
        return migrator
    }
}
