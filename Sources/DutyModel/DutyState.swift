import Foundation

/// The whole replicated duty state. Same commands in the same order ⇒ byte-identical snapshots.
///
/// Collections are either arrays in a defined order or String-keyed dictionaries, which the
/// snapshot encoder writes with sorted keys, so hash-table order never reaches the bytes.
///
/// Tickets: unarchived ones (the working set) are held in memory. Archived ones stay in memory
/// too, as their encoded records (~270 bytes each instead of a ~1.5 KB `Ticket`), unless the
/// state was given a `TicketArchive` (`init(archive:)`, `restoreWorkingSet`,
/// `restore(from:archive:storingArchived:)`): then the owner moves them there in batches
/// (`pendingArchiveChanges`, `archiveChangesStored(_:)`) and the state reads them back on
/// demand (a reopen, `ticket(_:)`, reports, snapshots). Where they live never changes what
/// `apply` returns or what `snapshot()` writes.
///
/// The `Codable` form is the snapshot's JSON head: everything but the tickets, which only
/// `snapshot()` and `restore(from:)` carry.
public struct DutyState: Codable, Sendable, Equatable {
    public static let formatVersion = 1

    public private(set) var formatVersion = DutyState.formatVersion
    /// Tickets are never removed (S6: no ticket is lost); see `TicketTable` for where each lives.
    var tickets = TicketTable()
    public internal(set) var calendars: [String: BusinessCalendar] = [:]
    /// All versions of each policy, oldest first; tickets refer to the version they started with.
    public internal(set) var slaPolicies: [String: [SLAPolicy]] = [:]
    public internal(set) var escalationPolicies: [String: [EscalationPolicy]] = [:]
    public internal(set) var people: [String: Person] = [:]
    public internal(set) var teams: [String: Team] = [:]
    public internal(set) var schedules: [String: OnCallSchedule] = [:]
    public internal(set) var services: [String: Service] = [:]
    /// Integration key → service id.
    public internal(set) var integrationKeys: [String: String] = [:]
    public internal(set) var customerSLAOverrides: [String: String] = [:]
    /// Absent from snapshots written before 0.11, and from every snapshot until the first customer or message:
    /// optional so those still decode.
    private var customerBookStorage: CustomerBook?
    /// "<schedule>/<person>" → the start of the last shift its person was reminded of; absent before 0.11.
    private var handoffsRemindedStorage: [String: Timestamp]?
    public internal(set) var handoffsReminded: [String: Timestamp] {
        get { handoffsRemindedStorage ?? [:] }
        set { handoffsRemindedStorage = newValue }
    }
    /// Customers and mail threads (S8, S15).
    public internal(set) var customerBook: CustomerBook {
        get { customerBookStorage ?? CustomerBook() }
        set { customerBookStorage = newValue }
        // In place, so adding one thread does not copy every customer.
        _modify {
            if customerBookStorage == nil { customerBookStorage = CustomerBook() }
            yield &customerBookStorage!
        }
    }
    /// True once a scheduler batch asked for SLA notice keys naming the clock's cycle (`SLAEventRecord`); from then
    /// on every notice, planned by any command, is keyed that way. Absent (nil) until then, so states and snapshots
    /// of clusters that never switched keep the bytes of 0.11.
    private var noticeKeysByCycleStorage: Bool?
    public internal(set) var noticeKeysByCycle: Bool {
        get { noticeKeysByCycleStorage ?? false }
        set { noticeKeysByCycleStorage = newValue ? true : nil }
    }
    /// "routingKey/dedupKey" → the ticket open for it.
    public internal(set) var openAlerts: [String: TicketID] = [:]
    /// "routingKey/groupKey" → the Alertmanager group open for it.
    public internal(set) var alertGroups: [String: AlertGroup] = [:]
    public internal(set) var heartbeatMonitors: [String: HeartbeatMonitor] = [:]
    /// Service id → its most recent change events, oldest first (bounded by `DutyLimits.maxChangesPerService`).
    public internal(set) var serviceChanges: [String: [RecordedChange]] = [:]
    public internal(set) var channelInspections: [String: ChannelInspection] = [:]
    public internal(set) var knowledgeBase = KnowledgeBase()
    public internal(set) var samples: [String: SupervisionSample] = [:]
    /// "policyID#level" → how many round-robin pages that level has sent.
    public internal(set) var roundRobinCursors: [String: Int] = [:]
    /// Pages planned or intended and waiting for their outcome, by idempotency key (see `OutboxPage`).
    public internal(set) var outbox = OutboxTable()
    public internal(set) var openTicketCount = 0
    public internal(set) var appliedCommands = 0
    public internal(set) var lastAppliedAt: Timestamp = 0
    public internal(set) var audit = AuditTrail()

    public static let defaultCalendarID = "default"
    public static let defaultSLAPolicyID = "default"

    /// An empty state with the commitment's defaults: a Mon–Fri 09:00–18:00 Asia/Shanghai
    /// calendar and the default SLA policy (version 1).
    public init() {
        let calendar = BusinessCalendar.weekdays(id: Self.defaultCalendarID, timeZoneIdentifier: "Asia/Shanghai",
                                                 startMinute: 9 * 60, endMinute: 18 * 60)
        calendars[calendar.id] = calendar
        let draft = SLAPolicy.defaultDraft(calendarID: calendar.id)
        slaPolicies[draft.id] = [SLAPolicy(id: draft.id, version: 1, name: draft.name, rules: draft.rules,
                                           calendarID: draft.calendarID,
                                           warningThresholdPercent: draft.warningThresholdPercent, createdAt: 0)]
    }

    /// An empty state (see `init()`) whose archived tickets go to `archive` once stored.
    public init(archive: any TicketArchive) {
        self.init()
        tickets = TicketTable(archive: archive)
    }

    /// Tickets ever registered; their ids are 1…`ticketCount`.
    public var ticketCount: Int { tickets.count }
    /// Tickets in the archived stage, in memory or in the archive.
    public var archivedTicketCount: Int { tickets.archivedCount }
    /// Tickets not archived: the working set, always in memory.
    public var workingSetTicketCount: Int { tickets.live.count }

    /// The ticket with this number, or nil if there is none. An archived ticket is read from the
    /// archive; a failing archive traps (see `TicketArchive`), `loadTicket(_:)` throws instead.
    public func ticket(_ id: TicketID) -> Ticket? {
        do {
            return try tickets.ticket(id)
        } catch {
            preconditionFailure("\(error); a replica that cannot read its own state must stop")
        }
    }

    /// Like `ticket(_:)`, but an unreadable archive is a `DutyError` with reason `.storage`.
    public func loadTicket(_ id: TicketID) throws(DutyError) -> Ticket? { try tickets.ticket(id) }

    /// Unarchived tickets, by id, without touching the archive.
    public func workingSetTickets() -> [Ticket] { tickets.live.sortedByID() }

    /// Every ticket, by id. Reads the whole archive: meant for tests and small states.
    public func allTickets() throws(DutyError) -> [Ticket] {
        var all: [Ticket] = []
        all.reserveCapacity(ticketCount)
        try forEachTicket { all.append($0) }
        return all
    }

    /// Calls `body` with every ticket registered in `range` (all if nil), by ascending id, reading
    /// archived ones from the archive.
    public func forEachTicket(registeredIn range: Range<Timestamp>? = nil, _ body: (Ticket) -> Void) throws(DutyError) {
        guard tickets.archive != nil else {
            // Everything is in memory: visit in id order without gathering copies first (a report of 100,000 tickets).
            try tickets.forEachInMemory(registeredIn: range, body)
            return
        }
        let inMemory = try tickets.inMemory(registeredIn: range)
        var next = 0
        if let archive = tickets.archive {
            do {
                let visit: (TicketID, UnsafeRawBufferPointer) throws -> Void = { id, record in
                    while next < inMemory.count, inMemory[next].id < id {
                        body(inMemory[next])
                        next += 1
                    }
                    // A copy in memory is newer than a record the archive has not dropped yet.
                    guard !tickets.inMemory(id) else { return }
                    body(try TicketCodec.decodeRecord([UInt8](record), expecting: id))
                }
                if let range {
                    try archive.forEachRecord(registeredIn: range, visit)
                } else {
                    try archive.forEachRecord(visit)
                }
            } catch let error as DutyError {
                throw error
            } catch {
                throw DutyError(.storage, field: "archive", "the archive could not be read: \(error)")
            }
        }
        for ticket in inMemory[next...] { body(ticket) }
    }

    /// Archived tickets (and reopen deletions) the owner of the archive has yet to store.
    public var pendingArchiveChanges: ArchiveChanges { tickets.pendingChanges }
    /// How many tickets `pendingArchiveChanges` holds, without encoding them.
    public var pendingArchiveChangeCount: Int { tickets.pendingChangeCount }

    /// Records that `changes` (the current `pendingArchiveChanges`, with nothing applied since)
    /// are in the archive: the state drops its copies and reads them from there.
    public mutating func archiveChangesStored(_ changes: ArchiveChanges) {
        tickets.changesStored(changes)
    }

    public func latestSLAPolicy(_ id: String) -> SLAPolicy? { slaPolicies[id]?.last }

    public func slaPolicy(_ id: String, version: Int) -> SLAPolicy? {
        guard let versions = slaPolicies[id], version >= 1, version <= versions.count else { return nil }
        return versions[version - 1]
    }

    public func escalationPolicy(_ id: String, version: Int) -> EscalationPolicy? {
        guard let versions = escalationPolicies[id], version >= 1, version <= versions.count else { return nil }
        return versions[version - 1]
    }

    static let snapshotMagic = Array("VIGILDS1".utf8)
    static let workingSetMagic = Array("VIGILWS1".utf8)

    /// Deterministic bytes of the whole state (feeds Raft's InstallSnapshot); see `writeSnapshot`.
    /// Traps if the archive cannot be read; `writeSnapshot` throws instead.
    public func snapshot() -> [UInt8] {
        var bytes: [UInt8] = []
        do {
            try writeSnapshot { bytes.append(contentsOf: $0) }
        } catch {
            preconditionFailure("snapshot failed: \(error)")
        }
        return bytes
    }

    /// Streams the snapshot to `sink` in chunks of about `chunkBytes`, merging tickets in memory
    /// with records read from the archive, by ascending id.
    ///
    /// Layout: magic, then everything but the tickets as JSON with sorted keys (readable, and
    /// small), then the tickets in `TicketCodec`'s binary layout. Tickets dominate the state and
    /// JSON cost ~80 µs each; a generic binary Codable coder was tried and was no faster.
    /// Errors: an unreadable archive is a `DutyError` (`.storage`); whatever `sink` throws passes through.
    ///
    /// `archivedRecord`, when given, learns where each archived ticket's record lies in the stream: its id,
    /// registration time, offset from the start of the first piece, and length. A node uses it to read archived
    /// tickets from the snapshot file later instead of keeping them in memory.
    public func writeSnapshot(chunkBytes: Int = 1 << 20, archivedRecord: ((TicketID, Timestamp, Int, Int) -> Void)? = nil,
                              to sink: ([UInt8]) throws -> Void) throws {
        var writer = ByteWriter()
        writeHead(magic: Self.snapshotMagic, into: &writer)
        writer.int(tickets.count)
        var next = 1
        var flushed = 0
        // Inside the archive's scan a sink error is tagged, so that only the archive's own errors become `.storage`.
        func flush(atLeast threshold: Int) throws {
            guard writer.count >= threshold else { return }
            let piece = writer.drain()
            flushed += piece.count
            do { try sink(piece) } catch { throw SinkFailure(underlying: error) }
        }
        func noteIfArchivedInMemory(_ id: TicketID, from start: Int) {
            guard let archivedRecord, let record = tickets.archivedInMemory[id] else { return }
            archivedRecord(id, record.registeredAt, flushed + start, writer.count - start)
        }
        func writeFromMemory(before end: TicketID) throws {
            while next < end {
                let start = writer.count
                guard tickets.writeFromMemory(next, into: &writer) else { throw TicketTable.missing(next) }
                noteIfArchivedInMemory(next, from: start)
                next += 1
                try flush(atLeast: chunkBytes)
            }
        }
        do {
            if let archive = tickets.archive {
                try archive.forEachRecord { id, record in
                    guard id >= next, id <= tickets.count else {
                        throw DutyError(.storage, field: "archive", "the archive yielded ticket \(id) out of order or out of range")
                    }
                    try writeFromMemory(before: id)
                    let start = writer.count
                    // A copy in memory is newer than a record the archive has not dropped yet.
                    if tickets.writeFromMemory(id, into: &writer) {
                        noteIfArchivedInMemory(id, from: start)
                    } else {
                        writer.append(record)
                        if let archivedRecord {
                            var reader = ByteReader(bytes: Array(record))
                            archivedRecord(id, try TicketCodec.skim(&reader).registeredAt, flushed + start, record.count)
                        }
                    }
                    next = id + 1
                    try flush(atLeast: chunkBytes)
                }
            }
            try writeFromMemory(before: tickets.count + 1)
            try flush(atLeast: 1)
        } catch let error as SinkFailure {
            throw error.underlying
        } catch let error as DutyError {
            throw error
        } catch {
            throw DutyError(.storage, field: "archive", "the archive could not be read: \(error)")
        }
    }

    private struct SinkFailure: Error { let underlying: any Error }

    private func writeHead(magic: [UInt8], into writer: inout ByteWriter) {
        let json = headJSON()
        writer.append(magic)
        writer.int(json.count)
        writer.append(json)
    }

    private static func readHead(_ bytes: [UInt8], magic: [UInt8], field: String) throws(DutyError) -> (DutyState, ByteReader) {
        guard bytes.count >= magic.count, Array(bytes.prefix(magic.count)) == magic else {
            throw DutyError(.invalid, field: field, "not a duty-state \(field) (bad magic)")
        }
        var reader = ByteReader(bytes: bytes, offset: magic.count)
        let json = try reader.raw(try reader.count(limit: bytes.count))
        let state: DutyState
        do {
            state = try decodeHeadJSON(json)
        } catch {
            throw DutyError(.invalid, field: field, "not a duty-state \(field): \(error)")
        }
        // The version decides the ticket layout, so it is checked before the tickets are read.
        guard state.formatVersion == formatVersion else {
            throw DutyError(.invalid, field: "\(field).formatVersion", "version \(state.formatVersion) is not supported (expected \(formatVersion))")
        }
        return (state, reader)
    }

    /// The state of `snapshot()` bytes, every ticket in memory.
    public static func restore(from bytes: [UInt8]) throws(DutyError) -> DutyState {
        do {
            return try restore(from: bytes, archive: nil, storingArchived: { _, _, _ in })
        } catch let error as DutyError {
            throw error
        } catch {
            preconditionFailure("only storeArchived throws other errors, and there is none: \(error)")
        }
    }

    /// The state of `snapshot()` bytes with its archived tickets handed to `storeArchived` (id,
    /// registration time, record bytes) instead of kept: the returned state reads them from
    /// `archive`, which must hold them once the caller commits. Throws `DutyError` for bad
    /// bytes; whatever `storeArchived` throws passes through.
    public static func restore(from bytes: [UInt8], archive: any TicketArchive,
                               storingArchived storeArchived: @escaping (TicketID, Timestamp, ArraySlice<UInt8>) throws -> Void) throws -> DutyState {
        try restore(from: bytes, archive: .some(archive), storingArchived: storeArchived)
    }

    private static func restore(from bytes: [UInt8], archive: (any TicketArchive)?,
                                storingArchived storeArchived: @escaping (TicketID, Timestamp, ArraySlice<UInt8>) throws -> Void) throws -> DutyState {
        var restorer = SnapshotRestorer(archive: archive, storingArchived: storeArchived)
        try restorer.consume(bytes)
        return try restorer.finish()
    }

    /// Rebuilds a state from `snapshot()` bytes handed over in the pieces `writeSnapshot(chunkBytes:to:)` emits,
    /// so that a restore never holds the whole snapshot: a node reads a snapshot file of hundreds of megabytes
    /// a piece at a time. The first piece holds the head and the ticket count; every piece ends at a ticket's
    /// end (the writer flushes only there), and one that does not is refused as truncated.
    public struct SnapshotRestorer {
        private var state: DutyState?
        private var count = 0
        private var next: TicketID = 1
        private let archive: (any TicketArchive)?
        private let storeArchived: (TicketID, Timestamp, ArraySlice<UInt8>) throws -> Void
        private let tracksWorkingSetChanges: Bool

        /// Every ticket kept in memory.
        public init() {
            self.init(archive: nil, storingArchived: { _, _, _ in })
        }

        init(archive: (any TicketArchive)?, storingArchived: @escaping (TicketID, Timestamp, ArraySlice<UInt8>) throws -> Void) {
            self.archive = archive
            self.storeArchived = storingArchived
            self.tracksWorkingSetChanges = archive != nil
        }

        /// Archived tickets are not kept: `indexingArchived` gets each one's id, registration time and record (a
        /// slice of the piece being consumed, so its indices say where in that piece it lies), and the restored
        /// state reads them from `archive`, which must serve them once the restore is over.
        public init(archive: any TicketArchive, indexingArchived: @escaping (TicketID, Timestamp, ArraySlice<UInt8>) throws -> Void) {
            self.archive = archive
            self.storeArchived = indexingArchived
            self.tracksWorkingSetChanges = false
        }

        /// Reads one piece; a `DutyError` names what is wrong with the bytes.
        public mutating func consume(_ piece: [UInt8]) throws {
            var reader: ByteReader
            if state == nil {
                var (head, headReader) = try readHead(piece, magic: snapshotMagic, field: "snapshot")
                // Not `count(limit:)`: the tickets may be in later pieces, so the count is not bounded by this one.
                let count = try headReader.int()
                guard (0...DutyLimits.maxTickets).contains(count) else {
                    throw DutyError(.invalid, field: "snapshot", "implausible ticket count \(count)")
                }
                head.tickets = TicketTable(archive: archive, tracksChanges: tracksWorkingSetChanges)
                head.tickets.setCountForRestore(count)
                state = head
                self.count = count
                reader = headReader
            } else {
                reader = ByteReader(bytes: piece)
            }
            while !reader.isAtEnd {
                guard next <= count else { throw DutyError(.invalid, field: "snapshot", "trailing bytes after the tickets") }
                // Archived tickets are checked but not built: their bytes are kept (or stored) as they are.
                let start = reader
                let skimmed = try TicketCodec.skim(&reader)
                guard skimmed.id == next else { throw DutyState.outOfOrder(next) }
                if skimmed.stage == .archived {
                    let record = piece[start.offset..<reader.offset]
                    if archive != nil {
                        try storeArchived(next, skimmed.registeredAt, record)
                    } else {
                        state!.tickets.insertRestored(archived: TicketRecord(id: next, registeredAt: skimmed.registeredAt, bytes: Array(record)))
                    }
                } else {
                    reader = start
                    state!.tickets.insertRestored(try TicketCodec.read(&reader))
                }
                next += 1
            }
        }

        /// The restored state, once every ticket the head counted has arrived.
        public consuming func finish() throws(DutyError) -> DutyState {
            guard var state else { throw DutyError(.invalid, field: "snapshot", "empty: no head") }
            guard next == count + 1 else {
                throw DutyError(.invalid, field: "snapshot", "truncated: \(next - 1) of \(count) tickets")
            }
            try state.checkTicketReferences(field: "snapshot")
            state.reindexAllDeadlines()
            return state
        }
    }

    /// The owner wrote a snapshot of `copy` (an earlier state of this one) and `archive` now serves that
    /// snapshot's archived tickets: those unchanged since the copy leave memory.
    public mutating func archiveReplaced(by archive: any TicketArchive, writtenFrom copy: DutyState) {
        tickets.archiveReplaced(by: archive, writtenFrom: copy.tickets)
    }

    private static func outOfOrder(_ expected: TicketID) -> DutyError {
        DutyError(.invalid, field: "snapshot.tickets[\(expected - 1)].id", "ticket numbers must be 1, 2, 3 … in order")
    }

    /// Open alerts and groups are only ever kept for unarchived tickets; commands rely on it.
    private func checkTicketReferences(field: String) throws(DutyError) {
        for id in openAlerts.values where !tickets.live.contains(id) {
            throw DutyError(.invalid, field: "\(field).openAlerts", "an open alert refers to ticket \(id), which is archived or missing")
        }
        for group in alertGroups.values where !tickets.live.contains(group.ticketID) {
            throw DutyError(.invalid, field: "\(field).alertGroups", "an alert group refers to ticket \(group.ticketID), which is archived or missing")
        }
    }

    /// What a checkpoint writes so that a restart replays only the log after it: the head (every
    /// field but the tickets, and the ticket count) and the unarchived tickets written since the
    /// last `workingSetChangesStored()` (all of them if `everything`, or if nothing tracks changes).
    /// Archived tickets are not in it: store `pendingArchiveChanges` first (a precondition).
    public func workingSetChanges(everything: Bool = false) -> WorkingSetChanges {
        precondition(tickets.pendingChangeCount == 0, "store pendingArchiveChanges before the working set")
        var head = ByteWriter()
        writeHead(magic: Self.workingSetMagic, into: &head)
        head.int(tickets.count)
        var changed: [TicketRecord] = []
        var removed: [TicketID] = []
        if everything || !tickets.live.tracksChanges {
            changed = tickets.live.sortedByID().map { TicketRecord(id: $0.id, registeredAt: $0.registeredAt, bytes: TicketCodec.record(of: $0)) }
        } else {
            for id in tickets.live.changed.sorted() {
                if let ticket = tickets.live[id] {
                    changed.append(TicketRecord(id: id, registeredAt: ticket.registeredAt, bytes: TicketCodec.record(of: ticket)))
                } else {
                    removed.append(id)
                }
            }
        }
        return WorkingSetChanges(head: head.bytes, changed: changed, removed: removed)
    }

    /// Records that the last `workingSetChanges()` is stored; with nothing applied in between.
    public mutating func workingSetChangesStored() { tickets.live.changesStored() }

    /// The state of a stored working set: `head` from `workingSetChanges`, and `records` calling
    /// its argument with every stored unarchived ticket's bytes by ascending id. Archived tickets
    /// are read from `archive`. Throws `DutyError` for bad bytes; `records`' own errors pass through.
    public static func restoreWorkingSet(head: [UInt8], archive: any TicketArchive,
                                         records: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws -> DutyState {
        var (state, reader) = try readHead(head, magic: workingSetMagic, field: "workingSet")
        state.tickets = TicketTable(archive: archive)
        // Not `reader.count`: the tickets are not in these bytes, so the count is not bounded by them.
        let count = try reader.int()
        guard (0...DutyLimits.maxTickets).contains(count) else {
            throw DutyError(.invalid, field: "workingSet", "implausible ticket count \(count)")
        }
        guard reader.isAtEnd else { throw DutyError(.invalid, field: "workingSet", "trailing bytes after the head") }
        state.tickets.setCountForRestore(count)
        var previous = 0
        try records { bytes in
            var reader = ByteReader(bytes: [UInt8](bytes))
            let ticket = try TicketCodec.read(&reader)
            guard reader.isAtEnd, ticket.id > previous, ticket.id <= count, ticket.stage != .archived else {
                throw DutyError(.invalid, field: "workingSet.tickets", "ticket \(ticket.id) is damaged, out of order, out of range or archived")
            }
            previous = ticket.id
            state.tickets.insertRestored(ticket)
        }
        try state.checkTicketReferences(field: "workingSet")
        // Just loaded from the store: nothing to write back.
        state.tickets.live.changesStored()
        state.reindexAllDeadlines()
        return state
    }
}
