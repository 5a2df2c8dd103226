import RaftCore

/// A snapshot of the transport's counters; all counts since start.
public struct TransportMetrics: Sendable, Equatable {
    public var peers: [NodeID: PeerMetrics] = [:]
    public var inboundConnectionsAccepted = 0
    /// TLS handshake failures (plaintext, wrong CA, no certificate) and certificates naming no member.
    public var inboundConnectionsRefused = 0
    public var inboundConnectionsOverLimit = 0
    /// Frames that failed to decode; each closed its connection.
    public var malformedFrames = 0
    /// Decoded messages whose `from` is not the authenticated peer or whose `to` is not this node.
    public var messagesRejected = 0
    public var messagesToUnknownPeer = 0
    /// Messages dropped because `incoming` was not consumed fast enough.
    public var deliveriesDroppedBufferFull = 0
    /// Frames of a kind this release does not know (a newer minor release's), skipped.
    public var framesSkippedUnknownKind = 0
    /// Inbound connections closed because the peer's release cannot interoperate with this one.
    public var peersRefusedVersion = 0

    public init() {}
}
