import ClusterTransport
import Foundation
import Logging
import NIOCore
import NIOPosix
import Paging
import RaftCore
import RaftStorage
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Drives one `RaftNode`: the clock, peer messages, client proposals and reads go in through one inbox;
/// each `Ready` is handled in the order its doc comment prescribes (send → persist → send → apply → advance).
///
/// The core is owned by the single task running `run()`, so it needs no lock. That task runs on the peer
/// transport's event loop (`EventLoopTaskExecutor`), where persisting blocks on fsync, never on the cooperative pool
/// or the API's event loops, and where its messages reach the sockets before the fsync starts. While it runs, new
/// events queue in the inbox; the next round takes them all and proposes the queued writes as one batch.
public final class RaftLoop: Sendable {
    public let nodeID: NodeID
    /// The slow-disk failpoint's name, made once rather than on every log write.
    private let persistDelayPoint: String
    public let state: StateView
    private let config: NodeConfig
    private let store: any LogStorage
    private let snapshots: SnapshotStore
    private let transfers = SnapshotTransferBoard()
    private let snapshotSender: SnapshotSender
    private let snapshotReceiver: SnapshotReceiver
    private let transport: PeerTransport
    private let initialState: PersistedState
    private let inbox = LoopInbox()
    private let published: Mutex<NodeStatus>
    private let logger: Logger
    /// Set while `run()` runs: the threads that write and receive snapshot files.
    private let snapshotPool = Mutex<NIOThreadPool?>(nil)
    /// Signalled when the role or term changes and, on the leader, after entries are applied, so the paging
    /// scheduler re-plans at once. A follower's scheduler has nothing to plan, so applying does not wake it.
    public let changed = WakeSignal()
    /// Wake the scheduler after every applied batch on followers too (the unsafe unfenced-pages knob plans there).
    public let signalsEveryApply = Mutex(false)
    /// When the ticker next wakes the loop.
    private let tickPlan = TickPlan()

    public init(config: NodeConfig, store: any LogStorage, snapshots: SnapshotStore, persisted: PersistedState,
                transport: PeerTransport, state: StateView, logger: Logger) {
        self.nodeID = config.nodeID
        self.persistDelayPoint = Failpoint.persistDelay(node: config.nodeID)
        self.config = config
        self.store = store
        self.snapshots = snapshots
        self.snapshotSender = SnapshotSender(localID: config.nodeID, transport: transport, store: snapshots, board: transfers, logger: logger)
        self.snapshotReceiver = SnapshotReceiver(localID: config.nodeID, store: snapshots, board: transfers, logger: logger)
        self.transport = transport
        self.initialState = persisted
        self.state = state
        self.published = Mutex(NodeStatus(nodeID: config.nodeID))
        self.logger = logger
    }

    /// The latest published view of this node.
    public var status: NodeStatus { published.withLock { $0 } }

    public var tickInterval: Duration { .milliseconds(config.raft.tickIntervalMilliseconds) }

    /// Proposes `command` and waits until it is applied (then it is durable on a quorum).
    public func propose(_ command: ReplicatedCommand, timeout: Duration) async -> Result<ApplyOutcome, ProposalError> {
        await withCheckedContinuation { continuation in
            let waiter = ProposalWaiter(continuation: continuation, deadline: .now + timeout)
            if !inbox.push(.propose(command, waiter)) { continuation.resume(returning: .failure(.stopping)) }
        }
    }

    /// Proposes on the leader; on a follower, hands the write to the leader over the peer connection and answers
    /// once this node has applied the entry that carries it (one hop: no second HTTP request, no read barrier).
    /// Every member must run a release that applies forwarded entries (see `HTTPAPI.peersForward`).
    public func forward(_ command: ReplicatedCommand, timeout: Duration) async -> Result<ApplyOutcome, ProposalError> {
        await withCheckedContinuation { continuation in
            let waiter = ProposalWaiter(continuation: continuation, deadline: .now + timeout)
            if !inbox.push(.forward(command, waiter)) { continuation.resume(returning: .failure(.stopping)) }
        }
    }

    /// Waits until this node's state machine has applied everything committed before the call (ReadIndex).
    public func readBarrier(timeout: Duration) async -> Result<Void, ProposalError> {
        await withCheckedContinuation { continuation in
            let waiter = ReadWaiter(continuation: continuation, deadline: .now + timeout)
            if !inbox.push(.read(waiter)) { continuation.resume(returning: .failure(.stopping)) }
        }
    }

    /// Proposes a membership change and waits until it is applied (one at a time; the core refuses a second).
    public func proposeConfChange(_ change: ConfChange, timeout: Duration) async -> Result<ApplyOutcome, ProposalError> {
        await withCheckedContinuation { continuation in
            let waiter = ProposalWaiter(continuation: continuation, deadline: .now + timeout)
            if !inbox.push(.confChange(change, waiter)) { continuation.resume(returning: .failure(.stopping)) }
        }
    }

    /// Starts handing leadership to `target` (this node must lead); the hand-over completes within an election timeout.
    public func transferLeadership(to target: NodeID) async -> Result<Void, ProposalError> {
        await withCheckedContinuation { continuation in
            if !inbox.push(.transferLeadership(target, continuation)) { continuation.resume(returning: .failure(.stopping)) }
        }
    }

    /// Writes the state as applied now into a snapshot file of its own (under `snapshots/backups/`), off the loop;
    /// the caller streams it and removes its folder.
    public func writeBackup() async -> Result<(path: String, descriptor: SnapshotDescriptor), NodeError> {
        let point = await withCheckedContinuation { (continuation: CheckedContinuation<BackupPoint?, Never>) in
            if !inbox.push(.backupPoint(continuation)) { continuation.resume(returning: nil) }
        }
        guard let point, let pool = snapshotPool.withLock({ $0 }) else { return .failure(.storage("the node is stopping")) }
        let directory = snapshots.directory + "/backups/" + UUID().uuidString.prefix(8)
        do {
            let store = try SnapshotStore(directory: directory)
            let descriptor = try await pool.runIfActive {
                Self.yieldToTheLoop()
                return try store.write(point.machine, index: point.index, term: point.term)
            }
            return .success((store.path(of: descriptor), descriptor))
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            return .failure(.storage("could not write the backup: \(error)"))
        }
    }

    /// Asks the loop to stop gracefully: a leader first hands leadership to the most caught-up follower.
    public func requestGracefulStop() {
        inbox.push(.gracefulStop)
    }

    /// Runs until a graceful stop completes; throws when a persist fails (the node must not continue).
    public func run() async throws(NodeError) {
        var raftConfig = Config(id: nodeID)
        raftConfig.electionTimeoutTicks = config.raft.electionTimeoutTicks
        raftConfig.heartbeatIntervalTicks = config.raft.heartbeatIntervalTicks
        raftConfig.randomSeed = UInt64.random(in: 0...UInt64.max)
        let raft = RaftNode(config: raftConfig, persisted: initialState)
        snapshots.removeTemporaries()
        // Backup files left by a stream the client abandoned, or by a crash while one was written.
        try? FileManager.default.removeItem(atPath: snapshots.directory + "/backups")
        let restored = try snapshots.restore(initialState.snapshot.data)
        try self.state.mutate { (machine: inout NodeStateMachine) throws(NodeError) in machine = restored }
        Self.returnFreedMemory()
        snapshots.prune(keeping: SnapshotDescriptor(decoding: initialState.snapshot.data))
        snapshotReceiver.installed(initialState.snapshot.index)

        // The loop runs on the transport's event loop (see `EventLoopTaskExecutor`).
        let executor = EventLoopTaskExecutor(transport.eventLoop)
        // Snapshot files are written and received on threads of their own, so neither the Raft loop nor the
        // cooperative pool waits for a large state's I/O.
        let snapshotPool = NIOThreadPool(numberOfThreads: 2)
        snapshotPool.start()
        self.snapshotPool.withLock { $0 = snapshotPool }
        let inbox = self.inbox
        let tickInterval = self.tickInterval
        let tickPlan = self.tickPlan
        // Wakes the loop when the core's next timeout is due, not every tick: an idle leader wakes for its
        // heartbeats, an idle follower a few times a second. The loop counts the ticks that passed by the clock.
        let ticker = Task {
            while !Task.isCancelled {
                let wait = tickPlan.wakeAt - .now
                if wait > .zero {
                    await tickPlan.moved.wait(atMost: wait)
                    continue
                }
                inbox.push(.tick)
                // The loop answers with a new plan; a busy loop gets another nudge a tick later.
                await tickPlan.moved.wait(atMost: tickInterval)
            }
        }
        let transport = self.transport
        // Straight from the transport's event loop into the inbox, bounded as the transport's own buffer was.
        let inboundLimit = TransportConfiguration.defaultInboundBufferMaxMessages
        transport.deliverDirectly { delivery in
            switch delivery {
            case let .raft(message): inbox.push(.message(message), boundedBy: inboundLimit)
            case let .forwarded(frame): inbox.push(.forwarded(frame), boundedBy: inboundLimit)
            }
        }
        let snapshotReceiver = self.snapshotReceiver
        let snapshotSender = self.snapshotSender
        let snapshotStream = Task {
            for await frame in transport.incomingSnapshotStream {
                switch frame {
                case let .chunk(chunk):
                    guard let ack = try? await snapshotPool.runIfActive({
                        Self.yieldToTheLoop()
                        return snapshotReceiver.handle(chunk)
                    }) else { continue }
                    transport.send(.ack(ack))
                case let .ack(ack):
                    snapshotSender.handle(ack)
                }
            }
        }
        var state = LoopState(appliedIndex: initialState.snapshot.index, counters: NodeStatus.Counters(),
                              storedHardState: initialState.hardState)
        defer {
            ticker.cancel()
            snapshotStream.cancel()
            snapshotSender.cancelAll()
        }
        publish(raft, &state)
        logger.info("raft loop started", metadata: [
            "term": "\(raft.term)", "commit": "\(raft.commitIndex)", "last": "\(raft.lastIndex)",
            "snapshot": "\(raft.snapshotIndex)", "voters": "\(raft.conf.voters)",
        ])
        var failure: NodeError?
        do {
            try await withTaskExecutorPreference(executor) { () async throws(NodeError) in try await loop(raft, &state) }
        } catch {
            failure = error
        }
        // Anyone still waiting gets an answer: the node is going away.
        for event in inbox.close() {
            switch event {
            case let .propose(_, waiter): waiter.continuation.resume(returning: .failure(.stopping))
            case let .read(waiter): waiter.continuation.resume(returning: .failure(.stopping))
            default: break
            }
        }
        state.failAll(.stopping)
        published.withLock { $0.stopping = true }
        try? await snapshotPool.shutdownGracefully()
        if let failure {
            logger.critical("raft loop stopped", metadata: ["error": "\(failure)"])
            throw failure
        }
        logger.info("raft loop stopped", metadata: ["term": "\(raft.term)", "applied": "\(state.appliedIndex)"])
    }

    private func loop(_ raft: RaftNode, _ state: inout LoopState) async throws(NodeError) {
        var stopDeadlineTicks: Int?
        var ticksSinceStop = 0
        var tickedUntil = ContinuousClock.now
        while true {
            let events = await inbox.take()
            let roundStarted = ContinuousClock.now
            // Ticks are counted by the clock before anything that arrived now is stepped, so the core sees the
            // same sequence as with a wake per tick. A loop held for long (a paused process) catches up only
            // a bounded number: enough for every timeout to run out.
            let elapsedTicks = Int((roundStarted - tickedUntil) / tickInterval)
            if elapsedTicks > 0 {
                tickedUntil += tickInterval * elapsedTicks
                for _ in 0..<min(elapsedTicks, 4 * config.raft.electionTimeoutTicks) { raft.tick() }
                state.expire(now: roundStarted)
                if stopDeadlineTicks != nil { ticksSinceStop += elapsedTicks }
            }
            state.round = LoopState.RoundCost()
            let before = (applied: state.appliedIndex, role: raft.role, term: raft.term)
            var batch: [(command: ReplicatedCommand, waiter: ProposalWaiter)] = []
            var toForward: [(command: ReplicatedCommand, waiter: ProposalWaiter)] = []
            var forwardedEntries: [[UInt8]] = []
            for event in events {
                switch event {
                case .tick:
                    break
                case let .message(message):
                    if case let .installSnapshot(snapshot) = message.payload, let descriptor = SnapshotDescriptor(decoding: snapshot.data),
                       !snapshots.hasFile(descriptor) {
                        // The leader sends this only after the file arrived; without it the install could not
                        // proceed, so the message is dropped and the leader's next transfer brings the file.
                        logger.warning("ignoring a snapshot whose file has not arrived", metadata: ["snapshot": "\(descriptor)", "from": "node\(message.from)"])
                        break
                    }
                    raft.step(message)
                case let .snapshotBuilt(result, startedAt):
                    try finishSnapshot(result, startedAt: startedAt, raft, &state)
                case let .propose(command, waiter):
                    batch.append((Self.termed(command, raft.term), waiter))
                case let .forward(command, waiter):
                    if raft.isLeader { batch.append((Self.termed(Self.stamped(command), raft.term), waiter)) } else { toForward.append((command, waiter)) }
                case let .forwarded(frame):
                    // Only the leader of the term the follower saw may propose them; anything else is dropped and
                    // the follower's client times out (it learns of the new leader by itself).
                    guard raft.isLeader, frame.term == raft.term, stopDeadlineTicks == nil else {
                        state.counters.forwardedDropped += UInt64(frame.proposals.count)
                        break
                    }
                    for proposal in frame.proposals {
                        guard ForwardedEntry(decoding: proposal.command) == nil, let command = ReplicatedCommand(decoding: proposal.command) else {
                            state.counters.forwardedDropped += 1
                            continue
                        }
                        if alreadyProposed(proposal.id, from: frame.from, term: raft.term, &state) {
                            state.counters.forwardedDuplicates += 1
                            continue
                        }
                        // Decoded to refuse what is not a command; encoded again only when the leader's clock goes in.
                        let bytes = if case .duty = command { Self.termed(Self.stamped(command), raft.term).encoded() } else { proposal.command }
                        forwardedEntries.append(ForwardedEntry(origin: frame.from, id: proposal.id).entry(wrapping: bytes))
                    }
                case let .read(waiter):
                    state.nextReadContext += 1
                    switch raft.readIndex(context: state.nextReadContext) {
                    case .success: state.readWaiters[state.nextReadContext] = waiter
                    case let .failure(error):
                        state.counters.readsFailed += 1
                        waiter.continuation.resume(returning: .failure(ProposalError(error)))
                    }
                case let .confChange(change, waiter):
                    switch raft.proposeConfChange(change) {
                    case let .success(id): state.proposalWaiters[id.index] = (id.term, waiter)
                    case let .failure(error): waiter.continuation.resume(returning: .failure(ProposalError(error)))
                    }
                case let .transferLeadership(target, continuation):
                    continuation.resume(returning: raft.transferLeadership(to: target).mapError(ProposalError.init))
                case let .backupPoint(continuation):
                    let index = state.appliedIndex
                    continuation.resume(returning: raft.term(at: index).map { BackupPoint(machine: self.state.copy(), index: index, term: $0) })
                case .gracefulStop:
                    guard stopDeadlineTicks == nil else { break }
                    stopDeadlineTicks = 2 * config.raft.electionTimeoutTicks
                    if raft.isLeader, let successor = bestSuccessor(raft) {
                        logger.info("stopping: transferring leadership", metadata: ["to": "\(successor)"])
                        _ = raft.transferLeadership(to: successor)
                    }
                }
            }
            if !forwardedEntries.isEmpty {
                if case .success = raft.propose(batch: forwardedEntries) {
                    state.counters.forwardedProposed += UInt64(forwardedEntries.count)
                } else {
                    state.counters.forwardedDropped += UInt64(forwardedEntries.count)
                }
            }
            if !toForward.isEmpty { forward(toForward, raft, &state) }
            resendForwards(raft, &state)
            if !batch.isEmpty {
                if stopDeadlineTicks != nil {
                    for item in batch { item.waiter.continuation.resume(returning: .failure(.stopping)) }
                } else {
                    propose(batch, raft, &state)
                }
            }
            if elapsedTicks > 0, raft.role == .leader, stopDeadlineTicks == nil { promoteCaughtUpLearners(raft) }
            while raft.hasReady {
                try handleReady(raft, &state)
            }
            let round = ContinuousClock.now - roundStarted
            state.counters.loopRoundLatency.observe(round)
            state.counters.loopRoundLongest = max(state.counters.loopRoundLongest, round)
            if round > .milliseconds(config.raft.tickIntervalMilliseconds * config.raft.electionTimeoutTicks / 4) {
                // A quarter of the election timeout: heartbeats waited that long. Say where the time went.
                logger.warning("slow Raft loop round", metadata: [
                    "seconds": "\(Self.seconds(round))", "events": "\(events.count)", "persist_seconds": "\(Self.seconds(state.round.persist))",
                    "apply_seconds": "\(Self.seconds(state.round.apply))", "lock_wait_seconds": "\(Self.seconds(state.round.lockWait))",
                    "compact_seconds": "\(Self.seconds(state.round.compact))",
                    "entries": "\(state.round.entries)",
                ])
            }
            if state.membersChanged || state.refreshPeersAt != raft.conf {
                refreshPeers(raft, &state)
            }
            publish(raft, &state)
            tickPlan.plan(tickedUntil + tickInterval * min(raft.ticksUntilNextTimeout, Self.longestSleepTicks(config.raft)))
            // After publishing, so a woken scheduler reads the new role and term.
            if before.term != raft.term, !state.forwardWaiters.isEmpty {
                // Writes forwarded to the old leader may still commit, or may not: say so now, not at the deadline.
                for pending in state.forwardWaiters.values { pending.waiter.continuation.resume(returning: .failure(.timedOut)) }
                state.counters.proposalsFailed += UInt64(state.forwardWaiters.count)
                state.forwardWaiters = [:]
            }
            if before.role != raft.role || before.term != raft.term
                || (before.applied != state.appliedIndex && (raft.isLeader || signalsEveryApply.withLock { $0 })) {
                changed.signal()
            }
            if let deadline = stopDeadlineTicks, !raft.isLeader || ticksSinceStop >= deadline {
                try flushDeferredHardState(&state)
                return
            }
        }
    }

    /// A duty command carries the clock of the leader that accepts it (SLA clocks and escalation run on it).
    static func stamped(_ command: ReplicatedCommand) -> ReplicatedCommand {
        guard case let .duty(proposal) = command else { return command }
        return .duty(DutyProposal(command: proposal.command, leaderTimestamp: HTTPAPI.nowMillis(), actor: proposal.actor,
                                  leaderTerm: proposal.leaderTerm))
    }

    /// A duty command that asked for the leader's term gets this leader's, written by the loop that appends it: a
    /// term read anywhere else may be one this node no longer leads, and the pages the entry intends are fenced by it.
    static func termed(_ command: ReplicatedCommand, _ term: UInt64) -> ReplicatedCommand {
        guard case let .duty(proposal) = command, proposal.leaderTerm != nil else { return command }
        return .duty(DutyProposal(command: proposal.command, leaderTimestamp: proposal.leaderTimestamp, actor: proposal.actor,
                                  leaderTerm: term))
    }

    /// Sends a follower's client writes to the leader in frames of bounded size; each waits for its entry.
    private func forward(_ batch: [(command: ReplicatedCommand, waiter: ProposalWaiter)], _ raft: RaftNode, _ state: inout LoopState) {
        let leader = raft.leader
        guard leader != noNode, leader != nodeID else {
            for item in batch { item.waiter.continuation.resume(returning: .failure(.notLeader(leaderHint: noNode))) }
            return
        }
        var ids: [UInt64] = []
        for item in batch {
            let id = state.nextForwardID
            state.nextForwardID &+= 1
            state.forwardWaiters[id] = LoopState.PendingForward(waiter: item.waiter, command: item.command.encoded(), sentAt: .now)
            ids.append(id)
        }
        sendForwards(ids, to: leader, term: raft.term, &state)
        state.counters.forwardedSent += UInt64(ids.count)
    }

    /// How long a forwarded write waits to be applied before it is sent again, until its deadline (the leader
    /// proposes an id once; see `LoopState.forwardedSeenFor`).
    static let forwardResendAfter: Duration = .milliseconds(250)

    /// Sends forwarded writes not applied after `forwardResendAfter` again: their frame may have been lost with a
    /// connection (a peer redials after a certificate reload). Within one term only; a new term fails them.
    private func resendForwards(_ raft: RaftNode, _ state: inout LoopState) {
        guard !state.forwardWaiters.isEmpty, raft.leader != noNode, raft.leader != nodeID else { return }
        let due = ContinuousClock.now - Self.forwardResendAfter
        let ids = state.forwardWaiters.filter { $0.value.sentAt <= due }.keys.sorted()
        guard !ids.isEmpty else { return }
        sendForwards(ids, to: raft.leader, term: raft.term, &state)
        state.counters.forwardedResent += UInt64(ids.count)
    }

    /// The pending writes `ids` in frames of at most `ForwardedProposals.maximumProposals` and half a frame's bytes.
    private func sendForwards(_ ids: [UInt64], to leader: NodeID, term: Term, _ state: inout LoopState) {
        let frameBudget = transport.maximumFrameBytes / 2
        var proposals: [ForwardedProposals.Proposal] = []
        var bytes = 0
        func flush() {
            guard !proposals.isEmpty else { return }
            transport.send(ForwardedProposals(from: nodeID, to: leader, term: term, proposals: proposals))
            proposals = []
            bytes = 0
        }
        let now = ContinuousClock.now
        for id in ids {
            guard let command = state.forwardWaiters[id]?.command else { continue }
            if proposals.count == ForwardedProposals.maximumProposals || (bytes + command.count > frameBudget && !proposals.isEmpty) { flush() }
            state.forwardWaiters[id]?.sentAt = now
            proposals.append(.init(id: id, command: command))
            bytes += command.count + 12
        }
        flush()
    }

    /// Whether this leader proposed the follower's write `id` already in this term (it was sent again).
    private func alreadyProposed(_ id: UInt64, from follower: NodeID, term: Term, _ state: inout LoopState) -> Bool {
        if state.forwardedSeenTerm != term {
            state.forwardedSeenTerm = term
            state.forwardedSeen = [:]
        }
        var seen = state.forwardedSeen.removeValue(forKey: follower) ?? ([], CircularBuffer())
        defer { state.forwardedSeen[follower] = seen }
        let now = ContinuousClock.now
        while let oldest = seen.order.first,
              now - oldest.at > LoopState.forwardedSeenFor || seen.order.count >= LoopState.maxForwardedSeen {
            seen.ids.remove(oldest.id)
            seen.order.removeFirst()
        }
        guard seen.ids.insert(id).inserted else { return true }
        seen.order.append((id, now))
        return false
    }

    private func propose(_ batch: [(command: ReplicatedCommand, waiter: ProposalWaiter)], _ raft: RaftNode, _ state: inout LoopState) {
        switch raft.propose(batch: batch.map { $0.command.encoded() }) {
        case let .success(ids):
            state.counters.proposalBatches += 1
            for (id, item) in zip(ids, batch) {
                state.proposalWaiters[id.index] = (id.term, item.waiter)
            }
        case let .failure(error):
            state.counters.proposalsFailed += UInt64(batch.count)
            for item in batch { item.waiter.continuation.resume(returning: .failure(ProposalError(error))) }
        }
    }

    private func handleReady(_ raft: RaftNode, _ state: inout LoopState) throws(NodeError) {
        let ready = raft.ready()
        if let soft = ready.softState {
            if soft.role == .candidate, state.lastRole != .candidate { state.counters.elections += 1 }
            if soft.leader != state.lastLeader {
                state.counters.leaderChanges += 1
                state.recentLeaders.append(.init(term: soft.term, leader: soft.leader,
                                                 atMilliseconds: Int64((Date().timeIntervalSince1970 * 1000).rounded())))
                if state.recentLeaders.count > NodeStatus.maximumRecentLeaders { state.recentLeaders.removeFirst() }
                logger.info("leader changed", metadata: ["leader": "\(soft.leader)", "term": "\(soft.term)", "role": "\(soft.role)"])
            }
            state.lastRole = soft.role
            state.lastLeader = soft.leader
        }
        var messages = ready.messages
        messages.removeAll { message in
            guard case .installSnapshot = message.payload else { return false }
            snapshotSender.offer(message)
            return true
        }
        transport.send(messages)
        // Committed entries are durable on a quorum (the leader counts itself only once its own write is done), so
        // they are applied before this node's write of newer entries, not after it: a client waits for one fsync,
        // not two, and a follower answers forwarded writes as soon as it learns they committed. A crash before the
        // write loses only this node's copy of the new entries, which the leader sends again; the state machine is
        // rebuilt from the log on restart. A snapshot replaces the state, so it is installed after it is stored.
        let applyFirst = ready.snapshot == nil
        if applyFirst { try applyCommitted(ready, raft, &state) }
        if ready.needsPersist {
            if ready.entries.isEmpty, ready.snapshot == nil, let hard = ready.hardState,
               hard.term == state.storedHardState.term, hard.vote == state.storedHardState.vote {
                // Only the commit index moved. Like etcd (raft.MustSync), it is not worth an fsync: the entries
                // it covers are durable on a quorum already, and a restarted node relearns the commit index
                // from the leader. The state machine is rebuilt from the log on restart, so applying before
                // this index is on disk loses nothing. It is written with the next durable write.
                state.deferredHardState = hard
            } else {
                try persist(hardState: ready.hardState ?? state.deferredHardState, entries: ready.entries,
                            snapshot: ready.snapshot, &state)
            }
        }
        transport.send(ready.messagesAfterPersist)

        if !applyFirst { try applyCommitted(ready, raft, &state) }
        for readState in ready.readStates {
            guard let waiter = state.readWaiters.removeValue(forKey: readState.context) else { continue }
            state.readsAwaitingApply.append((readState.index, waiter))
        }
        state.answerReads()
        raft.advance(ready)
        try compactIfDue(raft, &state)
    }

    /// A test knob that breaks durability on purpose (a write is acknowledged before it reaches the disk), so
    /// the drills can show their checker catches lost writes (chaos/run.sh --unsafe ack-before-fsync).
    static let unsafeAckBeforeFsync = ProcessInfo.processInfo.environment["VIGIL_UNSAFE_ACK_BEFORE_FSYNC"] == "1"
    /// Serial, so the late writes keep their order.
    private static let lateWriter = DispatchQueue(label: "vigil.unsafe-late-writer")

    /// Blocks the Raft loop (and with it the peer transport's event loop) until the write is durable.
    private func persist(hardState: HardState?, entries: [Entry], snapshot: Snapshot?, _ state: inout LoopState) throws(NodeError) {
        let store = self.store
        let delayPoint = persistDelayPoint
        let started = ContinuousClock.now
        if Self.unsafeAckBeforeFsync, snapshot == nil {
            // The unsafe knob: report the write durable now and make it half a second later, so a power cut of
            // every node (kill -9 of them all) loses what was acknowledged in between.
            Self.lateWriter.asyncAfter(deadline: .now() + .milliseconds(500)) {
                try? store.persist(hardState: hardState, entries: entries, snapshot: nil)
            }
            if let hardState { state.storedHardState = hardState }
            state.deferredHardState = nil
            return
        }
        do {
            Failpoint.delay(delayPoint)
            try store.persist(hardState: hardState, entries: entries, snapshot: snapshot)
        } catch {
            throw .persistFailed("\(error)")
        }
        state.counters.persistLatency.observe(.now - started)
        state.round.persist += .now - started
        state.round.entries += entries.count
        if let hardState { state.storedHardState = hardState }
        state.deferredHardState = nil
    }

    /// Installs the Ready's snapshot, applies its committed entries and answers the clients waiting for them.
    private func applyCommitted(_ ready: Ready, _ raft: RaftNode, _ state: inout LoopState) throws(NodeError) {
        var answers: [(ProposalWaiter, Result<ApplyOutcome, ProposalError>)] = []
        if let snapshot = ready.snapshot {
            let descriptor = SnapshotDescriptor(decoding: snapshot.data)
            let restored: NodeStateMachine
            if let descriptor, let prepared = snapshotReceiver.takePrepared(descriptor) {
                restored = prepared
            } else {
                restored = try snapshots.restore(snapshot.data)
            }
            snapshotReceiver.installed(snapshot.index)
            snapshots.prune(keeping: descriptor)
            try self.state.mutate { (machine: inout NodeStateMachine) throws(NodeError) in machine = restored }
            state.machineGeneration += 1
            Self.returnFreedMemory()
            state.appliedIndex = max(state.appliedIndex, snapshot.index)
            state.counters.snapshotsInstalled += 1
            // Their fate is inside the snapshot, which does not say which writes it holds.
            for (index, pending) in state.proposalWaiters where index <= snapshot.index {
                answers.append((pending.waiter, .failure(.timedOut)))
                state.proposalWaiters[index] = nil
            }
            state.membersChanged = true
            logger.info("installed snapshot", metadata: ["index": "\(snapshot.index)", "term": "\(snapshot.term)"])
        }
        if !ready.committedEntries.isEmpty {
            let applyStarted = ContinuousClock.now
            defer { state.round.apply += .now - applyStarted }
            try self.state.mutate { (machine: inout NodeStateMachine) throws(NodeError) in
                state.round.lockWait += .now - applyStarted
                for entry in ready.committedEntries {
                    let outcome: ApplyOutcome? = switch entry.kind {
                    case .normal: entry.data.isEmpty ? nil : machine.apply(entry.data)
                    case .confChange: .membership(raft.conf)
                    default: nil
                    }
                    if entry.kind == .confChange || entry.kind == .bootstrap { state.membersChanged = true }
                    if case let .settings(.stored(key, _, _))? = outcome, key.hasPrefix(MemberDirectory.reservedPrefix) {
                        state.membersChanged = true
                    }
                    if let forwarded = ForwardedEntry(decoding: entry.data), forwarded.origin == nodeID,
                       let pending = state.forwardWaiters.removeValue(forKey: forwarded.id) {
                        answers.append((pending.waiter, outcome.map { .success($0) } ?? .failure(.timedOut)))
                    }
                    if let pending = state.proposalWaiters.removeValue(forKey: entry.index) {
                        if pending.term == entry.term, let outcome {
                            answers.append((pending.waiter, .success(outcome)))
                        } else {
                            answers.append((pending.waiter, .failure(.superseded)))
                        }
                    }
                }
            }
            state.appliedIndex = ready.committedEntries.last!.index
        }
        for (waiter, result) in answers {
            if case .success = result { state.counters.proposalsApplied += 1 } else { state.counters.proposalsFailed += 1 }
            waiter.continuation.resume(returning: result)
        }
    }

    /// Writes a deferred commit index (compaction and shutdown need the stored commit to be current).
    private func flushDeferredHardState(_ state: inout LoopState) throws(NodeError) {
        guard let hardState = state.deferredHardState else { return }
        try persist(hardState: hardState, entries: [], snapshot: nil, &state)
    }

    /// Starts writing a snapshot file of the applied state when enough entries accumulated since the last one.
    ///
    /// The state is copied under the lock (its collections are copy-on-write, so this is cheap) and written on the
    /// snapshot pool; the loop goes on with heartbeats, appends and check-quorum meanwhile, and compacts once the
    /// file is durable (`finishSnapshot`). A leader is never deposed by its own compaction.
    private func compactIfDue(_ raft: RaftNode, _ state: inout LoopState) throws(NodeError) {
        guard !state.snapshotBuildInFlight,
              state.appliedIndex > raft.snapshotIndex,
              state.appliedIndex >= raft.snapshotIndex + LogIndex(config.raft.snapshotEveryEntries)
                || raft.logEntryBytes >= config.raft.snapshotEveryBytes else { return }
        if let retry = state.snapshotRetryAfter, retry > .now { return }
        let index = state.appliedIndex
        guard let term = raft.term(at: index), let snapshotPool = self.snapshotPool.withLock({ $0 }) else { return }
        let machine = self.state.copy()
        state.snapshotBuildInFlight = true
        let snapshots = self.snapshots
        let inbox = self.inbox
        let started = ContinuousClock.now
        let generation = state.machineGeneration
        Task {
            let result: Result<BuiltSnapshot, SnapshotFileError>
            do {
                result = .success(try await snapshotPool.runIfActive {
                    Self.yieldToTheLoop()
                    let (descriptor, archive) = try snapshots.writeWithArchive(machine, index: index, term: term)
                    return BuiltSnapshot(descriptor: descriptor, archive: archive, writtenFrom: machine, generation: generation)
                })
            } catch let error as SnapshotFileError {
                result = .failure(error)
            } catch {
                result = .failure(SnapshotFileError(path: snapshots.directory, "\(error)"))
            }
            inbox.push(.snapshotBuilt(result, startedAt: started))
        }
    }

    /// Makes a written snapshot file the compaction point: the core forgets the entries it covers, the log store
    /// records its descriptor and deletes them, older files go.
    private func finishSnapshot(_ result: Result<BuiltSnapshot, SnapshotFileError>, startedAt: ContinuousClock.Instant,
                                _ raft: RaftNode, _ state: inout LoopState) throws(NodeError) {
        state.snapshotBuildInFlight = false
        let built: BuiltSnapshot
        switch result {
        case let .success(written):
            built = written
        case let .failure(error):
            state.counters.snapshotsFailed += 1
            state.snapshotRetryAfter = .now + .seconds(10)
            logger.error("could not write a snapshot; the log keeps growing until one succeeds (retry in 10 s)", metadata: ["error": "\(error)"])
            return
        }
        state.snapshotRetryAfter = nil
        let descriptor = built.descriptor
        try flushDeferredHardState(&state)
        guard let snapshot = raft.compact(through: descriptor.index, data: descriptor.encoded) else {
            // A snapshot from the leader overtook it; its file is the one in use unless they share index and term.
            if raft.snapshotIndex != descriptor.index { unlink(snapshots.path(of: descriptor)) }
            return
        }
        let store = self.store
        let compactStarted = ContinuousClock.now
        do {
            try store.compact(to: snapshot)
        } catch {
            throw .persistFailed("compaction to \(snapshot.index): \(error)")
        }
        state.round.compact += .now - compactStarted
        // Archived tickets now live in the new file: memory keeps only those archived since the copy.
        if built.generation == state.machineGeneration {
            try self.state.mutate { (machine: inout NodeStateMachine) throws(NodeError) in
                machine.archiveReplaced(by: built.archive, writtenFrom: built.writtenFrom)
            }
            Self.returnFreedMemory()
        }
        snapshots.prune(keeping: descriptor)
        state.counters.snapshotsTaken += 1
        state.counters.snapshotBuildLatency.observe(.now - startedAt)
        logger.info("compacted the log", metadata: [
            "through": "\(snapshot.index)", "bytes": "\(descriptor.sizeBytes)",
            "seconds": "\(Double((ContinuousClock.now - startedAt) / .milliseconds(1)) / 1000)",
        ])
    }

    /// Runs the calling snapshot thread at the lowest CPU priority: writing or decoding a large state takes seconds
    /// of CPU, and on a busy machine it must not take them from the Raft loop, the transport or the API (three nodes
    /// compacting together on two cores once delayed heartbeats past the election timeout).
    static func yieldToTheLoop() {
        #if canImport(Glibc)
        // Linux keeps the nice value per thread, and 0 names the calling one.
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
        #endif
    }

    /// Hands memory freed by a large load (a snapshot decoded, an old state dropped) back to the system: glibc
    /// keeps freed blocks in its arenas otherwise, and a node that loaded a million tickets would go on showing
    /// the peak of that load as resident memory.
    #if canImport(Glibc)
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = dlsym(nil, "malloc_trim").map {
        unsafeBitCast($0, to: (@convention(c) (Int) -> Int32).self)
    }
    #endif

    /// How often a node hands freed memory back, whatever it did: a trim took 0.2–9 ms on a node holding 100,000 open tickets.
    static let memoryTrimIntervalSeconds = 30

    static func returnFreedMemory() {
        #if canImport(Glibc)
        // malloc.h is not part of Swift's Glibc module; the symbol is looked up once.
        if let trim = mallocTrim { _ = trim(0) }
        #endif
    }

    /// The longest the loop sleeps without an event: waiters' deadlines are checked on wakes, so they may run
    /// over by this much.
    static func longestSleepTicks(_ timing: NodeConfig.RaftTiming) -> Int {
        max(1, 250 / max(1, timing.tickIntervalMilliseconds))
    }

    static func seconds(_ duration: Duration) -> Double { Double(duration / .microseconds(1)) / 1_000_000 }

    /// Points the transport at every member of the configuration: a member added or removed, or a record with
    /// new addresses, changes whom this node dials and accepts.
    private func refreshPeers(_ raft: RaftNode, _ state: inout LoopState) {
        state.membersChanged = false
        state.refreshPeersAt = raft.conf
        var peers: [NodeID: PeerAddress] = [:]
        for member in MemberDirectory.members(of: raft.conf, config: config, state: self.state) where member.id != nodeID {
            peers[member.id] = PeerAddress(host: member.peer.host, port: member.peer.port)
        }
        // Before this node knows its configuration (a joining node, an empty log) it keeps its configured peers.
        guard !(raft.conf.voters + raft.conf.learners).isEmpty else { return }
        transport.setPeers(peers)
        logger.info("members", metadata: ["voters": "\(raft.conf.voters)", "learners": "\(raft.conf.learners)"])
    }

    /// A learner that has caught up is made a voter (thesis §4.2.1): added as a learner first, a new node
    /// cannot stall commits while it copies the log.
    private func promoteCaughtUpLearners(_ raft: RaftNode) {
        guard let learner = raft.caughtUpLearner() else { return }
        if case .success = raft.proposeConfChange(ConfChange(.promoteLearner, node: learner)) {
            logger.info("promoting a caught-up learner to voter", metadata: ["node": "\(learner)"])
        }
    }

    /// The voter with the highest match index that answered recently.
    private func bestSuccessor(_ raft: RaftNode) -> NodeID? {
        guard let progress = raft.memberProgress() else { return nil }
        return progress
            .filter { $0.key != nodeID && $0.value.recentlyActive && raft.conf.isVoter($0.key) }
            .max { ($0.value.match, $1.key) < ($1.value.match, $0.key) }?.key
    }

    private func publish(_ raft: RaftNode, _ state: inout LoopState) {
        var progress: [NodeID: NodeStatus.Progress] = [:]
        for (peer, value) in raft.memberProgress() ?? [:] {
            progress[peer] = NodeStatus.Progress(match: value.match, next: value.next, recentlyActive: value.recentlyActive)
        }
        if raft.role == .leader {
            if state.leadership?.term != raft.term { state.leadership = (raft.term, raft.lastIndex) }
        } else {
            state.leadership = nil
        }
        let leaderStateIndex = state.leadership?.index
        let counters = state.counters
        let recentLeaders = state.recentLeaders
        let outgoing = raft.role == .leader ? transfers.outgoingTransfers : [:]
        let incoming = transfers.incomingTransfers
        let applied = state.appliedIndex
        published.withLock { status in
            status.role = raft.role
            status.term = raft.term
            status.leader = raft.leader
            status.commitIndex = raft.commitIndex
            status.appliedIndex = applied
            status.lastIndex = raft.lastIndex
            status.snapshotIndex = raft.snapshotIndex
            status.voters = raft.conf.voters
            status.learners = raft.conf.learners
            status.progress = progress
            status.counters = counters
            status.recentLeaders = recentLeaders
            status.leaderStateIndex = leaderStateIndex
            status.snapshotsOut = outgoing
            status.snapshotsIn = incoming
        }
    }
}
