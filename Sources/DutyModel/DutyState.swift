import Foundation

/// The whole replicated duty state. Same commands in the same order ⇒ byte-identical snapshots.
///
/// Collections are either arrays in a defined order or String-keyed dictionaries, which the
/// snapshot encoder writes with sorted keys, so hash-table order never reaches the bytes.
public struct DutyState: Codable, Sendable, Equatable {
    public static let formatVersion = 1

    public private(set) var formatVersion = DutyState.formatVersion
    /// Ticket `n` lives at index `n - 1`; tickets are never removed (S6: no ticket is lost).
    public internal(set) var tickets: [Ticket] = []
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
    /// "routingKey/dedupKey" → the ticket open for it.
    public internal(set) var openAlerts: [String: TicketID] = [:]
    /// "routingKey/groupKey" → the Alertmanager group open for it.
    public internal(set) var alertGroups: [String: AlertGroup] = [:]
    public internal(set) var heartbeatMonitors: [String: HeartbeatMonitor] = [:]
    public internal(set) var channelInspections: [String: ChannelInspection] = [:]
    public internal(set) var knowledgeBase = KnowledgeBase()
    public internal(set) var samples: [String: SupervisionSample] = [:]
    /// "policyID#level" → how many round-robin pages that level has sent.
    public internal(set) var roundRobinCursors: [String: Int] = [:]
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

    public func ticket(_ id: TicketID) -> Ticket? {
        guard id >= 1, id <= tickets.count else { return nil }
        return tickets[id - 1]
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

    /// Deterministic bytes of the whole state (feeds Raft's InstallSnapshot).
    ///
    /// Layout: magic, then everything but the tickets as JSON with sorted keys (readable, and
    /// small), then the tickets in `TicketCodec`'s binary layout. Tickets dominate the state and
    /// JSON cost ~80 µs each; a generic binary Codable coder was tried and was no faster.
    public func snapshot() -> [UInt8] {
        var head = self
        head.tickets = []
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json: Data
        do {
            json = try encoder.encode(head)
        } catch {
            // The state holds only strings, integers and enums; encoding cannot fail.
            preconditionFailure("duty state failed to encode: \(error)")
        }
        var writer = ByteWriter()
        writer.append(Self.snapshotMagic)
        writer.int(json.count)
        writer.append([UInt8](json))
        TicketCodec.encode(tickets, into: &writer)
        return writer.bytes
    }

    public static func restore(from bytes: [UInt8]) throws(DutyError) -> DutyState {
        guard bytes.count >= snapshotMagic.count, Array(bytes.prefix(snapshotMagic.count)) == snapshotMagic else {
            throw DutyError(.invalid, field: "snapshot", "not a duty-state snapshot (bad magic)")
        }
        var reader = ByteReader(bytes: bytes, offset: snapshotMagic.count)
        let json = try reader.raw(try reader.count(limit: bytes.count))
        var state: DutyState
        do {
            state = try JSONDecoder().decode(DutyState.self, from: Data(json))
        } catch {
            throw DutyError(.invalid, field: "snapshot", "not a duty-state snapshot: \(error)")
        }
        // The version decides the ticket layout, so it is checked before the tickets are read.
        guard state.formatVersion == formatVersion else {
            throw DutyError(.invalid, field: "snapshot.formatVersion", "version \(state.formatVersion) is not supported (expected \(formatVersion))")
        }
        state.tickets = try TicketCodec.decode(from: &reader)
        guard reader.isAtEnd else { throw DutyError(.invalid, field: "snapshot", "trailing bytes after the tickets") }
        for (index, ticket) in state.tickets.enumerated() where ticket.id != index + 1 {
            throw DutyError(.invalid, field: "snapshot.tickets[\(index)].id", "ticket numbers must be 1, 2, 3 … in order")
        }
        return state
    }
}
