/// The state and rules of one Raft peer (see `RaftNode`, which wraps it). A value type with `mutating`
/// methods, so the compiler proves its accesses exclusive instead of checking each one at run time, as it
/// must for a class's stored properties.
struct RaftMachine: ~Copyable {
    let id: NodeID
    let config: Config

    private(set) var term: Term
    private(set) var vote: NodeID
    private(set) var role: Role = .follower
    private(set) var leader: NodeID = noNode
    private(set) var conf: ConfState
    var log: RaftLog
    private(set) var appliedIndex: LogIndex

    private var rng: SplitMix64
    private var electionElapsedTicks = 0
    private var heartbeatElapsedTicks = 0
    private var randomizedElectionTimeoutTicks = 0
    private var votes: [NodeID: Bool] = [:]
    private var progress: [NodeID: Progress] = [:]
    /// Index of the last membership change in the log; a new one waits until it is committed.
    private var pendingConfIndex: LogIndex = 0
    /// Committed memberships after the snapshot, so a snapshot at any applied index records the right one.
    private var confHistory: [(index: LogIndex, conf: ConfState)] = []
    private var leadTransferee: NodeID = noNode

    // ReadIndex (thesis §6.4): reads wait for a heartbeat round whose sequence number covers them.
    private struct PendingRead {
        var context: UInt64
        var requester: NodeID
        var index: LogIndex
        var sequence: UInt64
        var acks: Set<NodeID>
    }
    private var pendingReads: [PendingRead] = []
    /// Reads that arrived before this leader committed an entry of its own term.
    private var readsAwaitingCommit: [(context: UInt64, requester: NodeID)] = []
    private var readSequence: UInt64 = 0

    // The next Ready.
    private var outbox: [Message] = []
    private var readStates: [ReadState] = []
    private var persistedHardState: HardState
    private var reportedSoftState: SoftState?
    private var readyInProgress = false

    /// Starts (or restarts) a node from what storage holds.
    init(config: Config, persisted: PersistedState = PersistedState()) {
        config.validate()
        self.id = config.id
        self.config = config
        self.term = persisted.hardState.term
        self.vote = persisted.hardState.vote
        self.log = RaftLog(persisted: persisted)
        self.persistedHardState = persisted.hardState
        self.rng = SplitMix64(seed: config.randomSeed ^ (config.id &* 0x9E37_79B9_7F4A_7C15))
        self.conf = persisted.snapshot.conf
        let applied = config.appliedIndex ?? persisted.snapshot.index
        precondition(applied >= persisted.snapshot.index && applied <= log.commitIndex, "applied index \(applied) outside [snapshot, commit]")
        self.appliedIndex = applied
        // Membership takes effect at commit, so replay the committed changes the snapshot does not cover.
        if log.commitIndex > log.snapshot.index {
            applyCommittedConfChanges(from: log.snapshot.index + 1, through: log.commitIndex)
        }
        resetRandomizedElectionTimeout()
        reportedSoftState = softState
    }

    var softState: SoftState { SoftState(role: role, leader: leader, term: term) }
    var commitIndex: LogIndex { log.commitIndex }
    var lastIndex: LogIndex { log.lastIndex }
    var lastTerm: Term { log.lastTerm }
    var snapshotIndex: LogIndex { log.snapshot.index }
    var logEntryBytes: Int { log.entryBytes }
    var hardState: HardState { HardState(term: term, vote: vote, commit: log.commitIndex) }
    var isLeader: Bool { role == .leader }
    private var isVoter: Bool { conf.isVoter(id) }

    func memberProgress() -> [NodeID: (match: LogIndex, next: LogIndex, recentlyActive: Bool)]? {
        guard role == .leader else { return nil }
        var result: [NodeID: (match: LogIndex, next: LogIndex, recentlyActive: Bool)] = [:]
        for (peer, pr) in progress {
            result[peer] = (peer == id ? log.lastStableIndex : pr.match, pr.next, peer == id || pr.recentActive)
        }
        return result
    }

    func caughtUpLearner() -> NodeID? {
        guard role == .leader, log.commitIndex > 0 else { return nil }
        return conf.learners.first { (progress[$0]?.match ?? 0) >= log.commitIndex }
    }

    func term(at index: LogIndex) -> Term? { log.term(at: index) }

    func entry(at index: LogIndex) -> Entry? { log.entry(at: index) }

    // MARK: - Inputs

    mutating func tick() {
        precondition(!readyInProgress, "tick during an unfinished Ready")
        if role == .leader { tickLeader() } else { tickElection() }
        checkInvariants()
    }

    var ticksUntilNextTimeout: Int {
        guard role == .leader else {
            return isVoter ? max(1, randomizedElectionTimeoutTicks - electionElapsedTicks) : Int.max
        }
        var ticks = min(config.heartbeatIntervalTicks - heartbeatElapsedTicks, config.electionTimeoutTicks - electionElapsedTicks)
        for (peer, progress) in progress where peer != id {
            if case .snapshot = progress.state { ticks = min(ticks, 2 * config.electionTimeoutTicks - progress.snapshotWaitTicks) }
        }
        return max(1, ticks)
    }

    private mutating func tickElection() {
        electionElapsedTicks += 1
        if isVoter && electionElapsedTicks >= randomizedElectionTimeoutTicks {
            electionElapsedTicks = 0
            campaign(config.preVote ? .preVote : .election)
        }
    }

    private mutating func tickLeader() {
        heartbeatElapsedTicks += 1
        electionElapsedTicks += 1
        if electionElapsedTicks >= config.electionTimeoutTicks {
            electionElapsedTicks = 0
            if config.checkQuorum && !checkQuorumActive() {
                becomeFollower(term: term, leader: noNode)
                return
            }
            // A transfer that did not finish within an election timeout is abandoned (thesis §3.10).
            leadTransferee = noNode
        }
        for peer in progress.keys where peer != id {
            guard case .snapshot = progress[peer]!.state else { continue }
            progress[peer]!.snapshotWaitTicks += 1
            if progress[peer]!.snapshotWaitTicks >= 2 * config.electionTimeoutTicks {
                progress[peer]!.becomeProbe()
            }
        }
        if heartbeatElapsedTicks >= config.heartbeatIntervalTicks {
            heartbeatElapsedTicks = 0
            broadcastHeartbeat()
        }
    }

    /// Appends proposals to the leader's log; returns where each landed.
    @discardableResult
    mutating func propose(_ data: [UInt8]) -> Result<ProposalID, RaftError> {
        propose(batch: [data]).map { $0[0] }
    }

    /// Appends several proposals as one batch (one broadcast).
    mutating func propose(batch: [[UInt8]]) -> Result<[ProposalID], RaftError> {
        precondition(!readyInProgress, "propose during an unfinished Ready")
        if let refusal = proposalRefusal(count: batch.count) { return .failure(refusal) }
        let first = log.lastIndex + 1
        let entries = batch.enumerated().map { Entry(term: term, index: first + LogIndex($0.offset), data: $0.element) }
        appendAsLeader(entries)
        return .success(entries.map { ProposalID(index: $0.index, term: $0.term) })
    }

    private func proposalRefusal(count: Int) -> RaftError? {
        guard role == .leader else { return .notLeader(leaderHint: leader) }
        guard leadTransferee == noNode else { return .leadershipTransferInProgress }
        guard Int(log.lastIndex - log.commitIndex) + count <= config.maxUncommittedEntries else {
            return .tooManyUncommitted(limit: config.maxUncommittedEntries)
        }
        return nil
    }

    mutating func proposeConfChange(_ change: ConfChange) -> Result<ProposalID, RaftError> {
        precondition(!readyInProgress, "propose during an unfinished Ready")
        if let refusal = proposalRefusal(count: 1) { return .failure(refusal) }
        // One change at a time, and not before this leader committed an entry of its term: otherwise two
        // leaders could each commit a change whose majorities do not overlap (the thesis erratum).
        guard pendingConfIndex <= log.commitIndex, log.term(at: log.commitIndex) == term else {
            return .failure(.confChangeInProgress)
        }
        guard change.applied(to: conf) != nil else {
            return .failure(.invalidConfChange("\(change.action) of node \(change.node) does not apply to voters \(conf.voters) learners \(conf.learners)"))
        }
        if change.action == .promoteLearner {
            // A learner that is far behind would stall commits the moment it counts towards the quorum.
            guard let pr = progress[change.node], pr.match >= log.commitIndex else {
                return .failure(.invalidConfChange("learner \(change.node) has not caught up with the commit index"))
            }
        }
        let entry = Entry(term: term, index: log.lastIndex + 1, kind: .confChange, data: change.encoded)
        pendingConfIndex = entry.index
        appendAsLeader([entry])
        return .success(ProposalID(index: entry.index, term: entry.term))
    }

    mutating func readIndex(context: UInt64) -> Result<Void, RaftError> {
        precondition(!readyInProgress, "read during an unfinished Ready")
        switch role {
        case .leader:
            return leaderReadIndex(context: context, requester: id)
        default:
            guard leader != noNode else { return .failure(.notLeader(leaderHint: noNode)) }
            send(to: leader, .readIndexRequest(context: context))
            return .success(())
        }
    }

    mutating func transferLeadership(to target: NodeID) -> Result<Void, RaftError> {
        precondition(!readyInProgress, "transfer during an unfinished Ready")
        guard role == .leader else { return .failure(.notLeader(leaderHint: leader)) }
        guard target != id, conf.isVoter(target), progress[target] != nil else {
            return .failure(.invalidTransferTarget(target))
        }
        guard leadTransferee == noNode else { return .failure(.leadershipTransferInProgress) }
        leadTransferee = target
        electionElapsedTicks = 0
        if progress[target]!.match == log.lastIndex {
            send(to: target, .timeoutNow)
        } else {
            sendAppend(to: target, sendIfEmpty: true)
        }
        return .success(())
    }

    mutating func reportUnreachable(_ peer: NodeID) {
        guard role == .leader, peer != id, var pr = progress[peer] else { return }
        if pr.state == .replicate { pr.becomeProbe() }
        progress[peer] = pr
    }

    mutating func step(_ message: Message) {
        precondition(!readyInProgress, "step during an unfinished Ready")
        guard message.to == id, message.from != id, message.from != noNode else { return }
        guard isWellFormed(message) else { return }
        guard checkTerm(message) else { return }
        switch message.payload {
        case .requestVote(let lastIndex, let lastTerm, let preVote, _):
            handleVoteRequest(message, lastIndex: lastIndex, lastTerm: lastTerm, preVote: preVote)
        case .voteResponse(let granted, let preVote):
            handleVoteResponse(from: message.from, granted: granted, preVote: preVote)
        default:
            switch role {
            case .leader: stepLeader(message)
            case .follower: stepFollower(message)
            case .candidate, .preCandidate: stepCandidate(message)
            }
        }
        checkInvariants()
    }

    /// Cheap structural invariants after every input; a failure means corrupted state, so stop.
    private func checkInvariants() {
        precondition(log.commitIndex <= log.lastIndex, "commit \(log.commitIndex) beyond last index \(log.lastIndex)")
        precondition(appliedIndex <= log.commitIndex, "applied \(appliedIndex) beyond commit \(log.commitIndex)")
        precondition(log.lastTerm <= term, "log term \(log.lastTerm) above current term \(term)")
        precondition(role != .leader || leader == id, "a leader that does not know it leads")
        precondition(role != .candidate || vote == id, "a candidate that did not vote for itself")
        precondition(role == .leader || progress.isEmpty, "replication state outside leadership")
        precondition(leadTransferee == noNode || role == .leader, "transfer state outside leadership")
    }

    // MARK: - Message validation and terms

    private func isWellFormed(_ message: Message) -> Bool {
        switch message.payload {
        case let .appendEntries(prevIndex, prevTerm, entries, _):
            guard prevTerm <= message.term else { return false }
            var expectedIndex = prevIndex + 1
            var lastTerm = prevTerm
            for entry in entries {
                guard entry.index == expectedIndex, entry.term >= lastTerm, entry.term <= message.term else { return false }
                expectedIndex += 1
                lastTerm = entry.term
            }
            return true
        case .installSnapshot(let snapshot):
            return snapshot.index > 0 && snapshot.term > 0 && snapshot.term <= message.term && !snapshot.conf.voters.isEmpty
        case .requestVote(_, let lastTerm, _, _):
            return lastTerm <= message.term
        default:
            return message.term > 0
        }
    }

    /// The term rules of §5.1 plus pre-vote and the check-quorum lease (thesis §9.6, §4.2.3).
    /// Returns false when the message must not be processed further.
    private mutating func checkTerm(_ message: Message) -> Bool {
        if message.term > term {
            if case .requestVote(_, _, let preVote, let transfer) = message.payload {
                // While we hear from a leader, a candidate's higher term is a disruption, not news.
                let inLease = config.checkQuorum && leader != noNode && electionElapsedTicks < config.electionTimeoutTicks
                if inLease && !transfer { return false }
                if preVote { return true }
            }
            if case .voteResponse(let granted, true) = message.payload, granted {
                return true
            }
            switch message.payload {
            case .appendEntries, .heartbeat, .installSnapshot:
                becomeFollower(term: message.term, leader: message.from)
            case .requestVote:
                // Only a granted vote or a leader resets the election timer (§5.2); otherwise a candidate
                // with a stale log could keep a slower but up-to-date node from ever campaigning.
                let elapsedTicks = electionElapsedTicks
                becomeFollower(term: message.term, leader: noNode)
                electionElapsedTicks = elapsedTicks
            default:
                becomeFollower(term: message.term, leader: noNode)
            }
            return true
        }
        if message.term < term {
            switch message.payload {
            case .appendEntries, .heartbeat:
                // Tell a stale leader about the newer term so it steps down instead of lingering.
                if config.checkQuorum || config.preVote { send(to: message.from, .heartbeatResponse(readSeq: 0)) }
            case .requestVote(_, _, let preVote, _):
                // Answer with our term (§5.1): a candidate that never learns it can chase it forever, one
                // term behind a node that keeps campaigning in a configuration the candidate is not part of.
                send(to: message.from, .voteResponse(granted: false, preVote: preVote))
            default:
                break
            }
            return false
        }
        return true
    }

    // MARK: - Elections (§5.2, thesis §9.6)

    private enum CampaignKind { case preVote, election, transfer }

    private mutating func campaign(_ kind: CampaignKind) {
        guard isVoter else { return }
        let preVote = kind == .preVote
        let transfer = kind == .transfer
        let campaignTerm: Term
        if preVote {
            becomePreCandidate()
            campaignTerm = term + 1
        } else {
            becomeCandidate()
            campaignTerm = term
        }
        votes = [id: true]
        if conf.quorum <= 1 {
            if preVote { campaign(.election) } else { becomeLeader() }
            return
        }
        for peer in conf.voters where peer != id {
            outbox.append(Message(from: id, to: peer, term: campaignTerm,
                                  payload: .requestVote(lastIndex: log.lastIndex, lastTerm: log.lastTerm, preVote: preVote, transfer: transfer)))
        }
    }

    private mutating func handleVoteRequest(_ message: Message, lastIndex: LogIndex, lastTerm: Term, preVote: Bool) {
        let candidate = message.from
        let canVote = vote == candidate || (vote == noNode && leader == noNode) || (preVote && message.term > term)
        let logOK = config.injectedBug == .skipLogUpToDateCheck || log.isUpToDate(lastIndex: lastIndex, lastTerm: lastTerm)
        // Membership is not checked on either side: a learner may have been promoted (or a candidate added)
        // by an entry this node holds but does not know is committed. Disruption by removed nodes is kept
        // in check by pre-vote and the leader lease instead (thesis §4.2.3).
        if canVote && logOK {
            // Answer with the request's term so a pre-candidate can tell this grant from a stale one.
            outbox.append(Message(from: id, to: candidate, term: message.term, payload: .voteResponse(granted: true, preVote: preVote)))
            if !preVote {
                electionElapsedTicks = 0
                vote = candidate
            }
        } else {
            send(to: candidate, .voteResponse(granted: false, preVote: preVote))
        }
    }

    private mutating func handleVoteResponse(from voter: NodeID, granted: Bool, preVote: Bool) {
        guard (role == .preCandidate && preVote) || (role == .candidate && !preVote), conf.isVoter(voter) else { return }
        if votes[voter] == nil { votes[voter] = granted }
        let grants = votes.values.filter { $0 }.count
        let rejects = votes.count - grants
        if grants >= conf.quorum {
            if preVote { campaign(.election) } else { becomeLeader() }
        } else if rejects > conf.voters.count - conf.quorum {
            becomeFollower(term: term, leader: noNode)
        }
    }

    private mutating func resetRandomizedElectionTimeout() {
        randomizedElectionTimeoutTicks = config.electionTimeoutTicks + rng.below(config.electionTimeoutTicks)
    }

    private mutating func reset(term newTerm: Term) {
        if newTerm != term {
            term = newTerm
            vote = noNode
        }
        leader = noNode
        electionElapsedTicks = 0
        heartbeatElapsedTicks = 0
        resetRandomizedElectionTimeout()
        votes = [:]
        leadTransferee = noNode
        pendingReads = []
        readsAwaitingCommit = []
        progress = [:]
    }

    private mutating func becomeFollower(term newTerm: Term, leader newLeader: NodeID) {
        reset(term: newTerm)
        role = .follower
        leader = newLeader
    }

    private mutating func becomePreCandidate() {
        precondition(role != .leader, "a leader does not campaign")
        // A pre-candidate keeps its term and vote: losing the pre-vote must leave no trace (thesis §9.6).
        votes = [:]
        leader = noNode
        role = .preCandidate
        electionElapsedTicks = 0
        resetRandomizedElectionTimeout()
    }

    private mutating func becomeCandidate() {
        precondition(role != .leader, "a leader does not campaign")
        reset(term: term + 1)
        vote = id
        role = .candidate
    }

    private mutating func becomeLeader() {
        precondition(role == .candidate, "only a candidate becomes leader")
        reset(term: term)
        role = .leader
        leader = id
        for member in conf.members {
            progress[member] = Progress(next: log.lastIndex + 1, isLearner: conf.isLearner(member), maxInflight: config.maxInflightAppends)
        }
        progress[id]?.match = log.lastStableIndex
        // Any membership change in the log may be uncommitted: no new change until the no-op commits.
        pendingConfIndex = log.lastIndex
        // The no-op lets this leader commit (and learn the commit index) without waiting for a client (§5.4.2, §6.4).
        appendAsLeader([Entry(term: term, index: log.lastIndex + 1, data: [])])
    }

    // MARK: - Leader

    private mutating func appendAsLeader(_ entries: [Entry]) {
        log.append(entries)
        broadcastAppend()
        // A single-voter cluster commits as soon as its own disk has the entries (see advance).
    }

    private mutating func broadcastAppend() {
        for peer in progress.keys.sorted() where peer != id {
            sendAppend(to: peer, sendIfEmpty: true)
        }
    }

    private mutating func broadcastHeartbeat(readSeq: UInt64? = nil) {
        let sequence = readSeq ?? (pendingReads.last?.sequence ?? 0)
        for peer in progress.keys.sorted() where peer != id {
            let pr = progress[peer]!
            // Never tell a follower to commit beyond what we know it holds: its tail may still diverge.
            send(to: peer, .heartbeat(commit: min(pr.match, log.commitIndex), readSeq: sequence))
        }
    }

    /// Sends the next append (or the snapshot) to `peer`; returns whether something was sent.
    @discardableResult
    private mutating func sendAppend(to peer: NodeID, sendIfEmpty: Bool) -> Bool {
        guard var pr = progress[peer], !pr.isPaused else { return false }
        let prevIndex = pr.next - 1
        guard let prevTerm = log.term(at: prevIndex) else {
            // The entries it needs are compacted away: ship the snapshot instead (§7).
            pr.becomeSnapshot(log.snapshot.index)
            progress[peer] = pr
            send(to: peer, .installSnapshot(log.snapshot))
            return true
        }
        let entries = log.slice(from: pr.next, through: log.lastIndex, maxBytes: config.maxAppendBytes)
        if entries.isEmpty && !sendIfEmpty { return false }
        if let last = entries.last {
            switch pr.state {
            case .replicate:
                pr.next = last.index + 1
                pr.inflight.add(last.index)
            case .probe:
                pr.probeSent = true
            case .snapshot:
                preconditionFailure("paused progress sent an append")
            }
        } else if pr.state == .probe {
            pr.probeSent = true
        }
        progress[peer] = pr
        send(to: peer, .appendEntries(prevIndex: prevIndex, prevTerm: prevTerm, entries: entries, commit: log.commitIndex))
        return true
    }

    private mutating func stepLeader(_ message: Message) {
        let peer = message.from
        switch message.payload {
        case let .appendResponse(success, index, conflictTerm, conflictIndex):
            guard var pr = progress[peer], index <= log.lastIndex else { return }
            pr.recentActive = true
            if !success {
                let hint = log.lastIndex(ofTermAtMost: conflictTerm, atOrBelow: conflictIndex) ?? conflictIndex
                if pr.maybeDecrease(rejected: index, probeHint: hint) {
                    if pr.state == .replicate { pr.becomeProbe() }
                    progress[peer] = pr
                    sendAppend(to: peer, sendIfEmpty: true)
                } else {
                    progress[peer] = pr
                }
                return
            }
            if pr.maybeUpdate(index) {
                switch pr.state {
                case .probe:
                    pr.becomeReplicate()
                case .snapshot(let pendingIndex):
                    if pr.match >= pendingIndex { pr.becomeReplicate() }
                case .replicate:
                    pr.inflight.free(through: pr.match)
                }
                progress[peer] = pr
                if maybeCommit() { broadcastAppend() }
                // Committing may have applied a membership change that removed this peer or deposed us.
                guard role == .leader, let updated = progress[peer] else { return }
                while sendAppend(to: peer, sendIfEmpty: false) {}
                if peer == leadTransferee && updated.match == log.lastIndex {
                    send(to: peer, .timeoutNow)
                }
            } else {
                if case .probe = pr.state { pr.probeSent = false }
                progress[peer] = pr
                while sendAppend(to: peer, sendIfEmpty: false) {}
            }
        case .heartbeatResponse(let readSeq):
            guard var pr = progress[peer] else { return }
            pr.recentActive = true
            pr.probeSent = false
            // A full pipeline whose acks were lost would stall forever; a heartbeat reply proves the link works.
            if pr.state == .replicate && pr.inflight.isFull { pr.inflight.freeFirst() }
            progress[peer] = pr
            // Even an empty append is worth sending: if pipelined appends were lost, its rejection is how
            // the leader learns to fall back to probing.
            if pr.match < log.lastIndex { sendAppend(to: peer, sendIfEmpty: true) }
            if readSeq > 0 && !pr.isLearner { acknowledgeReads(from: peer, through: readSeq) }
        case .readIndexRequest(let context):
            guard conf.isMember(peer) else { return }
            _ = leaderReadIndex(context: context, requester: peer)
        case .installSnapshot, .appendEntries, .heartbeat, .timeoutNow, .readIndexResponse:
            // Same-term leader traffic from someone else would mean two leaders in one term.
            break
        case .requestVote, .voteResponse:
            break
        }
    }

    /// Commits the highest index replicated on a quorum, if it belongs to the current term (§5.4.2, Figure 8).
    @discardableResult
    private mutating func maybeCommit() -> Bool {
        var matches: [LogIndex] = []
        for voter in conf.voters {
            matches.append(voter == id ? log.lastStableIndex : progress[voter]?.match ?? 0)
        }
        matches.sort(by: >)
        let quorumIndex = matches[conf.quorum - 1]
        guard quorumIndex > log.commitIndex else { return false }
        guard config.injectedBug == .commitOldTermByCounting || log.term(at: quorumIndex) == term else { return false }
        commit(to: quorumIndex)
        return true
    }

    private mutating func checkQuorumActive() -> Bool {
        var active = 0
        for voter in conf.voters {
            if voter == id { active += 1; continue }
            if progress[voter]?.recentActive == true { active += 1 }
        }
        for peer in progress.keys where peer != id { progress[peer]!.recentActive = false }
        return active >= conf.quorum
    }

    private mutating func leaderReadIndex(context: UInt64, requester: NodeID) -> Result<Void, RaftError> {
        guard pendingReads.count + readsAwaitingCommit.count < config.maxPendingReads else {
            return .failure(.tooManyPendingReads(limit: config.maxPendingReads))
        }
        // Until an entry of this term commits, the leader's commit index may be behind the cluster's (§6.4).
        guard log.term(at: log.commitIndex) == term else {
            readsAwaitingCommit.append((context, requester))
            return .success(())
        }
        if conf.quorum <= 1 && conf.isVoter(id) || config.readMode == .leaseBased || config.injectedBug == .readWithoutQuorum {
            completeRead(context: context, requester: requester, index: log.commitIndex)
            return .success(())
        }
        readSequence += 1
        pendingReads.append(PendingRead(context: context, requester: requester, index: log.commitIndex, sequence: readSequence, acks: [id]))
        broadcastHeartbeat(readSeq: readSequence)
        return .success(())
    }

    private mutating func acknowledgeReads(from peer: NodeID, through sequence: UInt64) {
        guard conf.isVoter(peer) else { return }
        var released = 0
        for position in pendingReads.indices where pendingReads[position].sequence <= sequence {
            pendingReads[position].acks.insert(peer)
        }
        // Release in order: a read is confirmed once a quorum acknowledged a heartbeat sent after it arrived.
        while released < pendingReads.count, pendingReads[released].acks.filter({ conf.isVoter($0) }).count >= conf.quorum {
            let read = pendingReads[released]
            completeRead(context: read.context, requester: read.requester, index: read.index)
            released += 1
        }
        pendingReads.removeFirst(released)
    }

    private mutating func completeRead(context: UInt64, requester: NodeID, index: LogIndex) {
        if requester == id {
            readStates.append(ReadState(context: context, index: index))
        } else {
            send(to: requester, .readIndexResponse(context: context, index: index))
        }
    }

    // MARK: - Followers and candidates

    private mutating func stepFollower(_ message: Message) {
        switch message.payload {
        case .appendEntries, .heartbeat, .installSnapshot:
            electionElapsedTicks = 0
            leader = message.from
            handleReplication(message)
        case .timeoutNow:
            guard message.from == leader else { return }
            campaign(.transfer)
        case .readIndexResponse(let context, let index):
            readStates.append(ReadState(context: context, index: index))
        case .readIndexRequest(let context):
            // A stale follower of ours thinks we lead: pass it on when we know who does.
            if leader != noNode { send(to: leader, .readIndexRequest(context: context)) }
        default:
            break
        }
    }

    private mutating func stepCandidate(_ message: Message) {
        switch message.payload {
        case .appendEntries, .heartbeat, .installSnapshot:
            // A leader of our term exists (§5.2): follow it.
            becomeFollower(term: message.term, leader: message.from)
            handleReplication(message)
        default:
            break
        }
    }

    private mutating func handleReplication(_ message: Message) {
        switch message.payload {
        case let .appendEntries(prevIndex, prevTerm, entries, leaderCommit):
            handleAppend(from: message.from, prevIndex: prevIndex, prevTerm: prevTerm, entries: entries, leaderCommit: leaderCommit)
        case let .heartbeat(leaderCommit, readSeq):
            commit(to: min(leaderCommit, log.lastIndex))
            send(to: message.from, .heartbeatResponse(readSeq: readSeq))
        case .installSnapshot(let snapshot):
            handleSnapshot(from: message.from, snapshot)
        default:
            break
        }
    }

    private mutating func handleAppend(from leaderID: NodeID, prevIndex: LogIndex, prevTerm: Term, entries: [Entry], leaderCommit: LogIndex) {
        if prevIndex < log.commitIndex {
            // Everything up to our commit index matches any leader; tell it where to continue.
            send(to: leaderID, .appendResponse(success: true, index: log.commitIndex, conflictTerm: 0, conflictIndex: 0))
            return
        }
        guard log.matchTerm(prevIndex, prevTerm) else {
            let hintIndex = log.lastIndex(ofTermAtMost: prevTerm, atOrBelow: min(prevIndex, log.lastIndex)) ?? log.snapshot.index
            let hintTerm = log.term(at: hintIndex) ?? 0
            send(to: leaderID, .appendResponse(success: false, index: prevIndex, conflictTerm: hintTerm, conflictIndex: hintIndex))
            return
        }
        let lastNew = log.merge(after: prevIndex, entries)
        commit(to: min(leaderCommit, lastNew))
        send(to: leaderID, .appendResponse(success: true, index: lastNew, conflictTerm: 0, conflictIndex: 0))
    }

    private mutating func handleSnapshot(from leaderID: NodeID, _ snapshot: Snapshot) {
        if snapshot.index <= log.commitIndex {
            send(to: leaderID, .appendResponse(success: true, index: log.commitIndex, conflictTerm: 0, conflictIndex: 0))
            return
        }
        if log.matchTerm(snapshot.index, snapshot.term) {
            // We already hold the snapshot's last entry: keep the log, just learn the commit.
            commit(to: snapshot.index)
        } else {
            log.restore(snapshot)
            conf = snapshot.conf
            confHistory = []
        }
        send(to: leaderID, .appendResponse(success: true, index: snapshot.index, conflictTerm: 0, conflictIndex: 0))
    }

    // MARK: - Commit and membership

    private mutating func commit(to index: LogIndex) {
        let old = log.commitIndex
        guard index > old else { return }
        log.commit(to: index)
        applyCommittedConfChanges(from: old + 1, through: index)
        if role == .leader {
            if log.term(at: old) != term && log.term(at: index) == term { releaseReadsAwaitingCommit() }
        }
    }

    private mutating func releaseReadsAwaitingCommit() {
        let waiting = readsAwaitingCommit
        readsAwaitingCommit = []
        for read in waiting { _ = leaderReadIndex(context: read.context, requester: read.requester) }
    }

    private mutating func applyCommittedConfChanges(from first: LogIndex, through last: LogIndex) {
        guard first <= last else { return }
        for index in first...last {
            guard let entry = log.entry(at: index) else { continue }
            switch entry.kind {
            case .normal:
                continue
            case .bootstrap:
                guard let initial = ConfState(encoded: entry.data) else { continue }
                conf = initial
                confHistory.append((index, initial))
            case .confChange:
                guard let change = ConfChange(encoded: entry.data), let next = change.applied(to: conf) else { continue }
                applyConf(next, at: index, change: change)
            }
        }
    }

    private mutating func applyConf(_ next: ConfState, at index: LogIndex, change: ConfChange) {
        conf = next
        confHistory.append((index, next))
        guard role == .leader else {
            if !isVoter && (role == .candidate || role == .preCandidate) { becomeFollower(term: term, leader: leader) }
            return
        }
        switch change.action {
        case .addLearner:
            progress[change.node] = Progress(next: log.lastIndex + 1, isLearner: true, maxInflight: config.maxInflightAppends)
        case .promoteLearner:
            progress[change.node]?.isLearner = false
        case .remove:
            progress[change.node] = nil
            if change.node == id {
                // The leader removed itself. First tell everyone the commit index, so the remaining voters know
                // the removal is final; then hand over to the most up-to-date voter so the gap stays short.
                broadcastAppend()
                let candidates = conf.voters.filter { progress[$0] != nil }
                let successor = candidates.max { (progress[$0]!.match, $0) < (progress[$1]!.match, $1) }
                if let successor, progress[successor]!.match == log.lastIndex { send(to: successor, .timeoutNow) }
                becomeFollower(term: term, leader: noNode)
                return
            }
        }
        // A smaller quorum may already cover more entries.
        if maybeCommit() { broadcastAppend() }
    }

    /// The membership in force at `index` (used to stamp snapshots).
    private func conf(at index: LogIndex) -> ConfState {
        var result = log.snapshot.conf
        for (changeIndex, changed) in confHistory where changeIndex <= index { result = changed }
        return result
    }

    // MARK: - Snapshots

    mutating func compact(through index: LogIndex, data: [UInt8]) -> Snapshot? {
        precondition(!readyInProgress, "compact during an unfinished Ready")
        guard index > log.snapshot.index, index <= appliedIndex, let snapshotTerm = log.term(at: index) else { return nil }
        let snapshot = Snapshot(index: index, term: snapshotTerm, conf: conf(at: index), data: data)
        log.compact(to: snapshot)
        confHistory.removeAll { $0.index <= index }
        return snapshot
    }

    // MARK: - Ready

    private mutating func send(to peer: NodeID, _ payload: Message.Payload) {
        outbox.append(Message(from: id, to: peer, term: term, payload: payload))
    }

    var hasReady: Bool {
        if softState != reportedSoftState || hardState != persistedHardState { return true }
        if !outbox.isEmpty || !readStates.isEmpty { return true }
        if log.hasUnstable { return true }
        return nextCommittedIndex() > appliedIndex
    }

    private func nextCommittedIndex() -> LogIndex {
        // Never apply what this node has not handed to storage.
        min(log.commitIndex, log.lastIndex)
    }

    mutating func ready() -> Ready {
        precondition(!readyInProgress, "ready() twice without advance()")
        readyInProgress = true
        var ready = Ready()
        let soft = softState
        if soft != reportedSoftState { ready.softState = soft }
        let hard = hardState
        if hard != persistedHardState {
            var toPersist = hard
            if config.injectedBug == .forgetVotePersist { toPersist.vote = persistedHardState.term == hard.term ? persistedHardState.vote : noNode }
            ready.hardState = toPersist
        }
        let unstable = log.unstable()
        ready.snapshot = unstable.snapshot
        ready.entries = unstable.entries
        for message in outbox {
            if message.maySendBeforePersist || (config.injectedBug == .ackBeforePersist && message.isAppendResponse) {
                ready.messages.append(message)
            } else {
                ready.messagesAfterPersist.append(message)
            }
        }
        ready.readStates = readStates
        let applyFrom = max(appliedIndex, unstable.snapshot?.index ?? 0) + 1
        let applyThrough = nextCommittedIndex()
        if applyFrom <= applyThrough {
            ready.committedEntries = log.slice(from: applyFrom, through: applyThrough, maxBytes: config.maxCommittedBytesPerReady)
        }
        return ready
    }

    mutating func advance(_ ready: Ready) {
        precondition(readyInProgress, "advance() without ready()")
        readyInProgress = false
        if let soft = ready.softState { reportedSoftState = soft }
        if let hard = ready.hardState { persistedHardState = hard }
        if config.injectedBug == .forgetVotePersist, ready.hardState != nil {
            // Remember what we claimed to persist, but compare against the real state next time.
            persistedHardState.vote = vote
        }
        outbox.removeAll(keepingCapacity: true)
        readStates.removeAll(keepingCapacity: true)
        if let snapshot = ready.snapshot {
            appliedIndex = max(appliedIndex, snapshot.index)
        }
        if ready.snapshot != nil || !ready.entries.isEmpty {
            log.stabilized(through: ready.entries.last?.index ?? 0, snapshotIndex: ready.snapshot?.index)
        }
        if let last = ready.committedEntries.last {
            precondition(last.index > appliedIndex || ready.snapshot != nil, "applied index went backwards")
            appliedIndex = max(appliedIndex, last.index)
        }
        if role == .leader {
            progress[id]?.match = log.lastStableIndex
            if maybeCommit() { broadcastAppend() }
        }
        checkInvariants()
    }
}
