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
        precondition(!live.contains(ticket.id) && ticket.stage == .archived, "ticket \(ticket.id) is not archived")
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
        if live.write(id, into: &writer) { return true }
        guard let record = archivedInMemory[id] else { return false }
        writer.append(record.bytes)
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
            if let ticket = live[id] {
                if range?.contains(ticket.registeredAt) ?? true { body(ticket) }
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
///
/// Only the tickets written most recently stay decoded (at most `decodedLimit`); the others are held as
/// their snapshot record. A `Ticket` value with its timeline, SLA clocks and escalation takes 1.2–1.6 KB of
/// heap, its record 250–400 bytes: with 100,000 open tickets that is the difference between a node under
/// and over 300 MB. Reading a held record decodes it (a few µs), which every archived ticket already costs.
/// The representation is not state: it differs between replicas and never reaches the snapshot bytes.
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
    /// Decoded tickets, oldest write first, each with the write that left it decoded; an entry whose ticket was
    /// written again since (or encoded, or removed) is stale and skipped.
    private var decodedOrder: [(id: TicketID, write: UInt64)] = []
    private var decodedOrderStart = 0
    /// Entries of the decoded order kept, stale ones included: bounded, whatever the writes.
    var decodedOrderLength: Int { decodedOrder.count - decodedOrderStart }
    private(set) var decodedCount = 0
    private var writes: UInt64 = 0
    /// Most tickets a command batch touches fit, so a busy ticket is not encoded and decoded on every write.
    private(set) var decodedLimit: Int

    static let defaultDecodedLimit = 4_096

    init(tracksChanges: Bool, decodedLimit: Int = WorkingSet.defaultDecodedLimit) {
        precondition(decodedLimit >= 1, "at least one ticket stays decoded")
        self.tracksChanges = tracksChanges
        self.decodedLimit = decodedLimit
    }

    subscript(id: TicketID) -> Ticket? {
        get { boxes[id]?.ticket(id) }
        _modify {
            // _modify rather than get/set: a set would copy the ticket, and then its timeline on append. The
            // ticket is moved out of its box for the caller, so it is the only reference while it changes.
            if tracksChanges { changed.insert(id) }
            touched.insert(id)
            var ticket: Ticket?
            var wasDecoded = false
            if boxes[id] != nil {
                if !isKnownUniquelyReferenced(&boxes[id]!) { boxes[id] = TicketBox(boxes[id]!.content) }
                wasDecoded = boxes[id]!.isDecoded
                ticket = boxes[id]!.take(id)
            }
            defer { store(ticket, id, wasDecoded: wasDecoded) }
            yield &ticket
        }
    }

    private mutating func store(_ ticket: Ticket?, _ id: TicketID, wasDecoded: Bool) {
        guard let ticket else {
            if boxes.removeValue(forKey: id) != nil, wasDecoded { decodedCount -= 1 }
            return
        }
        writes += 1
        if !wasDecoded { decodedCount += 1 }
        if let box = boxes[id] { box.content = .decoded(ticket, write: writes) } else { boxes[id] = TicketBox(.decoded(ticket, write: writes)) }
        decodedOrder.append((id, writes))
        encodeOldest()
    }

    /// Tests hold nearly every ticket encoded, so each command path reads and writes records.
    mutating func setDecodedLimit(_ limit: Int) {
        precondition(limit >= 1, "at least one ticket stays decoded")
        decodedLimit = limit
        encodeOldest()
    }

    /// Encodes the least recently written decoded tickets until at most `decodedLimit` remain.
    private mutating func encodeOldest() {
        while decodedCount > decodedLimit, decodedOrderStart < decodedOrder.count {
            let (id, write) = decodedOrder[decodedOrderStart]
            decodedOrderStart += 1
            guard boxes[id]?.decodedWrite == write else { continue }
            if !isKnownUniquelyReferenced(&boxes[id]!) { boxes[id] = TicketBox(boxes[id]!.content) }
            boxes[id]!.encode()
            decodedCount -= 1
        }
        // Stale entries pile up behind a ticket written over and over; drop them once they are most of the list.
        if decodedOrderStart > 1_024, decodedOrderStart * 2 > decodedOrder.count {
            decodedOrder.removeFirst(decodedOrderStart)
            decodedOrderStart = 0
        } else if decodedOrder.count - decodedOrderStart > 4 * decodedLimit + 1_024 {
            decodedOrder = decodedOrder[decodedOrderStart...].filter { boxes[$0.id]?.decodedWrite == $0.write }
            decodedOrderStart = 0
        }
        assert(decodedCount >= 0 && decodedCount <= max(decodedLimit, decodedOrder.count - decodedOrderStart), "decoded tickets miscounted")
    }

    func contains(_ id: TicketID) -> Bool { boxes[id] != nil }
    var count: Int { boxes.count }
    var values: LazyMapCollection<[TicketID: TicketBox], Ticket> { boxes.lazy.map { $0.value.ticket($0.key) } }

    mutating func removeValue(forKey id: TicketID) -> Ticket? {
        if tracksChanges { changed.insert(id) }
        touched.insert(id)
        guard let box = boxes.removeValue(forKey: id) else { return nil }
        if box.isDecoded { decodedCount -= 1 }
        return box.ticket(id)
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

    /// Appends the ticket's snapshot bytes, copying a held record instead of encoding again.
    func write(_ id: TicketID, into writer: inout ByteWriter) -> Bool {
        guard let box = boxes[id] else { return false }
        switch box.content {
        case let .decoded(ticket, _): TicketCodec.write(ticket, &writer)
        case let .encoded(record): writer.append(record)
        case .lent: preconditionFailure("ticket \(id) is being written")
        }
        return true
    }
}

/// One working-set ticket, decoded or as its record; see `WorkingSet` for why it is boxed. `.lent` only while
/// `WorkingSet`'s modify accessor has the ticket out.
final class TicketBox: @unchecked Sendable {
    enum Content {
        /// Indirect: inline, a `Ticket` would make every box, encoded ones too, ~400 bytes.
        indirect case decoded(Ticket, write: UInt64)
        case encoded([UInt8])
        case lent
    }

    var content: Content

    init(_ content: Content) { self.content = content }

    var isDecoded: Bool { if case .decoded = content { true } else { false } }

    var decodedWrite: UInt64? { if case let .decoded(_, write) = content { write } else { nil } }

    /// The ticket; `id` is the one it must be, checked when a record is decoded.
    func ticket(_ id: TicketID) -> Ticket {
        switch content {
        case let .decoded(ticket, _):
            return ticket
        case let .encoded(record):
            do {
                return try TicketCodec.decodeRecord(record, expecting: id)
            } catch {
                preconditionFailure("ticket \(id) held in memory does not decode: \(error)")
            }
        case .lent:
            preconditionFailure("ticket \(id) is being written")
        }
    }

    /// Moves the ticket out, leaving the box `.lent` so the caller holds the only reference while it changes.
    func take(_ id: TicketID) -> Ticket {
        let ticket = ticket(id)
        content = .lent
        return ticket
    }

    func encode() {
        guard case let .decoded(ticket, _) = content else { return }
        content = .encoded(TicketCodec.compactRecord(of: ticket))
    }
}

extension WorkingSet: Equatable {
    /// What changed since the last store, and which tickets are decoded, is bookkeeping, not state.
    static func == (lhs: WorkingSet, rhs: WorkingSet) -> Bool {
        lhs.boxes.count == rhs.boxes.count && lhs.boxes.allSatisfy { rhs.boxes[$0.key]?.ticket($0.key) == $0.value.ticket($0.key) }
    }
}
