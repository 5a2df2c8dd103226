/// What a ticket is about (S1); `incident` comes from monitoring alerts.
public enum TicketKind: String, Codable, Sendable, CaseIterable {
    case consultation, complaint, suggestion, emergency, incident
}
