/// Upper bounds the codec enforces on both encode and decode, so that a peer cannot make us allocate
/// more than a frame's worth of memory.
public struct WireLimits: Sendable, Equatable {
    /// Bytes after the 4-byte length prefix.
    public var maximumFrameBytes: Int
    public var maximumEntryCount: Int
    public var maximumEntryDataBytes: Int
    public var maximumSnapshotDataBytes: Int
    /// Voters plus learners in a snapshot's membership.
    public var maximumMemberCount: Int

    public init(
        maximumFrameBytes: Int = 64 << 20,
        maximumEntryCount: Int = 1 << 16,
        maximumEntryDataBytes: Int = 16 << 20,
        maximumSnapshotDataBytes: Int = (64 << 20) - 4096,
        maximumMemberCount: Int = 1024
    ) {
        precondition(maximumFrameBytes >= 2 && maximumFrameBytes <= Int(UInt32.max), "frame limit must fit the u32 prefix")
        self.maximumFrameBytes = maximumFrameBytes
        self.maximumEntryCount = maximumEntryCount
        self.maximumEntryDataBytes = maximumEntryDataBytes
        self.maximumSnapshotDataBytes = maximumSnapshotDataBytes
        self.maximumMemberCount = maximumMemberCount
    }
}
