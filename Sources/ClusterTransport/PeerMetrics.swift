/// Counters of one peer, for metrics and `vigil status`.
public struct PeerMetrics: Sendable, Equatable {
    public var reachability: PeerReachability = .connecting
    public var connectAttempts = 0
    /// Written to the outbound connection (a frame written just before the connection died is counted but lost).
    public var framesSent = 0
    public var bytesSent = 0
    /// Accepted from this peer's inbound connections and handed to `incoming`.
    public var framesReceived = 0
    public var bytesReceived = 0
    public var framesDroppedQueueFull = 0
    /// Frames discarded because the peer was unreachable (in reconnect back-off) when they were sent.
    public var framesDroppedPeerDown = 0
    /// Messages over a wire limit, refused at encoding rather than sent to be refused by the peer.
    public var framesDroppedOversize = 0
    public var queuedFrames = 0
    public var queuedBytes = 0
    /// The release the peer announced on its latest connection to us; nil before that, or for a 0.5 peer.
    public var version: SoftwareVersion?

    public init() {}
}
