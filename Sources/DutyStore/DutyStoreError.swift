import DutyModel
import GRDB

/// Why the duty store could not be opened, read or written; `description` is the message an operator sees.
public enum DutyStoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file exists but is not an SQLite database (damaged header, truncated or foreign bytes).
    case notADatabase(path: String, detail: String)
    /// An SQLite database written by something other than Vigil's duty store (a Raft log, another program).
    case notADutyStore(path: String, detail: String)
    /// A duty store of another cluster.
    case foreignCluster(path: String, expected: String, found: String)
    /// Written by a newer Vigil; this build would misread it.
    case newerFormat(path: String, supportedVersion: Int, foundVersion: Int)
    /// SQLite reports structural damage, or the stored rows contradict each other.
    case corrupt(path: String, detail: String)
    /// Another connection holds the file: most likely another node process runs on the same data directory.
    case inUse(path: String)
    /// A command came with a Raft index at or below one already applied.
    case outOfOrder(path: String, index: UInt64, appliedIndex: UInt64)
    /// Snapshot bytes that `restore` refused; nothing was changed.
    case invalidSnapshot(path: String, error: DutyError)
    /// An earlier write failed; the in-memory state may be ahead of the disk. Close and reopen the store.
    case failed(path: String, cause: String)
    /// SQLite or the file system failed for another reason (I/O error, disk full, permissions, closed store).
    case database(path: String, operation: String, message: String)

    public var description: String {
        switch self {
        case let .notADatabase(path, detail):
            return "\(path) is not an SQLite database (\(detail)); refusing to open it, the file was left untouched"
        case let .notADutyStore(path, detail):
            return "\(path) is an SQLite database but not a Vigil duty store (\(detail)); the file was left untouched"
        case let .foreignCluster(path, expected, found):
            return "\(path) belongs to another cluster: expected \(expected), found \(found); "
                + "check the node's configuration and data directory; the file was left untouched"
        case let .newerFormat(path, supported, found):
            return "\(path) has duty store format version \(found), this build reads up to \(supported); "
                + "run a newer Vigil; the file was left untouched"
        case let .corrupt(path, detail):
            return "\(path) is corrupt: \(detail); delete it and let the node restore from a snapshot"
        case let .inUse(path):
            return "\(path) is locked by another process; is another Vigil node running with this data directory?"
        case let .outOfOrder(path, index, applied):
            return "refused to apply index \(index) to \(path): index \(applied) is already applied"
        case let .invalidSnapshot(path, error):
            return "refused to restore \(path) from a snapshot: \(error); nothing was changed"
        case let .failed(path, cause):
            return "\(path) is unusable after an earlier failure (\(cause)); close and reopen it"
        case let .database(path, operation, message):
            return "\(operation) on \(path) failed: \(message)"
        }
    }

    /// Maps whatever a GRDB call threw onto the typed error, keeping errors that are already typed.
    static func wrapping(_ error: any Error, path: String, operation: String) -> DutyStoreError {
        if let typed = error as? DutyStoreError { return typed }
        if let duty = error as? DutyError {
            return duty.reason == .storage ? .corrupt(path: path, detail: duty.description) : .invalidSnapshot(path: path, error: duty)
        }
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
