import Testing
@testable import RaftCore

/// Bad input never crashes the core and never changes its durable state.
@Suite("Robustness against bad messages")
struct RobustnessTests {
    private func followerOfThree() -> (TestCluster, HardState, LogIndex) {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        cluster.propose(1, "a")
        return (cluster, cluster[2].hardState, cluster[2].lastIndex)
    }

    @Test("malformed or misaddressed messages are dropped", arguments: [
        // Entries that do not continue prevIndex.
        Message(from: 1, to: 2, term: 2, payload: .appendEntries(prevIndex: 3, prevTerm: 2, entries: [Entry(term: 2, index: 9)], commit: 0)),
        // Entry terms above the message term.
        Message(from: 1, to: 2, term: 2, payload: .appendEntries(prevIndex: 3, prevTerm: 2, entries: [Entry(term: 7, index: 4)], commit: 0)),
        // prevTerm above the message term.
        Message(from: 1, to: 2, term: 2, payload: .appendEntries(prevIndex: 3, prevTerm: 5, entries: [], commit: 0)),
        // A snapshot at index 0, or with no voters.
        Message(from: 1, to: 2, term: 2, payload: .installSnapshot(Snapshot(index: 0, term: 1, conf: ConfState(voters: [1])))),
        Message(from: 1, to: 2, term: 2, payload: .installSnapshot(Snapshot(index: 50, term: 2, conf: ConfState()))),
        // Addressed to someone else, from ourselves, or from node 0.
        Message(from: 1, to: 3, term: 2, payload: .heartbeat(commit: 100, readSeq: 0)),
        Message(from: 2, to: 2, term: 9, payload: .timeoutNow),
        Message(from: 0, to: 2, term: 9, payload: .timeoutNow),
    ])
    func malformedDropped(message: Message) {
        let (cluster, hardState, lastIndex) = followerOfThree()
        cluster[2].step(message)
        #expect(cluster[2].hardState == hardState)
        #expect(cluster[2].lastIndex == lastIndex)
        #expect(cluster[2].role == .follower)
    }

    @Test("old-term messages do not change state")
    func oldTermIgnored() {
        let (cluster, hardState, lastIndex) = followerOfThree()
        cluster[2].step(Message(from: 3, to: 2, term: 1, payload: .appendEntries(prevIndex: 1, prevTerm: 1, entries: [Entry(term: 1, index: 2, data: [9])], commit: 2)))
        cluster[2].step(Message(from: 3, to: 2, term: 1, payload: .timeoutNow))
        #expect(cluster[2].hardState == hardState)
        #expect(cluster[2].lastIndex == lastIndex)
    }

    @Test("a heartbeat claiming a commit beyond our log does not commit what we lack")
    func heartbeatCommitBounded() {
        let (cluster, _, lastIndex) = followerOfThree()
        cluster[2].step(Message(from: 1, to: 2, term: cluster[2].term, payload: .heartbeat(commit: 1_000, readSeq: 0)))
        #expect(cluster[2].commitIndex <= lastIndex)
    }

    @Test("responses from unknown peers and impossible acknowledgements are ignored by the leader")
    func leaderIgnoresNonsense() {
        let (cluster, _, _) = followerOfThree()
        let commit = cluster[1].commitIndex
        let term = cluster[1].term
        cluster[1].step(Message(from: 9, to: 1, term: term, payload: .appendResponse(success: true, index: 500, conflictTerm: 0, conflictIndex: 0)))
        cluster[1].step(Message(from: 2, to: 1, term: term, payload: .appendResponse(success: true, index: 500, conflictTerm: 0, conflictIndex: 0)))
        cluster[1].step(Message(from: 9, to: 1, term: term, payload: .readIndexRequest(context: 1)))
        cluster.deliverAll()
        #expect(cluster[1].commitIndex == commit)
        #expect(cluster[1].isLeader)
    }

    @Test("ConfChange and ConfState decoders reject bad bytes", arguments: [
        [UInt8](), [7, 0, 0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 1],
    ])
    func confChangeDecoding(bytes: [UInt8]) {
        #expect(ConfChange(encoded: bytes) == nil)
        #expect(ConfState(encoded: bytes) == nil)
    }

    @Test("ConfState round-trips and refuses duplicates")
    func confStateCoding() {
        let conf = ConfState(voters: [3, 1, 2], learners: [9])
        #expect(ConfState(encoded: conf.encoded) == conf)
        #expect(ConfState(validating: [1, 1], learners: []) == nil)
        #expect(ConfState(validating: [1], learners: [1]) == nil)
    }

    @Test("the Ready contract: votes and acknowledgements wait for the disk, a leader's appends do not")
    func readySplitsMessages() {
        let cluster = TestCluster(voters: 3)
        cluster.elect(1)
        _ = cluster[1].propose([1])
        let leaderReady = cluster[1].ready()
        #expect(leaderReady.entries.count == 1)
        #expect(leaderReady.messages.allSatisfy { $0.kindName == "append" } && leaderReady.messages.count == 2)
        #expect(leaderReady.messagesAfterPersist.isEmpty)
        cluster[1].advance(leaderReady)
        cluster[2].step(leaderReady.messages.first { $0.to == 2 }!)
        let followerReady = cluster[2].ready()
        #expect(followerReady.entries.count == 1)
        #expect(followerReady.messages.isEmpty)
        #expect(followerReady.messagesAfterPersist.map(\.kindName) == ["appendResp"])
        cluster[2].advance(followerReady)
    }
}
