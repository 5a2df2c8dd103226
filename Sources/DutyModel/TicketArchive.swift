/// Where archived tickets live once their owner has stored them: the seam between the pure model
/// and its disk, playing the part etcd raft's `Storage` plays for the log.
///
/// The model only ever reads through it. Tickets archived by `apply` wait in the state
/// (`DutyState.pendingArchiveChanges`) until the owner has written them and called
/// `archiveChangesStored()`; so `apply` stays free of I/O and a copy of a `DutyState` never sees
/// another copy's writes. Records are `TicketCodec` bytes, the same bytes a snapshot holds, so
/// snapshots are assembled without decoding archived tickets.
///
/// A failing read is not the command's fault: `apply` traps rather than reject a command another
/// replica accepts; queries report it as `DutyError.Reason.storage`.
public protocol TicketArchive: AnyObject, Sendable {
    /// The stored record of an archived ticket, or nil if the archive does not hold it.
    func record(of id: TicketID) throws -> [UInt8]?

    /// Records of archived tickets registered in `range`, by ascending id.
    func forEachRecord(registeredIn range: Range<Timestamp>, _ body: (TicketID, UnsafeRawBufferPointer) throws -> Void) throws

    /// Every record, by ascending id; the buffer is valid only during the call.
    func forEachRecord(_ body: (TicketID, UnsafeRawBufferPointer) throws -> Void) throws
}

/// One ticket as a store keeps it: its `TicketCodec` bytes, plus what a store indexes.
public struct TicketRecord: Sendable, Equatable {
    public let id: TicketID
    /// Kept beside the bytes so an archive can answer "registered in this month" without decoding.
    public let registeredAt: Timestamp
    /// `TicketCodec` bytes of the ticket, exactly as they appear in a snapshot.
    public let bytes: [UInt8]
}

/// What the owner of a `TicketArchive` must write before calling `archiveChangesStored()`.
///
/// Apply `reopened` (delete) before `archived` (insert or replace): a ticket reopened and archived
/// again since the last store is in both lists and must end up stored.
public struct ArchiveChanges: Sendable, Equatable {
    /// Newly archived tickets, by ascending id.
    public let archived: [TicketRecord]
    /// Tickets the archive held that are open again, by ascending id; the archive must drop them.
    public let reopened: [TicketID]

    public var isEmpty: Bool { archived.isEmpty && reopened.isEmpty }
}

/// What a checkpoint writes: see `DutyState.workingSetChanges(everything:)`.
public struct WorkingSetChanges: Sendable, Equatable {
    /// Everything but the tickets, and the ticket count; replaces the stored head.
    public let head: [UInt8]
    /// Unarchived tickets written since the last store, by ascending id: insert or replace.
    public let changed: [TicketRecord]
    /// Tickets that left the working set (archived) since the last store: delete.
    public let removed: [TicketID]
}
