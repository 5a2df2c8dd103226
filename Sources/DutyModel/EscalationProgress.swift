/// Where a ticket stands in the escalation policy version it started with.
public struct EscalationProgress: Codable, Sendable, Equatable {
    public let policyID: String
    public let policyVersion: Int
    public let startedAt: Timestamp
    /// Steps already paged (recorded by the scheduler through `recordEscalationStep`).
    public internal(set) var stepsFired: Int
    /// Deadline of step `stepsFired`; each step is due a level's delay after the previous
    /// step's deadline, so a late scheduler does not push later levels back.
    public internal(set) var nextDueAt: Timestamp
    /// Registered inside a maintenance window: recorded, never paged.
    public let suppressedByMaintenance: Bool
}

/// The next page the scheduler owes for a ticket, with an idempotency key for the outbox.
public struct EscalationStep: Codable, Sendable, Equatable {
    public let ticketID: TicketID
    public let stepIndex: Int
    public let levelIndex: Int
    public let dueAt: Timestamp
    /// People resolved at the due time (schedules → on-call then, teams → members, round robin applied).
    public let personIDs: [String]
    public let idempotencyKey: String
}
