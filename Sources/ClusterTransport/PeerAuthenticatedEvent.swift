import RaftCore

/// Fired down the pipeline once the peer's certificate names an acceptable node.
struct PeerAuthenticatedEvent: Sendable {
    let peerID: NodeID
}
