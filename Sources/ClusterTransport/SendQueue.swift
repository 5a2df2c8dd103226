import NIOCore

/// Encoded frames waiting for a peer connection to be up and writable, bounded by count and bytes.
///
/// When full the new frame is refused (and counted by the caller): Raft retransmits what is lost, and the
/// oldest frames are the ones the peer is waiting for, so they are the ones worth keeping.
struct SendQueue {
    let maximumFrames: Int
    let maximumBytes: Int
    private var frames = CircularBuffer<ByteBuffer>()
    private(set) var queuedBytes = 0

    init(maximumFrames: Int, maximumBytes: Int) {
        self.maximumFrames = maximumFrames
        self.maximumBytes = maximumBytes
    }

    var count: Int { frames.count }
    var isEmpty: Bool { frames.isEmpty }

    /// False when the frame does not fit; the queue is unchanged then.
    mutating func append(_ frame: ByteBuffer) -> Bool {
        guard frames.count < maximumFrames, queuedBytes + frame.readableBytes <= maximumBytes else { return false }
        frames.append(frame)
        queuedBytes += frame.readableBytes
        return true
    }

    mutating func popFirst() -> ByteBuffer? {
        guard let frame = frames.popFirst() else { return nil }
        queuedBytes -= frame.readableBytes
        return frame
    }
}
