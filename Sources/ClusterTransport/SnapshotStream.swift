import RaftCore

/// One piece of a snapshot file on its way from a leader to a follower.
///
/// Snapshots travel beside the Raft messages, not inside them: the core's `installSnapshot` carries only a small
/// descriptor, and the file it names is streamed first as chunks that each fit a frame, so no frame and no buffer
/// ever holds the whole state. Every chunk repeats the file's size and SHA-256, so a receiver that restarted can
/// resume a transfer from any chunk.
public struct SnapshotChunk: Sendable, Equatable {
    public var from: NodeID
    public var to: NodeID
    public var snapshotIndex: LogIndex
    public var snapshotTerm: Term
    public var totalBytes: UInt64
    /// SHA-256 of the whole file, 32 bytes.
    public var checksum: [UInt8]
    public var offset: UInt64
    public var data: [UInt8]

    public init(from: NodeID, to: NodeID, snapshotIndex: LogIndex, snapshotTerm: Term, totalBytes: UInt64,
                checksum: [UInt8], offset: UInt64, data: [UInt8]) {
        self.from = from
        self.to = to
        self.snapshotIndex = snapshotIndex
        self.snapshotTerm = snapshotTerm
        self.totalBytes = totalBytes
        self.checksum = checksum
        self.offset = offset
        self.data = data
    }
}

/// The receiver's answer to a chunk: how many bytes of the file it holds, and what the sender should do next.
public struct SnapshotChunkAck: Sendable, Equatable {
    public enum Status: UInt8, Sendable, Equatable {
        /// Holding `receivedBytes`; go on sending after what is in flight.
        case receiving = 0
        /// The chunk did not start where the file ends (a lost or resumed stream): send again from `receivedBytes`.
        case rewind = 1
        /// The whole file arrived, matched its checksum, and is installed as a snapshot file.
        case complete = 2
        /// The receiver cannot take this snapshot (checksum mismatch, full disk, a write error): start over later.
        case failed = 3
    }

    public var from: NodeID
    public var to: NodeID
    public var snapshotIndex: LogIndex
    public var snapshotTerm: Term
    public var receivedBytes: UInt64
    public var status: Status

    public init(from: NodeID, to: NodeID, snapshotIndex: LogIndex, snapshotTerm: Term, receivedBytes: UInt64, status: Status) {
        self.from = from
        self.to = to
        self.snapshotIndex = snapshotIndex
        self.snapshotTerm = snapshotTerm
        self.receivedBytes = receivedBytes
        self.status = status
    }
}

/// A snapshot-stream frame: a chunk (leader → follower) or its acknowledgement (follower → leader).
public enum SnapshotStreamFrame: Sendable, Equatable {
    case chunk(SnapshotChunk)
    case ack(SnapshotChunkAck)

    public var from: NodeID {
        switch self {
        case let .chunk(chunk): chunk.from
        case let .ack(ack): ack.from
        }
    }

    public var to: NodeID {
        switch self {
        case let .chunk(chunk): chunk.to
        case let .ack(ack): ack.to
        }
    }

    public var kindName: String {
        switch self {
        case .chunk: "snapshotChunk"
        case .ack: "snapshotAck"
        }
    }
}

/// What one inbound frame carried.
public enum InboundFrame: Sendable, Equatable {
    case raft(Message)
    case snapshotStream(SnapshotStreamFrame)
    /// The dialer's release, first on a connection.
    case hello(PeerHello)
    /// Client writes a follower hands to its leader.
    case forwarded(ForwardedProposals)
    /// A frame kind this release does not know (from a newer minor release), skipped.
    case unknownKind(UInt8)

    /// The sender and addressee the frame claims; an unknown kind claims nothing.
    var addressing: (from: NodeID, to: NodeID)? {
        switch self {
        case let .raft(message): (message.from, message.to)
        case let .snapshotStream(frame): (frame.from, frame.to)
        case let .hello(hello): (hello.from, hello.to)
        case let .forwarded(frame): (frame.from, frame.to)
        case .unknownKind: nil
        }
    }

    var kindName: String {
        switch self {
        case let .raft(message): message.kindName
        case let .snapshotStream(frame): frame.kindName
        case .hello: "hello"
        case .forwarded: "forwardedProposals"
        case let .unknownKind(kind): "unknown kind \(kind)"
        }
    }
}
