import Testing
@testable import RaftCore

/// Log replication and commitment: Raft paper §5.3, §5.4.2 (Figure 8), §8 (no-op), flow control.
@Suite("§5.3 Log replication")
struct ReplicationTests {
    @Test("§5.3: proposals replicate, commit and apply in order on every node")
    func replicateAndCommit() {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        for value in ["a", "b", "c"] { cluster.propose(1, value) }
        cluster.tickAll(2)
        for id: NodeID in [1, 2, 3] {
            #expect(cluster.appliedValues(id) == ["a", "b", "c"])
            #expect(cluster[id].commitIndex == cluster[1].lastIndex)
        }
    }

    @Test("§8: a new leader appends a no-op of its term so it can commit without client traffic")
    func noOpAtTermStart() {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        let noOp = cluster[1].entry(at: cluster[1].lastIndex)
        #expect(noOp?.term == cluster[1].term)
        #expect(noOp?.data.isEmpty == true)
        #expect(cluster[1].commitIndex == noOp?.index)
    }

    @Test("§5.3: followers refuse proposals and name the leader; the API layer forwards")
    func followerRefusesWithHint() {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        #expect(cluster[2].propose(Array("x".utf8)) == .failure(.notLeader(leaderHint: 1)))
    }

    @Test("§5.3: a follower's conflicting suffix is replaced, found in a few round trips by term hints")
    func conflictingSuffixReplaced() {
        let cluster = TestCluster(voters: 3) { $0.maxUncommittedEntries = 1000 }
        cluster.elect(1)
        // Node 1 appends 50 entries nobody else sees, then loses leadership.
        cluster.isolate(1)
        for index in 0..<50 { _ = cluster[1].propose(Array("lost\(index)".utf8)) }
        cluster.flush()
        cluster.inFlight = []
        let newLeader = cluster.electAmong([2, 3])!
        for value in ["x", "y"] { cluster.propose(newLeader, value) }
        cluster.crash(1)
        cluster.start(1)
        cluster.heal()
        var rejections = 0
        cluster.tickAll(1)
        for _ in 0..<5 {
            cluster.nodes[newLeader]!.tick()
            cluster.deliverAll { message in
                if case .appendResponse(false, _, _, _) = message.payload, message.from == 1 { rejections += 1 }
                return true
            }
        }
        #expect(cluster.appliedValues(1).suffix(2) == ["x", "y"])
        #expect(!cluster.appliedValues(1).contains("lost0"))
        #expect(cluster[1].lastIndex == cluster[newLeader].lastIndex)
        // One diverging term costs one rejection, not fifty.
        #expect(rejections <= 2)
    }

    @Test("flow control: at most maxInflightAppends appends are outstanding to a silent follower")
    func inflightWindowBounded() {
        let cluster = TestCluster(voters: 3) { $0.maxInflightAppends = 4; $0.maxAppendBytes = 1 }
        cluster.elect(1)
        cluster.cut = [[2, 1], [3, 1]]  // acknowledgements are lost
        var appendsTo2 = 0
        for index in 0..<20 {
            _ = cluster[1].propose(Array("v\(index)".utf8))
            cluster.flush()
            appendsTo2 += cluster.inFlight.filter { $0.to == 2 && $0.kindName == "append" }.count
            cluster.inFlight = []
        }
        #expect(appendsTo2 == 4)
    }

    @Test("flow control: one append carries at most maxAppendBytes (but always one entry)")
    func appendSizeBounded() {
        let cluster = TestCluster(voters: 3) { $0.maxAppendBytes = 300 }
        cluster.elect(1)
        cluster.isolate(2)
        for _ in 0..<10 { cluster.propose(1, String(repeating: "z", count: 100)) }
        cluster.heal()
        var largest = 0
        for _ in 0..<10 {
            cluster[1].tick()
            cluster.deliverAll { message in
                if case .appendEntries(_, _, let entries, _) = message.payload, message.to == 2 {
                    largest = max(largest, entries.count)
                }
                return true
            }
        }
        #expect(largest >= 1 && largest <= 2)
        #expect(cluster[2].lastIndex == cluster[1].lastIndex)
    }

    @Test("§5.4.2: the injected commit-by-counting bug commits an old-term entry that is later overwritten")
    func figure8InjectedBugIsUnsafe() {
        let oldTermCommits = figure8OldTermCommit(bug: .commitOldTermByCounting)
        #expect(oldTermCommits, "the bug must show: the leader commits the term-2 entry alone")
        #expect(!figure8OldTermCommit(bug: nil), "the correct core never commits it alone")
    }

    /// Figure 8 (c) scripted: returns whether the term-4 leader committed the term-2 entry before any term-4 entry.
    private func figure8OldTermCommit(bug: InjectedBug?) -> Bool {
        let cluster = TestCluster(voters: 5) { $0.preVote = false; $0.checkQuorum = false; $0.injectedBug = bug; $0.maxAppendBytes = 1 }
        // (a) Node 1 leads term 2 and gets X only onto node 2.
        guard cluster.elect(1) else { return false }
        cluster.cut = [[1, 3], [1, 4], [1, 5]]
        cluster.propose(1, "X")
        let indexX = cluster[1].lastIndex
        guard cluster[2].lastIndex == indexX else { return false }
        // (b) Node 5 leads term 3 with votes from 3 and 4; its no-op at X's index reaches nobody; it dies.
        cluster.cut = []
        cluster.isolate(1)
        cluster.isolate(2)
        for _ in 0..<100 where !cluster[5].isLeader {
            cluster[5].tick()
            cluster.deliverAll { !($0.from == 5 && $0.kindName == "append") }
        }
        guard cluster[5].isLeader, cluster[5].term(at: indexX) == 3 else { return false }
        cluster.crash(5)
        // (c) Node 1 restarts, leads term 4 (votes from 2 and 3) and copies X to node 3, but never its own no-op.
        cluster.crash(1)
        cluster.start(1)
        cluster.heal()
        cluster.isolate(4)
        var committedOldAlone = false
        for _ in 0..<80 {
            cluster[1].tick()
            // Node 3 gets nothing beyond X: the term-4 no-op never reaches it. Until it holds X, appends are
            // trimmed (so it can reject the probe and be brought to X); afterwards they are lost.
            cluster.deliverAll(transform: { message in
                guard case let .appendEntries(prevIndex, prevTerm, entries, commit) = message.payload, message.to == 3 else { return message }
                if entries.allSatisfy({ $0.index <= indexX }) { return message }
                if cluster[3].lastIndex >= indexX { return nil }
                var trimmed = message
                trimmed.payload = .appendEntries(prevIndex: prevIndex, prevTerm: prevTerm, entries: entries.filter { $0.index <= indexX }, commit: commit)
                return trimmed
            })
            let commit = cluster[1].commitIndex
            if cluster[1].isLeader && commit >= indexX && cluster[1].term(at: commit) != cluster[1].term {
                committedOldAlone = true
            }
        }
        return committedOldAlone
    }
}
