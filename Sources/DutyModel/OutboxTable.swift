/// The replicated outbox (rows by idempotency key) with the indexes the scheduler reads, so a pass costs
/// O(recipients + rows it acts on), whatever the outbox holds: up to `DutyLimits.maxOutboxPages` rows when a
/// channel is down or storm control holds a backlog for a few people.
///
/// The indexes are derived: rebuilt when a snapshot is decoded, never encoded, so the snapshot bytes are the
/// rows alone, exactly as a plain dictionary writes them.
public struct OutboxTable: Sendable, Equatable, Codable {
    /// One person through one contact method: the unit of storm control and of one message.
    public struct Recipient: Hashable, Comparable, Sendable {
        public let personID: String
        public let contactMethodID: String

        public init(personID: String, contactMethodID: String) {
            self.personID = personID
            self.contactMethodID = contactMethodID
        }

        public static func < (lhs: Recipient, rhs: Recipient) -> Bool {
            (lhs.personID, lhs.contactMethodID) < (rhs.personID, rhs.contactMethodID)
        }
    }

    /// A planned row's place in an index: (due instant or ticket, key). The row itself says where it is filed,
    /// so the indexes need no reverse map: about 24 bytes per row each.
    struct IndexKey<Order: Comparable & Sendable>: Comparable, Sendable {
        let order: Order
        let key: String
        static func < (lhs: IndexKey, rhs: IndexKey) -> Bool { (lhs.order, lhs.key) < (rhs.order, rhs.key) }
    }

    private var rows: [String: OutboxPage] = [:]
    /// Planned rows of each recipient by due instant (intended rows are due already and wait for an outcome).
    private var plannedDue: [Recipient: SortedChunks<IndexKey<Timestamp>>] = [:]
    private var plannedByTicket = SortedChunks<IndexKey<TicketID>>()
    private var intendedKeys: Set<String> = []

    public init() {}

    public init(from decoder: any Decoder) throws {
        let rows = try decoder.singleValueContainer().decode([String: OutboxPage].self)
        for row in rows.values { self[row.key] = row }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rows)
    }

    public static func == (lhs: OutboxTable, rhs: OutboxTable) -> Bool { lhs.rows == rhs.rows }

    public var count: Int { rows.count }
    public var isEmpty: Bool { rows.isEmpty }
    public var keys: Dictionary<String, OutboxPage>.Keys { rows.keys }
    public var values: Dictionary<String, OutboxPage>.Values { rows.values }

    public internal(set) subscript(key: String) -> OutboxPage? {
        get { rows[key] }
        set {
            // One lookup for the old row and the write (this runs for every intent and outcome).
            let old: OutboxPage?
            if let newValue { old = rows.updateValue(newValue, forKey: key) } else { old = rows.removeValue(forKey: key) }
            if let old {
                if old.isIntended {
                    intendedKeys.remove(key)
                } else {
                    let recipient = old.recipient
                    plannedDue[recipient]!.remove(IndexKey(order: old.dueAt, key: key))
                    if plannedDue[recipient]!.count == 0 { plannedDue[recipient] = nil }
                    plannedByTicket.remove(IndexKey(order: old.ticketID, key: key))
                }
            }
            guard let row = newValue else { return }
            precondition(row.key == key, "outbox: row \(row.key) filed under \(key)")
            if row.isIntended {
                intendedKeys.insert(key)
            } else {
                plannedDue[row.recipient, default: SortedChunks()].insert(IndexKey(order: row.dueAt, key: key))
                plannedByTicket.insert(IndexKey(order: row.ticketID, key: key))
            }
        }
    }

    /// Rows due by `instant`, planned or intended, earliest first (then by key). O(rows due): for tests and
    /// small outboxes; the scheduler reads `intendedRows`, `recipientsDue` and `forEachPlannedDue`.
    func due(until instant: Timestamp) -> [OutboxPage] {
        var due = intendedRows().filter { $0.dueAt <= instant }
        for index in plannedDue.values {
            index.forEach { entry in
                guard entry.order <= instant else { return false }
                due.append(rows[entry.key]!)
                return true
            }
        }
        return due.sorted { ($0.dueAt, $0.key) < ($1.dueAt, $1.key) }
    }

    /// Rows with a committed intent and no outcome yet (pages being sent, or left by an earlier leader), by key.
    public func intendedRows() -> [OutboxPage] { intendedKeys.sorted().map { rows[$0]! } }

    /// Recipients with a planned row due by `instant`, in order.
    public func recipientsDue(until instant: Timestamp) -> [Recipient] {
        plannedDue.compactMap { recipient, index in index.first!.order <= instant ? recipient : nil }.sorted()
    }

    /// Calls `body` with `recipient`'s planned rows due by `instant`, earliest first, until it returns false.
    public func forEachPlannedDue(of recipient: Recipient, until instant: Timestamp, _ body: (OutboxPage) -> Bool) {
        plannedDue[recipient]?.forEach { $0.order <= instant && body(rows[$0.key]!) }
    }

    /// When the earliest planned row falls due (O(recipients)).
    var earliestPlanned: Timestamp? { plannedDue.values.compactMap(\.first?.order).min() }

    /// Keys of the ticket's planned rows, sorted.
    func plannedKeys(of ticketID: TicketID) -> [String] {
        var keys: [String] = []
        plannedByTicket.forEach(from: IndexKey(order: ticketID, key: "")) { entry in
            guard entry.order == ticketID else { return false }
            keys.append(entry.key)
            return true
        }
        return keys
    }

    /// Whether the indexes hold exactly what the rows say (tests; O(rows)).
    func indexesAreExact() -> Bool {
        func entries<Order>(_ index: SortedChunks<IndexKey<Order>>) -> [IndexKey<Order>] {
            var all: [IndexKey<Order>] = []
            index.forEach { all.append($0); return true }
            return all
        }
        var rebuilt = OutboxTable()
        for row in rows.values { rebuilt[row.key] = row }
        guard Set(plannedDue.keys) == Set(rebuilt.plannedDue.keys), intendedKeys == rebuilt.intendedKeys,
              plannedByTicket.isConsistent(), entries(plannedByTicket) == entries(rebuilt.plannedByTicket) else { return false }
        return plannedDue.allSatisfy { recipient, index in
            index.isConsistent() && entries(index) == entries(rebuilt.plannedDue[recipient]!)
        }
    }
}

extension OutboxPage {
    /// Who the row pages, through which contact method.
    public var recipient: OutboxTable.Recipient { .init(personID: personID, contactMethodID: contactMethodID) }
}
