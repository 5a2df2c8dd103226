import Testing
@testable import RaftCore

/// Leader election: Raft paper §5.2 and §5.4.1, pre-vote (thesis §9.6), check-quorum (thesis §6.2).
@Suite("§5.2 Leader election")
struct ElectionTests {
    @Test("§5.2: one leader is elected and everyone follows it in the same term")
    func singleLeaderElected() {
        let cluster = TestCluster(voters: 3)
        #expect(cluster.elect(1))
        #expect(cluster.leaders() == [1])
        for id: NodeID in [2, 3] {
            #expect(cluster[id].role == .follower)
            #expect(cluster[id].leader == 1)
            #expect(cluster[id].term == cluster[1].term)
        }
    }

    @Test("§5.2: election timeouts are randomised in [T, 2T) ticks", arguments: [UInt64(1), 2, 3, 4, 5])
    func randomizedTimeouts(seed: UInt64) {
        // Count the ticks until each fresh node starts a (pre-)campaign; they must spread over [10, 20).
        var firstCampaignTicks: Set<Int> = []
        for id in NodeID(1)...20 {
            var config = Config(id: id)
            config.randomSeed = seed
            let node = RaftNode(config: config, persisted: .bootstrap(voters: Array(1...20)))
            var ticks = 0
            while node.role == .follower && ticks < 100 {
                node.tick()
                ticks += 1
            }
            #expect((10..<20).contains(ticks))
            firstCampaignTicks.insert(ticks)
        }
        #expect(firstCampaignTicks.count > 3, "timeouts should differ between nodes")
    }

    @Test("§5.2: a node grants one vote per term, and the vote is in the hard state before the reply leaves")
    func onePersistedVotePerTerm() {
        var config = Config(id: 1)
        config.preVote = false
        let voter = RaftNode(config: config, persisted: .bootstrap(voters: [1, 2, 3]))
        voter.step(Message(from: 2, to: 1, term: 2, payload: .requestVote(lastIndex: 1, lastTerm: 1, preVote: false, transfer: false)))
        let ready = voter.ready()
        #expect(ready.hardState?.vote == 2)
        #expect(ready.hardState?.term == 2)
        #expect(ready.messages.isEmpty, "a vote must not leave before it is durable")
        #expect(ready.messagesAfterPersist.first?.payload == .voteResponse(granted: true, preVote: false))
        voter.advance(ready)

        // Restart from what was persisted: the vote for 2 in term 2 must stick.
        let restarted = RaftNode(config: config, persisted: PersistedState(hardState: ready.hardState!, entries: [
            Entry(term: 1, index: 1, kind: .bootstrap, data: ConfState(voters: [1, 2, 3]).encoded),
        ]))
        restarted.step(Message(from: 3, to: 1, term: 2, payload: .requestVote(lastIndex: 1, lastTerm: 1, preVote: false, transfer: false)))
        let second = restarted.ready()
        #expect(second.messagesAfterPersist.first?.payload == .voteResponse(granted: false, preVote: false))
    }

    @Test("§5.4.1: a candidate whose log is behind gets no vote")
    func electionRestriction() {
        let cluster = TestCluster(voters: 3) { $0.preVote = false }
        cluster.elect(1)
        cluster.isolate(3)
        cluster.propose(1, "a")
        cluster.heal()
        // Node 3 missed "a"; node 2 has it, so node 2 must refuse node 3.
        cluster.isolate(1)
        #expect(!cluster.elect(3, maxTicks: 60))
        #expect(cluster[2].vote != 3)
    }

    @Test("thesis §9.6: with pre-vote, a rejoining partitioned node does not disrupt the term")
    func preVoteKeepsTermStable() {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        let term = cluster[1].term
        cluster.isolate(3)
        for _ in 0..<50 { cluster[3].tick(); cluster.deliverAll() }
        #expect(cluster[3].term == term, "pre-candidates do not bump their term")
        cluster.heal()
        cluster.tickAll(5)
        #expect(cluster[1].isLeader)
        #expect(cluster[1].term == term)
    }

    @Test("thesis §9.6: without pre-vote the same partition forces a new term (what pre-vote prevents)")
    func withoutPreVoteTermInflates() {
        let cluster = TestCluster(voters: 3) { $0.preVote = false; $0.checkQuorum = false }
        cluster.elect(1)
        let term = cluster[1].term
        cluster.isolate(3)
        for _ in 0..<50 { cluster[3].tick(); cluster.deliverAll() }
        #expect(cluster[3].term > term + 1)
    }

    @Test("thesis §6.2: check-quorum makes a leader that hears no majority step down within an election timeout")
    func checkQuorumStepsDown() {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.isolate(1)
        for _ in 0..<21 { cluster[1].tick(); cluster.deliverAll() }
        #expect(cluster[1].role == .follower)
        #expect(cluster[1].leader == noNode)
    }

    @Test("thesis §4.2.3: a follower that hears from its leader ignores a disruptive vote request (lease)")
    func leaseIgnoresDisruptiveVotes() {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        let term = cluster[2].term
        cluster[2].step(Message(from: 3, to: 2, term: term + 5, payload: .requestVote(lastIndex: 100, lastTerm: term + 4, preVote: false, transfer: false)))
        #expect(cluster[2].term == term)
        #expect(cluster[2].leader == 1)
    }

    @Test("§5.1: a message from an older term is answered with the newer term, and a stale leader steps down")
    func staleLeaderStepsDown() {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.isolate(1)
        let newLeader = cluster.electAmong([2, 3])
        #expect(newLeader != nil)
        cluster.heal()
        cluster[1].tick()
        cluster.deliverAll()
        #expect(cluster[1].role == .follower)
        #expect(cluster[1].term == cluster[newLeader ?? 2].term)
        #expect(cluster.leaders() == [newLeader ?? 2])
    }

    @Test("timers: the ticks before ticksUntilNextTimeout only count, so a host may sleep through them")
    func ticksBeforeTheNextTimeoutChangeNothing() {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.deliverAll()
        // The leader, over several heartbeat and quorum-check periods: quiet ticks, then a heartbeat or check.
        for _ in 0..<30 {
            let leader = cluster[1]
            let ticks = leader.ticksUntilNextTimeout
            #expect(ticks >= 1)
            for _ in 0..<(ticks - 1) {
                leader.tick()
                #expect(!leader.hasReady, "a tick before the next timeout changed something")
                #expect(leader.ticksUntilNextTimeout >= 1)
            }
            leader.tick()
            cluster.deliverAll()
            #expect(leader.isLeader)
        }
        // A follower that hears nothing campaigns exactly when it says it would.
        cluster.isolate(2)
        let follower = cluster[2]
        let ticks = follower.ticksUntilNextTimeout
        for _ in 0..<(ticks - 1) { follower.tick() }
        #expect(follower.role == .follower && !follower.hasReady)
        follower.tick()
        #expect(follower.role != .follower, "the election timeout ran out on the promised tick")
    }
}
