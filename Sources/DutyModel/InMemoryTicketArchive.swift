import Foundation

/// A `TicketArchive` in memory: the reference the SQLite archive is tested against, and a compact
/// home for archived tickets in tests and simulations (a record takes ~200 bytes, a `Ticket` ~1.3 KB).
public final class InMemoryTicketArchive: TicketArchive, @unchecked Sendable {
    // @unchecked: every access to `records` holds `lock`.
    private let lock = NSLock()
    private var records: [TicketID: TicketRecord] = [:]

    public init() {}

    /// Applies what a state reported in `pendingArchiveChanges`; the caller then calls
    /// `archiveChangesStored(_:)` on that state.
    public func store(_ changes: ArchiveChanges) {
        lock.withLock {
            for id in changes.reopened { records[id] = nil }
            for record in changes.archived { records[record.id] = record }
        }
    }

    public var count: Int { lock.withLock { records.count } }

    public func record(of id: TicketID) -> [UInt8]? {
        lock.withLock { records[id]?.bytes }
    }

    public func forEachRecord(registeredIn range: Range<Timestamp>, _ body: (TicketID, UnsafeRawBufferPointer) throws -> Void) throws {
        for record in sorted() where range.contains(record.registeredAt) {
            try record.bytes.withUnsafeBytes { try body(record.id, $0) }
        }
    }

    public func forEachRecord(_ body: (TicketID, UnsafeRawBufferPointer) throws -> Void) throws {
        for record in sorted() {
            try record.bytes.withUnsafeBytes { try body(record.id, $0) }
        }
    }

    /// A copy, so that `body` may call back into the archive without deadlocking.
    private func sorted() -> [TicketRecord] {
        lock.withLock { records.values.sorted { $0.id < $1.id } }
    }
}
