/// The replicated outbox (rows by idempotency key) with the indexes the scheduler reads, so a pass finds
/// the rows due in O(rows due) and an acknowledgement drops its ticket's rows in O(its rows), whatever the
/// outbox holds (up to `DutyLimits.maxOutboxPages` when a channel is down or storm control holds pages back).
///
/// The indexes are derived: rebuilt when a snapshot is decoded, never encoded, so the snapshot bytes are the
/// rows alone, exactly as a plain dictionary writes them.
public struct OutboxTable: Sendable, Equatable, Codable {
    private var rows: [String: OutboxPage] = [:]
    /// Planned rows by due instant (intended rows are due already and wait for their outcome).
    private var plannedDue = DeadlineIndex<String>()
    private var intendedKeys: Set<String> = []
    private var plannedByTicket: [TicketID: Set<String>] = [:]

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
            if let old = rows[key] {
                if old.isIntended {
                    intendedKeys.remove(key)
                } else {
                    plannedDue.set(key, nil)
                    plannedByTicket[old.ticketID]?.remove(key)
                    if plannedByTicket[old.ticketID]?.isEmpty == true { plannedByTicket[old.ticketID] = nil }
                }
            }
            rows[key] = newValue
            guard let row = newValue else { return }
            precondition(row.key == key, "outbox: row \(row.key) filed under \(key)")
            if row.isIntended {
                intendedKeys.insert(key)
            } else {
                plannedDue.set(key, row.dueAt)
                plannedByTicket[row.ticketID, default: []].insert(key)
            }
        }
    }

    /// Rows due by `instant`, planned or intended, earliest first (then by key).
    func due(until instant: Timestamp) -> [OutboxPage] {
        var due = plannedDue.due(until: instant).map { rows[$0]! }
        let intended = intendedKeys.compactMap { key in rows[key].flatMap { $0.dueAt <= instant ? $0 : nil } }
        guard !intended.isEmpty else { return due }
        due.append(contentsOf: intended)
        return due.sorted { ($0.dueAt, $0.key) < ($1.dueAt, $1.key) }
    }

    /// When the earliest planned row falls due.
    var earliestPlanned: Timestamp? { plannedDue.earliest }

    /// Keys of the ticket's planned rows, sorted.
    func plannedKeys(of ticketID: TicketID) -> [String] { plannedByTicket[ticketID].map { $0.sorted() } ?? [] }

    /// Whether the indexes hold exactly what the rows say (tests; O(rows)).
    func indexesAreExact() -> Bool {
        var rebuilt = OutboxTable()
        for row in rows.values { rebuilt[row.key] = row }
        return plannedDue.isConsistent() && plannedDue.count == rebuilt.plannedDue.count
            && rows.keys.allSatisfy { plannedDue.deadline(of: $0) == rebuilt.plannedDue.deadline(of: $0) }
            && intendedKeys == rebuilt.intendedKeys && plannedByTicket == rebuilt.plannedByTicket
    }
}
