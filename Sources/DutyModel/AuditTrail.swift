/// Who issued which command, when: the most recent entries in a ring, plus a total count.
/// The complete trail is the replicated log itself and the events the store persists.
public struct AuditTrail: Codable, Sendable, Equatable {
    /// One audited command.
    public struct Entry: Codable, Sendable, Equatable {
        public let sequence: Int
        public let at: Timestamp
        public let actor: ActorID
        public let command: String
        public let subject: String
    }

    private var ring: [Entry] = []
    private var nextSlot = 0
    public private(set) var totalCount = 0

    mutating func record(at: Timestamp, actor: ActorID, command: String, subject: String) {
        let entry = Entry(sequence: totalCount, at: at, actor: actor, command: command, subject: subject)
        if ring.count < DutyLimits.maxAuditEntriesKept {
            ring.append(entry)
        } else {
            ring[nextSlot] = entry
        }
        nextSlot = (nextSlot + 1) % DutyLimits.maxAuditEntriesKept
        totalCount += 1
    }

    /// Kept entries, oldest first.
    public var recent: [Entry] {
        guard ring.count == DutyLimits.maxAuditEntriesKept else { return ring }
        return Array(ring[nextSlot...] + ring[..<nextSlot])
    }
}
