import RaftCore
import Synchronization

/// One snapshot transfer as its sender (the leader) or its receiver sees it, for `vigil status` and `/metrics`.
public struct SnapshotTransferStatus: Sendable, Equatable, Codable {
    public enum Phase: String, Sendable, Codable {
        case sending, receiving, complete, failed
    }

    /// The follower for an outgoing transfer, the leader for an incoming one.
    public var peer: NodeID
    public var snapshotIndex: LogIndex
    public var snapshotTerm: Term
    public var totalBytes: UInt64
    /// Bytes the receiver has confirmed (outgoing) or written (incoming).
    public var doneBytes: UInt64
    public var phase: Phase
    /// Transfers started to or from this peer since the node started, and how many of them failed.
    public var attempts: UInt64
    public var failures: UInt64
    public var lastError: String?

    enum CodingKeys: String, CodingKey {
        case peer, phase, attempts, failures
        case snapshotIndex = "snapshot_index"
        case snapshotTerm = "snapshot_term"
        case totalBytes = "total_bytes"
        case doneBytes = "done_bytes"
        case lastError = "last_error"
    }
}

/// The transfers in and out of this node, written by the sender and the receiver, read by `RaftLoop.publish`.
final class SnapshotTransferBoard: Sendable {
    private let outgoing = Mutex<[NodeID: SnapshotTransferStatus]>([:])
    private let incoming = Mutex<[NodeID: SnapshotTransferStatus]>([:])

    func updateOutgoing(_ peer: NodeID, _ body: (inout SnapshotTransferStatus?) -> Void) {
        outgoing.withLock { body(&$0[peer]) }
    }

    func updateIncoming(_ peer: NodeID, _ body: (inout SnapshotTransferStatus?) -> Void) {
        incoming.withLock { body(&$0[peer]) }
    }

    var outgoingTransfers: [NodeID: SnapshotTransferStatus] { outgoing.withLock { $0 } }
    var incomingTransfers: [NodeID: SnapshotTransferStatus] { incoming.withLock { $0 } }
}
