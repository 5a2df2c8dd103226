/// What applying a command did, for subscribers, the paging scheduler and the audit trail.
public struct DutyEvent: Codable, Sendable, Equatable {
    /// What happened; tickets are named by number.
    public enum Kind: Codable, Sendable, Equatable {
        case ticketRegistered(TicketID, kind: TicketKind, priority: Priority)
        case stageChanged(TicketID, from: TicketStage, to: TicketStage)
        case ticketReopened(TicketID)
        case ticketAcknowledged(TicketID)
        case acknowledgementExpired(TicketID)
        case ownerChanged(TicketID, from: String?, to: String)
        case priorityChanged(TicketID, from: Priority, to: Priority)
        case noteAdded(TicketID, customerVisible: Bool)
        case initialSolutionProvided(TicketID)
        case waitingForCustomerChanged(TicketID, waiting: Bool)
        case slaMet(TicketID, SLATarget)
        case slaWarning(TicketID, SLATarget, dueAt: Timestamp)
        case slaBreached(TicketID, SLATarget, dueAt: Timestamp)
        case escalationStepFired(EscalationStep)
        case escalationSuppressed(TicketID, serviceID: String)
        case pageIntended(key: String, ticketID: TicketID, leaderTerm: UInt64)
        case pageRecorded(PageOutcome, ticketID: TicketID)
        case alertDeduplicated(TicketID, dedupKey: String, alertCount: Int)
        case alertResolved(TicketID, dedupKey: String)
        case articlesSuggested(TicketID, articleIDs: [String])
        case feedbackRecorded(TicketID, rating: Int)
        case followUpOpened(original: TicketID, followUp: TicketID)
        case heartbeatReceived(monitorID: String)
        case heartbeatMissed(monitorID: String, ticketID: TicketID)
        case inspectionRecorded(inspectionID: String, passed: Bool)
        case articleHit(articleID: String, hitCount: Int)
        case sampleDrawn(sampleID: String, ticketIDs: [TicketID])
        case verdictRecorded(sampleID: String, ticketID: TicketID, verdict: SupervisionSample.Verdict)
        /// S14: a policy changed; subscribers must be told in writing.
        case policyAnnounced(PolicyAnnouncement)
        case configurationChanged(entity: String, id: String)
        case changeRecorded(serviceID: String, summary: String)
        case contactDataAccessed(personID: String, reason: String)
        /// A customer's e-mail opened the ticket or was added to it.
        case customerMessageReceived(TicketID, messageID: String)
        /// A message already on the ticket arrived again (the sender retried); nothing changed.
        case mailAlreadyRecorded(TicketID, messageID: String)
    }

    public let at: Timestamp
    public let actor: ActorID
    public let kind: Kind
}

/// The written notice of a policy change (S14).
public struct PolicyAnnouncement: Codable, Sendable, Equatable {
    /// Which kind of policy changed.
    public enum PolicyKind: String, Codable, Sendable { case sla, escalation }
    public let policyKind: PolicyKind
    public let policyID: String
    public let version: Int
    public let summary: String
}
