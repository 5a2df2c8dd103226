import ClusterTransport
import RaftCore

/// One unit of work for the Raft loop.
enum LoopEvent: Sendable {
    case tick
    case message(Message)
    case propose(ReplicatedCommand, ProposalWaiter)
    /// A client write on a follower, for the leader over the peer connection (proposed here if this node leads).
    case forward(ReplicatedCommand, ProposalWaiter)
    /// Client writes a follower forwarded to this node.
    case forwarded(ForwardedProposals)
    case read(ReadWaiter)
    /// A membership change; its waiter is answered once the change is applied.
    case confChange(ConfChange, ProposalWaiter)
    /// Hand leadership to a voter; answered once the transfer started (or was refused).
    case transferLeadership(NodeID, CheckedContinuation<Result<Void, ProposalError>, Never>)
    /// A consistent copy of the state with its applied index and term, for a backup.
    case backupPoint(CheckedContinuation<BackupPoint?, Never>)
    /// SIGTERM: hand leadership over if leader, then stop once done or after the deadline.
    case gracefulStop
    /// A snapshot file written off the loop, ready to become the compaction point.
    case snapshotBuilt(Result<BuiltSnapshot, SnapshotFileError>, startedAt: ContinuousClock.Instant)
}

/// A client waiting for its proposal to be applied.
struct ProposalWaiter: Sendable {
    let continuation: CheckedContinuation<Result<ApplyOutcome, ProposalError>, Never>
    let deadline: ContinuousClock.Instant
}

/// A client waiting for a linearizable read point.
struct ReadWaiter: Sendable {
    let continuation: CheckedContinuation<Result<Void, ProposalError>, Never>
    let deadline: ContinuousClock.Instant
}

/// A snapshot file the loop asked for, with what it needs to switch the state's archive to it.
struct BuiltSnapshot: Sendable {
    let descriptor: SnapshotDescriptor
    /// Serves the file's archived tickets.
    let archive: SnapshotFileArchive
    /// The copy the file was written from.
    let writtenFrom: NodeStateMachine
    /// `LoopState.machineGeneration` when the copy was taken: a snapshot installed since replaced the state.
    let generation: Int
}

/// The state as applied through `index` (of `term`).
struct BackupPoint: Sendable {
    let machine: NodeStateMachine
    let index: LogIndex
    let term: Term
}
