import RaftCore

/// The durable Raft log a node writes: what `RaftLoop` needs, whichever file format holds it.
public protocol LogStorage: Sendable {
    /// Everything needed to restart the core.
    func load() throws(StorageError) -> PersistedState
    /// Persists one `Ready` durably before returning (see `SegmentLog.persist` for the order of its parts).
    func persist(hardState: HardState?, entries: [Entry], snapshot: Snapshot?) throws(StorageError)
    /// Records a snapshot the application took and forgets the entries it covers.
    func compact(to snapshot: Snapshot) throws(StorageError)
    /// Bytes the log occupies on disk.
    var sizeBytes: Int64 { get }
    func close() throws(StorageError)
}

extension RaftLogStore: LogStorage {}
