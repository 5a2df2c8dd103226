/// One append-only line of a ticket's history: who did what, when (S6, S7).
public struct TimelineEntry: Codable, Sendable, Equatable {
    /// What happened; persons are named so the chain of responsibility is traceable.
    public enum Action: Codable, Sendable, Equatable {
        case registered(kind: TicketKind, priority: Priority)
        case stageChanged(from: TicketStage, to: TicketStage)
        case reopened(from: TicketStage, reason: String)
        case acknowledged
        case ownerChanged(from: String?, to: String)
        case note(text: String, customerVisible: Bool)
        case initialSolution(text: String)
        case waitingForCustomer(Bool)
        case slaWarning(SLATarget)
        case slaBreached(SLATarget)
        case escalated(step: Int, level: Int, personIDs: [String], idempotencyKey: String)
        case alertTriggered(dedupKey: String, summary: String)
        case alertAcknowledged(dedupKey: String)
        case alertResolved(dedupKey: String)
        case articlesSuggested([String])
        case feedback(rating: Int, comment: String)
        case followUpOpened(TicketID)
        case followUpOf(TicketID)
        case priorityChanged(from: Priority, to: Priority)
        /// A page's outcome from the outbox; the address is not kept here.
        case paged(key: String, personID: String, channel: ContactMethod.Kind, result: PageOutcome.Result, attempts: Int)
        /// Planned pages dropped because the ticket was acknowledged or closed first.
        case pagesCancelled(count: Int)
        /// The service's acknowledgement timeout passed with the ticket still open: paging resumes.
        case acknowledgementExpired
        /// What the monitoring source sent beside the summary, as canonical JSON ("pagerduty" or "alertmanager").
        case alertDetails(source: String, json: String)
        /// The customer's e-mail; the sender's address stays on the customer (S16).
        case customerMessage(messageID: String, subject: String, text: String, attachments: [MailAttachmentRecord])
        /// Mail to the customer left the outbox; the address is not kept here.
        case customerMailed(key: String, purpose: CustomerMail.Purpose, result: PageOutcome.Result, attempts: Int)
    }

    public let at: Timestamp
    public let actor: ActorID
    public let action: Action
}
