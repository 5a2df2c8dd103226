import RaftCore

/// One record of a segment file, framed as
/// `magic u32 | kind u32 | sequence u64 | payload bytes u32 | crc32c u32 | payload | zeros to 8 bytes`, little-endian.
///
/// The checksum covers kind, sequence, length and payload; the sequence runs on across segments, so a record left
/// over from an older write can never pass for the next one.
enum SegmentRecord {
    static let magic: UInt32 = 0x4C41_5756  // "VWAL" in file order
    static let headerBytes = 24
    static let alignment = 8
    /// No record is this large: a Ready's entries are bounded by the transport's frame limit, far below it.
    static let maximumPayloadBytes = 1 << 30

    enum Kind: UInt32 {
        /// First record of every segment: who wrote it.
        case segmentHeader = 1
        /// One `persist` or `compact` call.
        case batch = 2
    }

    /// What a segment header says.
    struct Identity: Equatable {
        var formatVersion: UInt32
        var clusterID: String
        var nodeID: NodeID
        var segmentNumber: UInt64
    }

    /// The parts of one write, applied in this order on replay.
    struct Batch {
        enum SnapshotMode: UInt8 {
            /// A snapshot received from the leader: the log restarts after it.
            case install = 1
            /// A snapshot this node took: only the entries it covers go.
            case compact = 2
        }

        var snapshot: (Snapshot, SnapshotMode)?
        var entries: [Entry] = []
        var hardState: HardState?
    }

    // MARK: - Encoding

    /// Bytes a record with `payloadBytes` of payload takes in the file, padding included.
    static func framedBytes(payloadBytes: Int) -> Int {
        headerBytes + payloadBytes + (alignment - payloadBytes % alignment) % alignment
    }

    /// Appends the framed record to `buffer`.
    static func append(kind: Kind, sequence: UInt64, payload: [UInt8], to buffer: inout [UInt8]) {
        var header = SegmentBytes()
        header.u32(kind.rawValue)
        header.u64(sequence)
        header.u32(UInt32(payload.count))
        var crc = header.bytes.withUnsafeBytes { CRC32C.update(0, $0) }
        crc = payload.withUnsafeBytes { CRC32C.update(crc, $0) }
        var framed = SegmentBytes()
        framed.u32(magic)
        buffer += framed.bytes
        buffer += header.bytes
        framed = SegmentBytes()
        framed.u32(crc)
        buffer += framed.bytes
        buffer += payload
        buffer += repeatElement(0, count: framedBytes(payloadBytes: payload.count) - headerBytes - payload.count)
    }

    static func encode(_ identity: Identity) -> [UInt8] {
        var out = SegmentBytes()
        out.u32(identity.formatVersion)
        out.u64(identity.nodeID)
        out.u64(identity.segmentNumber)
        out.blob(Array(identity.clusterID.utf8))
        return out.bytes
    }

    static func encode(_ batch: Batch) -> [UInt8] {
        var out = SegmentBytes()
        out.u8((batch.hardState == nil ? 0 : 1) | (batch.snapshot == nil ? 0 : 2))
        if let (snapshot, mode) = batch.snapshot {
            out.u8(mode.rawValue)
            out.u64(snapshot.index)
            out.u64(snapshot.term)
            out.members(snapshot.conf.voters)
            out.members(snapshot.conf.learners)
            out.blob(snapshot.data)
        }
        out.u32(UInt32(batch.entries.count))
        for entry in batch.entries {
            out.u64(entry.index)
            out.u64(entry.term)
            out.u8(entry.kind.rawValue)
            out.blob(entry.data)
        }
        if let hardState = batch.hardState {
            out.u64(hardState.term)
            out.u64(hardState.vote)
            out.u64(hardState.commit)
        }
        return out.bytes
    }

    // MARK: - Decoding

    /// A framed record read from a file, its payload checked.
    struct Framed {
        var kind: Kind
        var sequence: UInt64
        var payload: ArraySlice<UInt8>
        /// Offset of the next record.
        var end: Int
    }

    enum ReadResult {
        case record(Framed)
        /// Zeros where a header would start: the end of what was written.
        case end
        case damaged(String)
    }

    /// Reads the record at `offset` (a multiple of `alignment`).
    static func read(_ file: [UInt8], at offset: Int) -> ReadResult {
        guard offset + headerBytes <= file.count else {
            return file[offset...].allSatisfy({ $0 == 0 }) ? .end : .damaged("a record header is cut off by the end of the file")
        }
        var reader = SegmentReader(file[offset..<(offset + headerBytes)])
        let magic = reader.u32()!
        let rawKind = reader.u32()!
        let sequence = reader.u64()!
        let length = Int(reader.u32()!)
        let crc = reader.u32()!
        if magic == 0, rawKind == 0, sequence == 0, length == 0, crc == 0 { return .end }
        guard magic == Self.magic else { return .damaged("no record marker") }
        guard let kind = Kind(rawValue: rawKind) else { return .damaged("unknown record kind \(rawKind)") }
        let payloadStart = offset + headerBytes
        guard length <= maximumPayloadBytes, payloadStart + length <= file.count else {
            return .damaged("a record of \(length) bytes runs past the end of the file")
        }
        let payload = file[payloadStart..<(payloadStart + length)]
        var computed = file.withUnsafeBytes { CRC32C.update(0, UnsafeRawBufferPointer(rebasing: $0[(offset + 4)..<(offset + 20)])) }
        computed = file.withUnsafeBytes { CRC32C.update(computed, UnsafeRawBufferPointer(rebasing: $0[payloadStart..<(payloadStart + length)])) }
        guard computed == crc else { return .damaged("checksum mismatch") }
        let end = min(file.count, offset + framedBytes(payloadBytes: length))
        guard file[(payloadStart + length)..<end].allSatisfy({ $0 == 0 }) else { return .damaged("non-zero padding") }
        return .record(Framed(kind: kind, sequence: sequence, payload: payload, end: end))
    }

    static func decodeIdentity(_ payload: ArraySlice<UInt8>) -> Identity? {
        var reader = SegmentReader(payload)
        guard let version = reader.u32(), let node = reader.u64(), let number = reader.u64(), let cluster = reader.blob(),
              reader.isAtEnd, let clusterID = String(validating: cluster, as: UTF8.self) else { return nil }
        return Identity(formatVersion: version, clusterID: clusterID, nodeID: node, segmentNumber: number)
    }

    static func decodeBatch(_ payload: ArraySlice<UInt8>) -> Batch? {
        var reader = SegmentReader(payload)
        guard let flags = reader.u8(), flags & ~3 == 0 else { return nil }
        var batch = Batch()
        if flags & 2 != 0 {
            guard let rawMode = reader.u8(), let mode = Batch.SnapshotMode(rawValue: rawMode), let index = reader.u64(),
                  let term = reader.u64(), let voters = reader.members(), let learners = reader.members(),
                  let conf = ConfState(validating: voters, learners: learners), let data = reader.blob() else { return nil }
            batch.snapshot = (Snapshot(index: index, term: term, conf: conf, data: Array(data)), mode)
        }
        guard let count = reader.u32(), Int(count) <= payload.count else { return nil }
        batch.entries.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let index = reader.u64(), let term = reader.u64(), let kind = reader.u8().flatMap(EntryKind.init(rawValue:)),
                  let data = reader.blob() else { return nil }
            batch.entries.append(Entry(term: term, index: index, kind: kind, data: Array(data)))
        }
        if flags & 1 != 0 {
            guard let term = reader.u64(), let vote = reader.u64(), let commit = reader.u64() else { return nil }
            batch.hardState = HardState(term: term, vote: vote, commit: commit)
        }
        return reader.isAtEnd ? batch : nil
    }
}

/// Little-endian output for segment records.
struct SegmentBytes {
    var bytes: [UInt8] = []

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
    mutating func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
    mutating func blob(_ value: [UInt8]) {
        u32(UInt32(value.count))
        bytes += value
    }

    mutating func members(_ nodes: [NodeID]) {
        u32(UInt32(nodes.count))
        for node in nodes { u64(node) }
    }
}

/// Little-endian input for segment records; every read is bounds-checked and nil past the end.
struct SegmentReader {
    private let bytes: ArraySlice<UInt8>
    private var position: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.position = bytes.startIndex
    }

    var isAtEnd: Bool { position == bytes.endIndex }

    mutating func u8() -> UInt8? {
        guard position < bytes.endIndex else { return nil }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func u32() -> UInt32? { fixed(4).map { UInt32(truncatingIfNeeded: $0) } }

    /// A counted list of node ids; nil if the count cannot fit in what is left.
    mutating func members() -> [NodeID]? {
        guard let count = u32().map(Int.init), count <= (bytes.endIndex - position) / 8 else { return nil }
        return (0..<count).map { _ in u64()! }
    }
    mutating func u64() -> UInt64? { fixed(8) }

    mutating func blob() -> ArraySlice<UInt8>? {
        guard let count = u32().map(Int.init), count <= bytes.endIndex - position else { return nil }
        defer { position += count }
        return bytes[position..<(position + count)]
    }

    private mutating func fixed(_ width: Int) -> UInt64? {
        guard bytes.endIndex - position >= width else { return nil }
        var value: UInt64 = 0
        for offset in (0..<width).reversed() { value = value << 8 | UInt64(bytes[position + offset]) }
        position += width
        return value
    }
}
