import RaftCore

/// Messages covering every payload case, and a seeded generator of random ones.
enum MessageSamples {
    static let everyCase: [Message] = [
        Message(from: 1, to: 2, term: 7, payload: .appendEntries(prevIndex: 10, prevTerm: 6, entries: [], commit: 9)),
        Message(from: 1, to: 2, term: 7, payload: .appendEntries(
            prevIndex: 10, prevTerm: 6,
            entries: [
                Entry(term: 7, index: 11, kind: .normal, data: Array("put k v".utf8)),
                Entry(term: 7, index: 12, kind: .confChange, data: ConfChange(.addLearner, node: 4).encoded),
                Entry(term: 7, index: 13, kind: .normal, data: []),
            ],
            commit: 10)),
        Message(from: 2, to: 1, term: 7, payload: .appendResponse(success: true, index: 13, conflictTerm: 0, conflictIndex: 0)),
        Message(from: 2, to: 1, term: 7, payload: .appendResponse(success: false, index: 10, conflictTerm: 5, conflictIndex: 8)),
        Message(from: 3, to: 1, term: 8, payload: .requestVote(lastIndex: 13, lastTerm: 7, preVote: true, transfer: false)),
        Message(from: 3, to: 2, term: 8, payload: .requestVote(lastIndex: 13, lastTerm: 7, preVote: false, transfer: true)),
        Message(from: 1, to: 3, term: 8, payload: .voteResponse(granted: true, preVote: true)),
        Message(from: 2, to: 3, term: 8, payload: .voteResponse(granted: false, preVote: false)),
        Message(from: 1, to: 2, term: 9, payload: .heartbeat(commit: 13, readSeq: 42)),
        Message(from: 2, to: 1, term: 9, payload: .heartbeatResponse(readSeq: 42)),
        Message(from: 1, to: 3, term: 9, payload: .installSnapshot(Snapshot(
            index: 100, term: 9, conf: ConfState(voters: [1, 2, 3], learners: [4]), data: Array(0...255)))),
        Message(from: 1, to: 3, term: 9, payload: .installSnapshot(Snapshot())),
        Message(from: 1, to: 2, term: 9, payload: .timeoutNow),
        Message(from: 2, to: 1, term: 9, payload: .readIndexRequest(context: .max)),
        Message(from: 1, to: 2, term: .max, payload: .readIndexResponse(context: 77, index: .max)),
    ]

    static func random(using rng: inout SplitMix64) -> Message {
        func u64() -> UInt64 {
            // Mix small values (the common case) with extremes so both ends of the range are exercised.
            switch rng.next() % 4 {
            case 0: return rng.next() % 16
            case 1: return .max - rng.next() % 4
            default: return rng.next()
            }
        }
        func bool() -> Bool { rng.next() & 1 == 1 }
        func bytes(_ maximum: Int) -> [UInt8] {
            let count = Int(rng.next() % UInt64(maximum + 1))
            return (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        }
        let payload: Message.Payload
        switch rng.next() % 10 {
        case 0:
            let entries = (0..<Int(rng.next() % 5)).map { _ in
                Entry(term: u64(), index: u64(), kind: EntryKind(rawValue: UInt8(rng.next() % 4)) ?? .normal, data: bytes(24))
            }
            payload = .appendEntries(prevIndex: u64(), prevTerm: u64(), entries: entries, commit: u64())
        case 1: payload = .appendResponse(success: bool(), index: u64(), conflictTerm: u64(), conflictIndex: u64())
        case 2: payload = .requestVote(lastIndex: u64(), lastTerm: u64(), preVote: bool(), transfer: bool())
        case 3: payload = .voteResponse(granted: bool(), preVote: bool())
        case 4: payload = .heartbeat(commit: u64(), readSeq: u64())
        case 5: payload = .heartbeatResponse(readSeq: u64())
        case 6:
            var ids = Array(Set((0..<Int(rng.next() % 6)).map { _ in 1 + rng.next() % 9 })).sorted()
            let learnerCount = ids.isEmpty ? 0 : Int(rng.next() % UInt64(ids.count))
            let learners = Array(ids.suffix(learnerCount))
            ids.removeLast(learnerCount)
            payload = .installSnapshot(Snapshot(index: u64(), term: u64(), conf: ConfState(voters: ids, learners: learners),
                                                data: bytes(40)))
        case 7: payload = .timeoutNow
        case 8: payload = .readIndexRequest(context: u64())
        default: payload = .readIndexResponse(context: u64(), index: u64())
        }
        return Message(from: u64(), to: u64(), term: u64(), payload: payload)
    }
}
