import RaftCore
import NIOCore

/// The Raft loop's bookkeeping of waiting clients; owned by the loop task alone.
struct LoopState {
    /// A configuration change or member record was applied: the transport's peers need refreshing.
    var membersChanged = true
    /// The configuration the transport's peers were last set for.
    var refreshPeersAt: ConfState?
    var appliedIndex: LogIndex
    var counters: NodeStatus.Counters
    /// The hard state as last written to the store.
    var storedHardState: HardState
    /// A commit-only hard state not yet written (see `RaftLoop.handleReady`).
    var deferredHardState: HardState?
    var proposalWaiters: [LogIndex: (term: Term, waiter: ProposalWaiter)] = [:]
    var readWaiters: [UInt64: ReadWaiter] = [:]
    /// A write this follower forwarded to the leader and has not yet applied.
    struct PendingForward {
        let waiter: ProposalWaiter
        let command: [UInt8]
        var sentAt: ContinuousClock.Instant
    }
    /// Writes this follower forwarded to the leader, by the id their entries carry (see `ForwardedEntry`); sent
    /// again until applied, because a frame can be lost with its connection (a certificate reload redials).
    var forwardWaiters: [UInt64: PendingForward] = [:]
    /// On the leader: the forwarded ids proposed in `forwardedSeenTerm`, by follower, with when each was first
    /// seen, so a write sent again is proposed once. An id is kept for `forwardedSeenFor`, twice the longest a
    /// follower keeps sending it (its proposal deadline); `maxForwardedSeen` per follower bounds the memory, and
    /// is reached only above 100,000 forwarded writes a second.
    var forwardedSeen: [NodeID: (ids: Set<UInt64>, order: CircularBuffer<(id: UInt64, at: ContinuousClock.Instant)>)] = [:]
    var forwardedSeenTerm: Term = 0
    static let maxForwardedSeen = 1_048_576
    static let forwardedSeenFor: Duration = .seconds(20)
    /// Ids start at a random point, so an entry forwarded before a restart never answers a write made after it.
    var nextForwardID = UInt64.random(in: 1...(UInt64.max / 2))
    var readsAwaitingApply: [(index: LogIndex, waiter: ReadWaiter)] = []
    var nextReadContext: UInt64 = 0
    var lastRole: Role = .follower
    var lastLeader: NodeID = noNode
    var recentLeaders: [NodeStatus.LeaderChange] = []
    /// While leading: the term, and the last log index when this node first published itself leader of it
    /// (at or after its no-op). Its state is current once it has applied that far.
    var leadership: (term: Term, index: LogIndex)?
    /// Where the current round's time goes, for the slow-round warning.
    struct RoundCost {
        var persist: Duration = .zero
        var apply: Duration = .zero
        /// Part of `apply` spent waiting for readers (HTTP, the scheduler) to release the state.
        var lockWait: Duration = .zero
        var compact: Duration = .zero
        var entries = 0
    }
    var round = RoundCost()
    /// A snapshot file is being written off the loop (at most one at a time).
    var snapshotBuildInFlight = false
    /// Counts snapshots installed from a leader, each replacing the whole state: a snapshot built from an older
    /// copy must not switch the new state's archive.
    var machineGeneration = 0
    /// After a failed build (a full disk, say), the next attempt waits until then.
    var snapshotRetryAfter: ContinuousClock.Instant?

    /// Answers reads whose index the state machine has reached.
    mutating func answerReads() {
        guard !readsAwaitingApply.isEmpty else { return }
        let applied = appliedIndex
        var waiting: [(index: LogIndex, waiter: ReadWaiter)] = []
        for read in readsAwaitingApply {
            if read.index <= applied {
                counters.readsServed += 1
                read.waiter.continuation.resume(returning: .success(()))
            } else {
                waiting.append(read)
            }
        }
        readsAwaitingApply = waiting
    }

    /// Answers every waiter whose deadline passed; a lost message must not hang a client forever.
    mutating func expire(now: ContinuousClock.Instant) {
        for (index, pending) in proposalWaiters where pending.waiter.deadline <= now {
            proposalWaiters[index] = nil
            counters.proposalsFailed += 1
            pending.waiter.continuation.resume(returning: .failure(.timedOut))
        }
        for (id, pending) in forwardWaiters where pending.waiter.deadline <= now {
            forwardWaiters[id] = nil
            counters.proposalsFailed += 1
            pending.waiter.continuation.resume(returning: .failure(.timedOut))
        }
        for (context, waiter) in readWaiters where waiter.deadline <= now {
            readWaiters[context] = nil
            counters.readsFailed += 1
            waiter.continuation.resume(returning: .failure(.timedOut))
        }
        let expired = readsAwaitingApply.filter { $0.waiter.deadline <= now }
        if !expired.isEmpty {
            readsAwaitingApply.removeAll { $0.waiter.deadline <= now }
            for read in expired {
                counters.readsFailed += 1
                read.waiter.continuation.resume(returning: .failure(.timedOut))
            }
        }
    }

    mutating func failAll(_ error: ProposalError) {
        for pending in proposalWaiters.values { pending.waiter.continuation.resume(returning: .failure(error)) }
        for waiter in readWaiters.values { waiter.continuation.resume(returning: .failure(error)) }
        for pending in forwardWaiters.values { pending.waiter.continuation.resume(returning: .failure(error)) }
        forwardWaiters = [:]
        for read in readsAwaitingApply { read.waiter.continuation.resume(returning: .failure(error)) }
        proposalWaiters = [:]
        readWaiters = [:]
        readsAwaitingApply = []
    }
}
