import GRDB

/// Why the Raft log could not be opened, read or written; `description` is the message an operator sees.
public enum StorageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file exists but is not an SQLite database (damaged header, truncated or foreign bytes).
    case notADatabase(path: String, detail: String)
    /// A segment log whose files are not what Vigil writes (no segment header, or a file where the directory belongs).
    case notASegmentLog(path: String, detail: String)
    /// An SQLite database that is not a Vigil Raft log (no `meta` table or an unreadable one).
    case notARaftLog(path: String, detail: String)
    /// The log belongs to another cluster or another node; `field` names which identity differs.
    case foreignDatabase(path: String, field: String, expected: String, found: String)
    /// Written by a newer Vigil; this build would misread it.
    case newerFormat(path: String, supportedVersion: Int, foundVersion: Int)
    /// SQLite reports structural damage, or a stored row breaks the log's shape.
    case corrupt(path: String, detail: String)
    /// A write would break a Raft log invariant; the transaction was rolled back, nothing changed.
    case invariant(path: String, violation: String)
    /// Another connection holds the file: most likely another node process runs on the same data directory.
    case inUse(path: String)
    /// SQLite or the file system failed for another reason (I/O error, disk full, permissions).
    case database(path: String, operation: String, message: String)

    public var description: String {
        switch self {
        case let .notADatabase(path, detail):
            return "\(path) is not an SQLite database (\(detail)); refusing to open it, the file was left untouched"
        case let .notASegmentLog(path, detail):
            return "\(path) is not a Vigil segment log (\(detail)); refusing to open it, the file was left untouched"
        case let .notARaftLog(path, detail):
            return "\(path) is an SQLite database but not a Vigil Raft log (\(detail)); the file was left untouched"
        case let .foreignDatabase(path, field, expected, found):
            return "\(path) belongs to another \(field): expected \(expected), found \(found); "
                + "check the node's configuration and data directory; the file was left untouched"
        case let .newerFormat(path, supported, found):
            return "\(path) has Raft log format version \(found), this build reads up to \(supported); "
                + "run a newer Vigil; the file was left untouched"
        case let .corrupt(path, detail):
            return "\(path) is corrupt: \(detail); restore it from a peer or a backup"
        case let .invariant(path, violation):
            return "refused a write to \(path) that would break the Raft log: \(violation); nothing was written"
        case let .inUse(path):
            return "\(path) is locked by another process; is another Vigil node running with this data directory?"
        case let .database(path, operation, message):
            return "\(operation) on \(path) failed: \(message)"
        }
    }

    /// Maps whatever a GRDB call threw onto the typed error, keeping errors that are already typed.
    static func wrapping(_ error: any Error, path: String, operation: String) -> StorageError {
        if let typed = error as? StorageError { return typed }
        if let violation = error as? LogRuleViolation { return .invariant(path: path, violation: violation.message) }
        if let malformed = error as? MalformedRow { return .corrupt(path: path, detail: malformed.message) }
        guard let sqlite = error as? DatabaseError else {
            return .database(path: path, operation: operation, message: "\(error)")
        }
        let message = sqlite.message ?? "\(sqlite.resultCode)"
        switch sqlite.resultCode {
        case .SQLITE_NOTADB: return .notADatabase(path: path, detail: message)
        case .SQLITE_CORRUPT: return .corrupt(path: path, detail: message)
        case .SQLITE_BUSY, .SQLITE_LOCKED: return .inUse(path: path)
        default: return .database(path: path, operation: operation, message: "\(message) (\(sqlite.extendedResultCode))")
        }
    }
}
