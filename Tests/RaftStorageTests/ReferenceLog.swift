import RaftCore
@testable import RaftStorage

/// The store's contract written as plain array operations, to compare the real store against.
struct ReferenceLog: Equatable {
    var state = PersistedState()

    var hardState: HardState { state.hardState }
    var snapshot: Snapshot { state.snapshot }
    var lastIndex: LogIndex { state.lastIndex }
    var lastTerm: Term { state.entries.last?.term ?? state.snapshot.term }

    func term(at index: LogIndex) -> Term? {
        if index == state.snapshot.index { return state.snapshot.term }
        return state.entries.first { $0.index == index }?.term
    }

    mutating func persist(hardState: HardState?, entries: [Entry], snapshot: Snapshot?) {
        if let snapshot {
            state.snapshot = snapshot
            state.entries = []
        }
        if let first = entries.first {
            state.entries.removeAll { $0.index >= first.index }
            state.entries += entries
        }
        if let hardState { state.hardState = hardState }
    }

    mutating func compact(to snapshot: Snapshot) {
        state.snapshot = snapshot
        state.entries.removeAll { $0.index <= snapshot.index }
    }
}
