/// Expects a ping every interval; a missed one opens an incident on its service.
public struct HeartbeatMonitor: Codable, Sendable, Equatable {
    public let id: String
    public let serviceID: String
    public let intervalSeconds: Int64
    public let graceSeconds: Int64
    public internal(set) var lastPingAt: Timestamp
    /// The incident opened for the current miss; cleared by the next ping.
    public internal(set) var openIncidentID: TicketID?

    public init(id: String, serviceID: String, intervalSeconds: Int64, graceSeconds: Int64 = 0, lastPingAt: Timestamp = 0) {
        self.id = id
        self.serviceID = serviceID
        self.intervalSeconds = intervalSeconds
        self.graceSeconds = graceSeconds
        self.lastPingAt = lastPingAt
    }

    /// When the monitor counts as missed unless a ping arrives first.
    public var deadline: Timestamp { lastPingAt + (intervalSeconds + graceSeconds) * Millis.second }
}
