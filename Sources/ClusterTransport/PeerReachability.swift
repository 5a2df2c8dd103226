/// Whether this node's outbound connection to a peer is usable.
public enum PeerReachability: String, Sendable, Equatable {
    case connected
    case connecting
    /// The last attempt failed or the connection dropped; the next attempt waits for the back-off delay.
    case backoff
}
