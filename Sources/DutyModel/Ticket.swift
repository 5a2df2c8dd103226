/// A request, complaint, suggestion, emergency or monitoring incident and its whole history.
public struct Ticket: Codable, Sendable, Equatable {
    public let id: TicketID
    public let kind: TicketKind
    public internal(set) var priority: Priority
    public let title: String
    public let serviceID: String
    public let customerID: String?
    public internal(set) var ownerID: String?
    public internal(set) var stage: TicketStage
    /// Sub-state of analysing/handling that pauses every SLA clock.
    public internal(set) var waitingForCustomer: Bool
    public let registeredAt: Timestamp
    public internal(set) var acknowledgedAt: Timestamp?
    public internal(set) var acknowledgedBy: ActorID?
    /// When the ticket last reached the feedback stage.
    public internal(set) var resolvedAt: Timestamp?
    public internal(set) var archivedAt: Timestamp?
    public internal(set) var reopenCount: Int
    public let slaPolicyID: String
    public let slaPolicyVersion: Int
    public internal(set) var clocks: [SLAClock]
    public internal(set) var escalation: EscalationProgress?
    public internal(set) var timeline: [TimelineEntry]
    /// Timeline entries not kept because the ticket hit its limit (repeated alerts only).
    public internal(set) var droppedTimelineEntries: Int
    /// "integrationKey/dedupKey" or "integrationKey/groupKey" while the alert is open.
    public internal(set) var alertKey: String?
    public internal(set) var alertCount: Int
    public internal(set) var suggestedArticleIDs: [String]
    public internal(set) var feedback: Feedback?
    public let followUpOf: TicketID?
    public internal(set) var followUpTicketID: TicketID?

    public func clock(_ target: SLATarget) -> SLAClock? { clocks.first { $0.target == target } }

    mutating func append(_ action: TimelineEntry.Action, at: Timestamp, actor: ActorID) {
        if timeline.count >= DutyLimits.maxTimelineEntriesPerTicket {
            droppedTimelineEntries += 1
        } else {
            timeline.append(TimelineEntry(at: at, actor: actor, action: action))
        }
    }

    var hasRoomInTimeline: Bool { timeline.count + 4 <= DutyLimits.maxTimelineEntriesPerTicket }
}

/// The customer's verdict at the feedback stage (S13).
public struct Feedback: Codable, Sendable, Equatable {
    public let rating: Int
    public let comment: String
    public let at: Timestamp
}
