import RaftCore

/// A decoded frame and its size on the wire.
struct DecodedFrame: Sendable {
    let payload: InboundFrame
    let frameBytes: Int

    /// The Raft message, when the frame carried one.
    var message: Message? {
        if case let .raft(message) = payload { return message }
        return nil
    }
}
