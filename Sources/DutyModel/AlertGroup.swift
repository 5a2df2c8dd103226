/// An Alertmanager group (by group key) attached to one ticket; open while any fingerprint fires.
public struct AlertGroup: Codable, Sendable, Equatable {
    public let ticketID: TicketID
    /// Sorted, so the encoding does not depend on arrival order.
    public internal(set) var firingFingerprints: [String]
}
