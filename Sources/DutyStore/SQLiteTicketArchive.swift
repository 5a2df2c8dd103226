import DutyModel
import Foundation
import GRDB
import Synchronization

/// The `TicketArchive` a `DutyStore`'s state reads archived tickets from: the checkpoint's
/// `archived_ticket` rows overlaid with `archive_delta` (see `DutyStoreSchema`).
final class SQLiteTicketArchive: TicketArchive {
    let path: String
    private let queue: DatabaseQueue
    /// GRDB traps on a closed connection; held across each read so `close` cannot slip in between.
    private let isClosed = Mutex(false)

    init(path: String, queue: DatabaseQueue) {
        self.path = path
        self.queue = queue
    }

    func markClosed() { isClosed.withLock { $0 = true } }

    func record(of id: TicketID) throws -> [UInt8]? {
        try read { db in
            if let delta = try Row.fetchOne(db.cachedStatement(sql: "SELECT record FROM archive_delta WHERE id = ?"), arguments: [id]) {
                // A NULL record: reopened since the checkpoint, so no longer archived.
                return Self.bytes(delta)
            }
            return try Row.fetchOne(db.cachedStatement(sql: "SELECT record FROM archived_ticket WHERE id = ?"), arguments: [id]).flatMap(Self.bytes)
        }
    }

    func forEachRecord(registeredIn range: Range<Timestamp>, _ body: (TicketID, UnsafeRawBufferPointer) throws -> Void) throws {
        try merged(
            checkpointSQL: """
                SELECT id, record FROM archived_ticket
                WHERE registered_at >= ?1 AND registered_at < ?2 AND id NOT IN (SELECT id FROM archive_delta) ORDER BY id
                """,
            deltaSQL: "SELECT id, record FROM archive_delta WHERE record IS NOT NULL AND registered_at >= ?1 AND registered_at < ?2 ORDER BY id",
            arguments: [range.lowerBound, range.upperBound], body)
    }

    func forEachRecord(_ body: (TicketID, UnsafeRawBufferPointer) throws -> Void) throws {
        try merged(
            checkpointSQL: "SELECT id, record FROM archived_ticket WHERE id NOT IN (SELECT id FROM archive_delta) ORDER BY id",
            deltaSQL: "SELECT id, record FROM archive_delta WHERE record IS NOT NULL ORDER BY id",
            arguments: [], body)
    }

    /// Walks two id-ordered queries with disjoint ids as one ordered stream, in one read transaction
    /// and without copying records.
    private func merged(checkpointSQL: String, deltaSQL: String, arguments: StatementArguments,
                        _ body: (TicketID, UnsafeRawBufferPointer) throws -> Void) throws {
        try read { db in
            let checkpoint = try Row.fetchCursor(db, sql: checkpointSQL, arguments: arguments)
            let delta = try Row.fetchCursor(db, sql: deltaSQL, arguments: arguments)
            var nextCheckpoint = try checkpoint.next()
            var nextDelta = try delta.next()
            while true {
                let row: Row
                switch (nextCheckpoint, nextDelta) {
                case (nil, nil):
                    return
                case (let a?, let b?):
                    row = (a[0] as Int) < (b[0] as Int) ? a : b
                case (let a?, nil):
                    row = a
                case (nil, let b?):
                    row = b
                }
                let id: Int = row[0]
                guard let data = row.dataNoCopy(atIndex: 1) else {
                    throw DutyStoreError.corrupt(path: path, detail: "archived ticket \(id) has no record")
                }
                try data.withUnsafeBytes { try body(id, $0) }
                if row === nextCheckpoint {
                    nextCheckpoint = try checkpoint.next()
                } else {
                    nextDelta = try delta.next()
                }
            }
        }
    }

    private static func bytes(_ row: Row) -> [UInt8]? {
        row.dataNoCopy(atIndex: 0).map { [UInt8]($0) }
    }

    private func read<T: Sendable>(_ body: (Database) throws -> T) throws -> T {
        try isClosed.withLock { closed in
            guard !closed else { throw DutyStoreError.database(path: path, operation: "read the archive", message: "the store was closed") }
            return try queue.read(body)
        }
    }
}
