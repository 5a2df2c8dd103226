/// Every ticket, wherever it lives: unarchived ones (the working set commands touch) in memory,
/// archived ones in memory until the owner stores them in a `TicketArchive`, then only there.
///
/// Tickets are numbered 1…count and never removed (S6), so an id in range that is not in memory
/// is in the archive: no per-ticket index of the archive is needed.
struct TicketTable: Sendable {
    /// Tickets ever registered.
    private(set) var count = 0
    /// Unarchived tickets by id. Dictionary order never reaches the bytes: everything that walks
    /// it sorts by id (or by a key ending in the id).
    var live: WorkingSet
    /// Archived tickets the archive does not hold yet (with no archive, every archived ticket), as
    /// their records: archived tickets are read rarely, and a record takes ~270 bytes of memory
    /// where a `Ticket` value takes ~1.5 KB.
    private(set) var archivedInMemory: [TicketID: TicketRecord] = [:]
    /// Tickets reopened while the archive may still hold an older record of them.
    private(set) var reopenedFromArchive: Set<TicketID> = []
    private(set) var archive: (any TicketArchive)?
    /// Unarchived tickets by scheduler deadline (`DutyState.reindexDeadlines`); derived, so not compared or encoded.
    var deadlines = DeadlineIndex<TicketID>()

    /// `tracksChanges`: only an owner that stores the working set (a DutyStore checkpoint) needs to know what
    /// changed in it; an archive in a snapshot file is replaced whole at the next snapshot instead.
    init(archive: (any TicketArchive)? = nil, tracksChanges: Bool? = nil) {
        self.archive = archive
        live = WorkingSet(tracksChanges: tracksChanges ?? (archive != nil))
    }

    var archivedCount: Int { count - live.count }

    mutating func appendNew(_ ticket: Ticket) {
        precondition(ticket.id == count + 1 && ticket.stage != .archived, "new tickets are numbered in order and start unarchived")
        count += 1
        live[ticket.id] = ticket
    }

    /// Adds an unarchived ticket read from a snapshot or working set, after `setCountForRestore`.
    mutating func insertRestored(_ ticket: Ticket) {
        precondition(ticket.id >= 1 && ticket.id <= count && ticket.stage != .archived, "restored ticket \(ticket.id) is outside 1…\(count) or archived")
        live[ticket.id] = ticket
    }

    /// Adds an archived ticket's record read from a snapshot, after `setCountForRestore`.
    mutating func insertRestored(archived record: TicketRecord) {
        precondition(record.id >= 1 && record.id <= count, "restored ticket \(record.id) is outside 1…\(count)")
        archivedInMemory[record.id] = record
    }

    mutating func setCountForRestore(_ newCount: Int) { count = newCount }

    /// The ticket wherever it is; a failing or inconsistent archive is a `.storage` error.
    func ticket(_ id: TicketID) throws(DutyError) -> Ticket? {
        if let ticket = live[id] { return ticket }
        guard id >= 1, id <= count else { return nil }
        if let record = archivedInMemory[id] { return try TicketCodec.decodeRecord(record.bytes, expecting: id) }
        guard let archive else { throw Self.missing(id) }
        let record: [UInt8]?
        do {
            record = try archive.record(of: id)
        } catch {
            throw DutyError(.storage, field: "ticketID", "the archive could not read ticket \(id): \(error)")
        }
        guard let record else { throw Self.missing(id) }
        return try TicketCodec.decodeRecord(record, expecting: id)
    }

    static func missing(_ id: TicketID) -> DutyError {
        DutyError(.storage, field: "ticketID", "ticket \(id) is archived but the archive does not hold it")
    }

    /// Called once the ticket reached the archived stage: it leaves the working set.
    mutating func moveToArchive(_ id: TicketID) {
        guard let ticket = live.removeValue(forKey: id) else { preconditionFailure("ticket \(id) is not in the working set") }
        precondition(ticket.stage == .archived, "only archived tickets leave the working set")
        archivedInMemory[id] = TicketRecord(id: id, registeredAt: ticket.registeredAt, bytes: TicketCodec.record(of: ticket))
    }

    /// Brings an archived ticket (as read by `ticket(_:)`) back into the working set before a reopen changes it.
    mutating func moveOutOfArchive(_ ticket: Ticket) {
        precondition(live[ticket.id] == nil && ticket.stage == .archived, "ticket \(ticket.id) is not archived")
        archivedInMemory[ticket.id] = nil
        // Deleting a record the archive never got is harmless; missing one that it has is not.
        if archive != nil { reopenedFromArchive.insert(ticket.id) }
        live[ticket.id] = ticket
    }

    /// Archived ids in ascending order (the supervision sample's population).
    func archivedIDs() -> [TicketID] {
        var ids: [TicketID] = []
        ids.reserveCapacity(archivedCount)
        for id in stride(from: 1, through: count, by: 1) where !live.contains(id) { ids.append(id) }
        return ids
    }

    /// Whether memory holds the ticket (archived or not); a copy there is newer than an archive record.
    func inMemory(_ id: TicketID) -> Bool { live.contains(id) || archivedInMemory[id] != nil }

    /// Appends the ticket's bytes as a snapshot holds them, if memory holds it.
    func writeFromMemory(_ id: TicketID, into writer: inout ByteWriter) -> Bool {
        if let ticket = live[id] {
            TicketCodec.write(ticket, &writer)
        } else if let record = archivedInMemory[id] {
            writer.append(record.bytes)
        } else {
            return false
        }
        return true
    }

    var pendingChanges: ArchiveChanges {
        ArchiveChanges(archived: archivedInMemory.keys.sorted().map { archivedInMemory[$0]! }, reopened: reopenedFromArchive.sorted())
    }

    var pendingChangeCount: Int { archivedInMemory.count + reopenedFromArchive.count }

    mutating func changesStored(_ changes: ArchiveChanges) {
        precondition(archive != nil, "archive changes can only be stored into an attached archive")
        precondition(changes.archived.map(\.id) == archivedInMemory.keys.sorted() && changes.reopened == reopenedFromArchive.sorted(),
                     "the stored archive changes are not the pending ones: a command was applied in between")
        archivedInMemory = [:]
        reopenedFromArchive = []
    }

    /// The owner wrote a snapshot of `copy` (an earlier state of this table) and `newArchive` reads that
    /// snapshot's archived records: the records memory still holds unchanged since the copy leave memory, newer
    /// ones (archived again, or archived since) stay until the next snapshot.
    mutating func archiveReplaced(by newArchive: any TicketArchive, writtenFrom copy: TicketTable) {
        for (id, record) in copy.archivedInMemory where archivedInMemory[id] == record { archivedInMemory[id] = nil }
        reopenedFromArchive.subtract(copy.reopenedFromArchive)
        archive = newArchive
    }

    /// Calls `body` with each ticket in memory registered in `range`, by ascending id.
    func forEachInMemory(registeredIn range: Range<Timestamp>?, _ body: (Ticket) -> Void) throws(DutyError) {
        guard count > 0 else { return }
        for id in 1...count {
            if let box = live.boxes[id] {
                if range?.contains(box.ticket!.registeredAt) ?? true { body(box.ticket!) }
            } else if let record = archivedInMemory[id], range?.contains(record.registeredAt) ?? true {
                body(try TicketCodec.decodeRecord(record.bytes, expecting: record.id))
            }
        }
    }

    /// Tickets in memory registered in `range`, by ascending id. Walks the ids (they are dense) instead of sorting
    /// what the tables hold, and decodes an archived record only when it is in range.
    func inMemory(registeredIn range: Range<Timestamp>?) throws(DutyError) -> [Ticket] {
        var tickets: [Ticket] = []
        tickets.reserveCapacity(range == nil ? count : min(count, live.count + archivedInMemory.count))
        guard count > 0 else { return tickets }
        for id in 1...count {
            if let ticket = live[id] {
                if range?.contains(ticket.registeredAt) ?? true { tickets.append(ticket) }
            } else if let record = archivedInMemory[id], range?.contains(record.registeredAt) ?? true {
                tickets.append(try TicketCodec.decodeRecord(record.bytes, expecting: record.id))
            }
        }
        return tickets
    }
}

extension TicketTable: Equatable {
    /// Where archived tickets are stored is not part of the state; which ones wait to be stored is.
    static func == (lhs: TicketTable, rhs: TicketTable) -> Bool {
        lhs.count == rhs.count && lhs.live == rhs.live && lhs.archivedInMemory == rhs.archivedInMemory
            && lhs.reopenedFromArchive == rhs.reopenedFromArchive
    }
}

extension TicketTable: Codable {
    // The snapshot's JSON head has carried `"tickets": []` since tickets were an array (format 1);
    // the tickets themselves follow the head in `TicketCodec`'s binary layout.
    init(from decoder: any Decoder) throws {
        let placeholder = try decoder.singleValueContainer().decode([Int].self)
        guard placeholder.isEmpty else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "tickets belong in the binary section"))
        }
        self.init()
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode([Int]())
    }
}

/// The unarchived tickets by id; with `tracksChanges`, it remembers which ids were written since
/// the owner last stored them, so a checkpoint writes only those.
///
/// Every write goes through the subscript's modify accessor (or `removeValue`), so no command
/// can change a ticket without it being marked: there is no list of call sites to keep in step.
struct WorkingSet: Sendable {
    /// Tickets sit in boxes: the table then moves 16-byte entries when it grows, not ~200-byte `Ticket` values
    /// (growing past 65,536 open tickets moved and faulted in tens of MB on the Raft loop, long enough to
    /// delay heartbeats), and a copy of the state for a snapshot shares the boxes. Value semantics are
    /// kept by hand: a box is written only while uniquely referenced, and cloned first otherwise.
    private(set) var boxes: [TicketID: TicketBox] = [:]
    /// Written (changed, added or removed) since `changesStored()`.
    private(set) var changed: Set<TicketID> = []
    /// Written since `takeTouched()`: the tickets whose scheduler deadline may have moved.
    private(set) var touched: Set<TicketID> = []
    let tracksChanges: Bool

    init(tracksChanges: Bool) { self.tracksChanges = tracksChanges }

    subscript(id: TicketID) -> Ticket? {
        get { boxes[id]?.ticket }
        _modify {
            // _modify rather than get/set: a set would copy the ticket, and then its timeline on append. The
            // ticket is moved out of its box for the caller, so it is the only reference while it changes.
            if tracksChanges { changed.insert(id) }
            touched.insert(id)
            var ticket: Ticket?
            if boxes[id] != nil {
                if !isKnownUniquelyReferenced(&boxes[id]!) { boxes[id] = TicketBox(boxes[id]!.ticket) }
                ticket = boxes[id]!.ticket
                boxes[id]!.ticket = nil
            }
            defer {
                if let ticket {
                    if let box = boxes[id] { box.ticket = ticket } else { boxes[id] = TicketBox(ticket) }
                } else {
                    boxes[id] = nil
                }
            }
            yield &ticket
        }
    }

    func contains(_ id: TicketID) -> Bool { boxes[id] != nil }
    var count: Int { boxes.count }
    var values: LazyMapCollection<Dictionary<TicketID, TicketBox>.Values, Ticket> { boxes.values.lazy.map { $0.ticket! } }

    mutating func removeValue(forKey id: TicketID) -> Ticket? {
        if tracksChanges { changed.insert(id) }
        touched.insert(id)
        return boxes.removeValue(forKey: id)?.ticket
    }

    mutating func reserveCapacity(_ capacity: Int) { boxes.reserveCapacity(capacity) }

    mutating func changesStored() { changed = [] }

    mutating func takeTouched() -> Set<TicketID> {
        defer { touched = [] }
        return touched
    }

    /// Tickets by ascending id.
    func sortedByID() -> [Ticket] {
        values.sorted { $0.id < $1.id }
    }
}

/// One working-set ticket; see `WorkingSet` for why it is boxed. Nil only while `WorkingSet`'s modify accessor
/// has the ticket out.
final class TicketBox: @unchecked Sendable {
    var ticket: Ticket?

    init(_ ticket: Ticket?) { self.ticket = ticket }
}

extension WorkingSet: Equatable {
    /// What changed since the last store is bookkeeping, not state.
    static func == (lhs: WorkingSet, rhs: WorkingSet) -> Bool {
        lhs.boxes.count == rhs.boxes.count && lhs.boxes.allSatisfy { rhs.boxes[$0.key]?.ticket == $0.value.ticket }
    }
}
