/// A change on a service (a deploy, a config push) reported through PagerDuty's change-events API; kept
/// on the service's timeline so responders see what changed before an incident.
public struct ChangeEvent: Codable, Sendable, Equatable {
    public let routingKey: String
    public let summary: String
    public let source: String
    /// When the change happened, as the sender says (ms); the leader's time when it did not say.
    public let occurredAt: Timestamp?
    public let links: [String]

    public init(routingKey: String, summary: String, source: String = "", occurredAt: Timestamp? = nil, links: [String] = []) {
        self.routingKey = routingKey
        self.summary = summary
        self.source = source
        self.occurredAt = occurredAt
        self.links = links
    }
}

/// A change event as the service's timeline holds it.
public struct RecordedChange: Codable, Sendable, Equatable {
    public let at: Timestamp
    public let occurredAt: Timestamp
    public let summary: String
    public let source: String
    public let links: [String]
}

extension DutyState {
    mutating func recordChange(_ event: ChangeEvent, _ context: inout ApplyContext) throws(DutyError) {
        let serviceID = try self.serviceID(forRoutingKey: event.routingKey)
        if event.summary.trimmingWhitespace().isEmpty { throw .invalid("summary", "must not be empty") }
        if event.summary.count > 1024 { throw .limit("summary", "at most 1024 characters") }
        if event.source.count > 255 { throw .limit("source", "at most 255 characters") }
        if let occurredAt = event.occurredAt, let error = Validate.timestamp(occurredAt, field: "timestamp") { throw error }
        if event.links.count > DutyLimits.maxLinksPerChange { throw .limit("links", "at most \(DutyLimits.maxLinksPerChange) links") }
        for (index, link) in event.links.enumerated() where link.isEmpty || link.utf8.count > 2048 {
            throw .invalid("links[\(index)]", "a link is 1–2048 bytes")
        }
        var changes = serviceChanges[serviceID] ?? []
        // Oldest first; a bounded window, since the log keeps the full history.
        if changes.count >= DutyLimits.maxChangesPerService { changes.removeFirst(changes.count - DutyLimits.maxChangesPerService + 1) }
        changes.append(RecordedChange(at: context.at, occurredAt: event.occurredAt ?? context.at, summary: event.summary,
                                      source: event.source, links: event.links))
        serviceChanges[serviceID] = changes
        context.emit(.changeRecorded(serviceID: serviceID, summary: event.summary))
    }
}
