import Testing
@testable import RaftCore

/// ReadIndex reads (thesis §6.4).
@Suite("thesis §6.4 ReadIndex")
struct ReadIndexTests {
    @Test("§6.4: a leader answers a read only after a quorum confirmed it still leads")
    func readNeedsQuorumRound() {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.propose(1, "a")
        #expect(cluster[1].readIndex(context: 7).isSuccess)
        cluster.flush()
        #expect(cluster.readStates[1, default: []].isEmpty, "no answer before the heartbeat round")
        cluster.deliverAll()
        #expect(cluster.readStates[1] == [ReadState(context: 7, index: cluster[1].commitIndex)])
    }

    @Test("§6.4: an isolated leader cannot answer reads (no stale reads)")
    func isolatedLeaderCannotRead() {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.isolate(1)
        _ = cluster[1].readIndex(context: 1)
        cluster.tickAll(3)
        #expect(cluster.readStates[1, default: []].isEmpty)
    }

    @Test("§6.4: a follower's read is forwarded to the leader and answered with the leader's commit index")
    func followerReadForwarded() {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.propose(1, "a")
        #expect(cluster[2].readIndex(context: 9).isSuccess)
        cluster.deliverAll()
        #expect(cluster.readStates[2] == [ReadState(context: 9, index: cluster[1].commitIndex)])
    }

    @Test("§6.4: a follower without a leader refuses reads")
    func readWithoutLeaderRefused() {
        let cluster = TestCluster(voters: 3)
        #expect(cluster[2].readIndex(context: 1).failureValue == (.notLeader(leaderHint: noNode)))
    }

    @Test("§6.4: lease-based reads (opt-in) answer at once from the check-quorum lease")
    func leaseRead() {
        let cluster = TestCluster(voters: 3) { $0.readMode = .leaseBased }
        cluster.elect(1)
        _ = cluster[1].readIndex(context: 3)
        cluster.flush()
        #expect(cluster.readStates[1] == [ReadState(context: 3, index: cluster[1].commitIndex)])
    }
}

/// Log compaction and InstallSnapshot (paper §7).
@Suite("§7 Log compaction")
struct SnapshotTests {
    @Test("§7: the bytes the log holds in memory grow with appends, shrink with compaction, and match on followers")
    func logEntryBytesFollowTheLog() {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        let before = cluster[1].logEntryBytes
        for index in 0..<20 { cluster.propose(1, String(repeating: "x", count: 100 + index)) }
        let proposed = (0..<20).reduce(0) { $0 + 100 + $1 }
        #expect(cluster[1].logEntryBytes - before == proposed)
        #expect(cluster[2].logEntryBytes == cluster[1].logEntryBytes, "a follower holds the same entries")
        let applied = cluster[1].appliedIndex
        _ = cluster[1].compact(through: applied, data: [])
        #expect(cluster[1].logEntryBytes == 0, "everything applied was compacted")
    }

    @Test("§7: compaction drops applied entries; a follower that fell behind gets the snapshot")
    func laggingFollowerGetsSnapshot() {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.isolate(3)
        for index in 0..<30 { cluster.propose(1, "v\(index)") }
        let applied = cluster[1].appliedIndex
        let snapshot = cluster[1].compact(through: applied, data: Array("state@\(applied)".utf8))
        #expect(snapshot?.index == applied)
        #expect(snapshot?.conf.voters == [1, 2, 3])
        #expect(cluster[1].entry(at: applied) == nil, "compacted entries are gone")
        cluster.heal()
        var snapshotsSent = 0
        for _ in 0..<5 {
            cluster[1].tick()
            cluster.deliverAll { message in
                if message.kindName == "snapshot" { snapshotsSent += 1 }
                return true
            }
        }
        #expect(snapshotsSent == 1)
        #expect(cluster.stores[3]!.persisted.snapshot.index == applied)
        #expect(cluster[3].commitIndex == cluster[1].commitIndex)
        #expect(cluster[3].conf.voters == [1, 2, 3])
    }

    @Test("§7: a node restarts from its snapshot plus the log after it")
    func restartFromSnapshot() {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        for index in 0..<10 { cluster.propose(1, "v\(index)") }
        cluster.tickAll(2)
        let applied = cluster[2].appliedIndex
        let snapshot = cluster[2].compact(through: applied - 3, data: [1, 2, 3])!
        cluster.stores[2]!.persisted.snapshot = snapshot
        cluster.stores[2]!.persisted.entries.removeFirst(Int(snapshot.index - 0))
        cluster.crash(2)
        cluster.start(2)
        #expect(cluster[2].snapshotIndex == snapshot.index)
        #expect(cluster[2].lastIndex == cluster[1].lastIndex)
        cluster.tickAll(2)
        // Everything after the snapshot is applied again on restart.
        #expect(cluster.applied[2]!.first?.index == snapshot.index + 1)
    }
}

/// Membership changes (thesis §4.1 single-server changes, §4.2.1 learners, §4.2.2 removing the leader).
@Suite("thesis §4 Membership")
struct MembershipTests {
    @Test("§4.2.1: a learner catches up, then is promoted; it counts for quorum only afterwards")
    func learnerCatchUpThenPromote() {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        for index in 0..<5 { cluster.propose(1, "v\(index)") }
        cluster.addEmptyNode(4)
        #expect(cluster[1].proposeConfChange(ConfChange(.addLearner, node: 4)).isSuccess)
        cluster.tickAll(3)
        #expect(cluster[4].conf.learners == [4])
        #expect(cluster.appliedValues(4) == cluster.appliedValues(1))
        // The leader names it as ready for promotion; a follower names nothing, whatever it knows.
        #expect(cluster[1].caughtUpLearner() == 4)
        #expect(cluster[2].caughtUpLearner() == nil)
        #expect(cluster[1].proposeConfChange(ConfChange(.promoteLearner, node: 4)).isSuccess)
        cluster.tickAll(3)
        for id: NodeID in 1...4 { #expect(cluster[id].conf.voters == [1, 2, 3, 4]) }
        #expect(cluster[1].caughtUpLearner() == nil)
    }

    @Test("§4.2.1: promoting a learner that has not caught up is refused")
    func laggingLearnerNotPromoted() {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.addEmptyNode(4)
        _ = cluster[1].proposeConfChange(ConfChange(.addLearner, node: 4))
        cluster.deliverAll { $0.to != 4 }
        cluster.isolate(4)
        cluster.tickAll(2)
        #expect(cluster[1].conf.learners == [4])
        #expect(cluster[1].caughtUpLearner() == nil, "the rule a leader promotes by must agree with the refusal")
        if case .failure(.invalidConfChange) = cluster[1].proposeConfChange(ConfChange(.promoteLearner, node: 4)) {} else {
            Issue.record("promotion of a lagging learner must be refused")
        }
    }

    @Test("§4.1: only one membership change at a time")
    func oneChangeAtATime() {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.isolate(2)
        cluster.isolate(3)
        #expect(cluster[1].proposeConfChange(ConfChange(.addLearner, node: 4)).isSuccess)
        #expect(cluster[1].proposeConfChange(ConfChange(.addLearner, node: 5)) == .failure(.confChangeInProgress))
    }

    @Test("§4.1: changes that do not apply are refused with a reason", arguments: [
        ConfChange(.addLearner, node: 2), ConfChange(.promoteLearner, node: 9), ConfChange(.remove, node: 9),
    ])
    func invalidChangesRefused(change: ConfChange) {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        if case .failure(.invalidConfChange(let why)) = cluster[1].proposeConfChange(change) {
            #expect(why.contains("\(change.node)"))
        } else {
            Issue.record("\(change) must be refused")
        }
    }

    @Test("§4.2.2: a leader that removes itself steps down once the change commits and the rest carry on")
    func removeLeader() {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        #expect(cluster[1].proposeConfChange(ConfChange(.remove, node: 1)).isSuccess)
        cluster.deliverAll()
        #expect(!cluster[1].isLeader)
        cluster.crash(1)
        let next = cluster.electAmong([2, 3])
        #expect(next != nil)
        if let next {
            #expect(cluster[next].conf.voters == [2, 3])
            #expect(cluster.propose(next, "after").isSuccess)
        }
    }
}

/// Leadership transfer (thesis §3.10).
@Suite("thesis §3.10 Leadership transfer")
struct TransferTests {
    @Test("§3.10: TimeoutNow hands leadership to an up-to-date follower at once")
    func transfer() {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.propose(1, "a")
        #expect(cluster[1].transferLeadership(to: 3).isSuccess)
        cluster.deliverAll()
        #expect(cluster.leaders() == [3])
        #expect(cluster.propose(3, "b").isSuccess)
    }

    @Test("§3.10: proposals are refused while a transfer is in flight; an unfinished transfer is abandoned")
    func transferBlocksProposalsThenAborts() {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.isolate(3)
        cluster.propose(1, "a")
        #expect(cluster[1].transferLeadership(to: 3).isSuccess)
        #expect(cluster[1].propose([1]) == .failure(.leadershipTransferInProgress))
        for _ in 0..<12 { cluster[1].tick(); cluster[2].tick(); cluster.deliverAll() }
        #expect(cluster[1].isLeader)
        #expect(cluster[1].propose([1]).isSuccess)
    }

    @Test("§3.10: transfer to a non-voter or to itself is refused")
    func invalidTargets() {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        #expect(cluster[1].transferLeadership(to: 1).failureValue == (.invalidTransferTarget(1)))
        #expect(cluster[1].transferLeadership(to: 9).failureValue == (.invalidTransferTarget(9)))
    }
}

extension Result {
    var isSuccess: Bool { if case .success = self { return true } else { return false } }
    var failureValue: Failure? { if case .failure(let error) = self { return error } else { return nil } }
}
