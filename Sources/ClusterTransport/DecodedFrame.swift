import RaftCore

/// A decoded frame and its size on the wire.
struct DecodedFrame: Sendable {
    let message: Message
    let frameBytes: Int
}
