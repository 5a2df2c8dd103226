import Foundation
import RaftCore
import Testing
@testable import RaftStorage

/// Seeded random sequences of the writes a Raft node makes (appends, elections, conflicting suffixes,
/// commits, snapshot installs, compactions, restarts), plus writes that break an invariant. After every
/// step the stored state must equal `ReferenceLog`'s; a failing seed replays exactly.
@Suite struct ReferenceModelTests {
    static let seeds: [UInt64] = [1, 2, 3, 4, 5, 6, 7, 8]
    static let stepsPerSeed = 120

    @Test(arguments: LogKind.allCases, seeds)
    func storeMatchesReferenceModel(kind: LogKind, seed: UInt64) throws {
        let directory = try TemporaryDirectory()
        var store = try kind.open(directory)
        var model = ReferenceLog()
        var random = SplitMix64(seed: seed)
        for step in 0..<Self.stepsPerSeed {
            let context = "seed \(seed) step \(step)"
            switch random.next() % 100 {
            case 0..<5:
                try store.close()
                store = try kind.open(directory)
            case 5..<20:
                let write = Self.invalidWrite(model, &random)
                do {
                    try store.persist(hardState: write.hardState, entries: write.entries, snapshot: write.snapshot)
                    Issue.record("\(context): accepted an invalid write (\(write.why))")
                    return
                } catch {
                    guard case .invariant = error else {
                        Issue.record("\(context): expected an invariant error for \(write.why), got \(error)")
                        return
                    }
                }
            case 20..<30 where model.hardState.commit > model.snapshot.index:
                let index = LogIndex.random(in: (model.snapshot.index + 1)...model.hardState.commit, using: &random)
                let snapshot = Snapshot(index: index, term: try #require(model.term(at: index)),
                                        conf: Self.randomConf(&random), data: Self.randomBytes(&random))
                try store.compact(to: snapshot)
                model.compact(to: snapshot)
            default:
                let write = Self.validWrite(model, &random)
                do {
                    try store.persist(hardState: write.hardState, entries: write.entries, snapshot: write.snapshot)
                } catch {
                    Issue.record("\(context): refused a valid write (\(write.why)): \(error)")
                    return
                }
                model.persist(hardState: write.hardState, entries: write.entries, snapshot: write.snapshot)
            }
            let stored = try store.load()
            guard stored == model.state else {
                Issue.record("\(context): stored state diverged from the model\nstored: \(stored)\nmodel:  \(model.state)")
                return
            }
        }
    }

    struct Write {
        var why: String
        var hardState: HardState?
        var entries: [Entry] = []
        var snapshot: Snapshot?
    }

    /// A write a correct Raft node could make in the model's state.
    static func validWrite(_ model: ReferenceLog, _ random: inout SplitMix64) -> Write {
        var hardState = model.hardState
        if hardState.term == 0 { hardState.term = 1 }
        switch random.next() % 6 {
        case 0:
            // Election: a higher term and maybe a vote; nothing else changes.
            hardState.term += 1
            hardState.vote = random.next() % 2 == 0 ? noNode : NodeID.random(in: 1...5, using: &random)
            return Write(why: "new term", hardState: hardState)
        case 1:
            // A new leader's entries overwrite the uncommitted tail from a random point.
            hardState.term += 1
            hardState.vote = NodeID.random(in: 1...5, using: &random)
            let start = LogIndex.random(in: (max(hardState.commit, model.snapshot.index) + 1)...(model.lastIndex + 1), using: &random)
            let entries = randomEntries(from: start, term: hardState.term, &random)
            return Write(why: "conflicting suffix from \(start)", hardState: hardState, entries: entries)
        case 2:
            // A leader's snapshot at or beyond our commit index replaces the whole log, also when it lands
            // inside our log (our entry there has another term, so the log after it is not to be trusted).
            let lowest = max(hardState.commit, model.snapshot.index, 1)
            let index = LogIndex.random(in: lowest...(max(lowest, model.lastIndex) + 5), using: &random)
            hardState.term = max(hardState.term, model.lastTerm)
            let snapshot = Snapshot(index: index, term: hardState.term, conf: randomConf(&random), data: randomBytes(&random))
            hardState.commit = index
            let entries = random.next() % 2 == 0 ? [] : randomEntries(from: index + 1, term: hardState.term, &random)
            return Write(why: "snapshot install at \(index)", hardState: hardState, entries: entries, snapshot: snapshot)
        case 3:
            hardState.commit = LogIndex.random(in: hardState.commit...model.lastIndex, using: &random)
            return Write(why: "commit to \(hardState.commit)", hardState: hardState)
        default:
            // Appending at the end, the commonest Ready; the commit may advance over the new entries.
            hardState.term = max(hardState.term, model.lastTerm)
            let entries = randomEntries(from: model.lastIndex + 1, term: hardState.term, &random)
            hardState.commit = LogIndex.random(in: hardState.commit...entries.last!.index, using: &random)
            let includeHardState = random.next() % 3 != 0 || hardState != model.hardState
            return Write(why: "append \(entries.count)", hardState: includeHardState ? hardState : nil, entries: entries)
        }
    }

    /// A write that breaks one invariant (chosen to be applicable to the model's state).
    static func invalidWrite(_ model: ReferenceLog, _ random: inout SplitMix64) -> Write {
        let hardState = model.hardState
        let term = max(hardState.term, 1)
        switch random.next() % 5 {
        case 0:
            return Write(why: "gap", entries: randomEntries(from: model.lastIndex + 2, term: term, &random))
        case 1:
            return Write(why: "commit beyond the log", hardState: HardState(term: term, vote: hardState.vote, commit: model.lastIndex + 1))
        case 2:
            return Write(why: "entry at the snapshot index",
                         entries: [Entry(term: term, index: model.snapshot.index, data: [1])])
        case 3:
            return Write(why: "term above the hard state",
                         entries: randomEntries(from: model.lastIndex + 1, term: term + 1, &random))
        default:
            return Write(why: "non-contiguous batch",
                         entries: [Entry(term: term, index: model.lastIndex + 1), Entry(term: term, index: model.lastIndex + 3)])
        }
    }

    static func randomEntries(from start: LogIndex, term: Term, _ random: inout SplitMix64) -> [Entry] {
        let count = LogIndex.random(in: 1...6, using: &random)
        return (start..<(start + count)).map { index in
            Entry(term: term, index: index, kind: random.next() % 8 == 0 ? .confChange : .normal, data: randomBytes(&random))
        }
    }

    static func randomBytes(_ random: inout SplitMix64) -> [UInt8] {
        (0..<Int.random(in: 0...40, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
    }

    static func randomConf(_ random: inout SplitMix64) -> ConfState {
        let nodes = (1...7).map { NodeID($0) }.shuffled(using: &random)
        let voters = Int.random(in: 1...5, using: &random)
        let learners = Int.random(in: 0...2, using: &random)
        return ConfState(voters: Array(nodes[..<voters]), learners: Array(nodes[voters..<(voters + learners)]))
    }
}
