import RaftCore

/// The stored log's boundaries and hard state: what the write rules judge a write against.
struct LogShape: Equatable {
    var snapshotIndex: LogIndex
    var snapshotTerm: Term
    /// The last entry's index, or `snapshotIndex` when no entry follows the snapshot.
    var lastIndex: LogIndex
    /// The last entry's term, or `snapshotTerm` when no entry follows the snapshot.
    var lastTerm: Term
    var hardState: HardState
}
