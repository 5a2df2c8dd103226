/// S8: a contact channel is test-paged N times a day, and every result is kept on record.
public struct ChannelInspection: Codable, Sendable, Equatable {
    /// The outcome of one test notification.
    public struct Result: Codable, Sendable, Equatable {
        public let at: Timestamp
        public let passed: Bool
        public let detail: String
        public let actor: ActorID
    }

    public let id: String
    /// Intake or notification channel name, e.g. "phone", "email", "chat", "sms-gateway".
    public let channel: String
    public let timesPerDay: Int
    /// Where a failed inspection opens its ticket; nil: failures are only recorded.
    public let serviceID: String?
    /// The ticket open for the current failure; cleared by the next passing inspection.
    public internal(set) var openTicketID: TicketID?
    public let createdAt: Timestamp
    public internal(set) var results: [Result]
    /// Results dropped from memory once `maxInspectionResultsKept` is reached (the events remain in the log).
    public internal(set) var droppedResults: Int

    /// Inspections are spread evenly over the day starting at creation; the next one after the last result.
    public var intervalMillis: Int64 { Millis.day / Int64(timesPerDay) }

    public var nextDueAt: Timestamp {
        guard let last = results.last else { return createdAt }
        let slots = (last.at - createdAt) / intervalMillis + 1
        return createdAt + slots * intervalMillis
    }
}
