import RaftCore
import SQLiteSupport
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The durable Raft log as append-only segment files in one directory, as etcd's WAL keeps it: each `persist` is one
/// checksummed record written into preallocated space and made durable with one `fdatasync`.
///
/// **Files.** `wal-<number>.seg`, numbered from 1 in hex, each preallocated (`segmentBytes`) and begun with a header
/// (format version, cluster id, node id, number) and the hard state and snapshot in force when it was cut, so older
/// segments can be deleted once a compaction covers their entries. A new segment is written under a temporary name,
/// synced, then renamed into place; a `LOCK` file held with `flock` keeps a second process out.
///
/// **Recovery.** Opening replays every record. A damaged record in any segment but the last, or one followed by a
/// valid record, is corruption and the log is refused without a byte changed. Damage at the very end of the last
/// segment with nothing valid after it is the write a crash interrupted (it was never acknowledged: `persist`
/// returns only after its `fdatasync`); those bytes are zeroed and writing resumes there (`repairedTailBytes`).
///
/// Every write is checked against the Raft log invariants first (`LogWriteRules`) and refused whole if it breaks one.
/// After a failed write or sync the log refuses every later write: Linux may drop the dirty pages of a failed
/// `fdatasync` and report the next one as a success, so only a restart, which re-reads the disk, is safe.
public final class SegmentLog: LogStorage {
    public static let formatVersion: UInt32 = 1
    /// etcd's segment size: large enough that cutting a segment (one rename, two syncs) is rare.
    public static let defaultSegmentBytes = 64 << 20

    public let directory: String
    public let clusterID: String
    public let nodeID: NodeID
    /// Bytes of an interrupted last write found at open and zeroed; 0 after a clean stop.
    public let repairedTailBytes: Int
    private let segmentBytes: Int
    private let state: Mutex<State>

    private struct Segment {
        var number: UInt64
        /// The highest entry index written into it: it may go once a compaction reaches this.
        var highestEntryIndex: LogIndex
    }

    private struct State {
        var shape: LogShape
        var snapshot: Snapshot
        /// Terms of the entries after the snapshot, for the write rules.
        var terms: [Term]
        var segments: [Segment]
        var fd: Int32
        var lockFD: Int32
        var offset: Int
        var capacity: Int
        var nextSequence: UInt64
        /// What the last scan read, until the next write changes it.
        var loaded: PersistedState?
        var failure: String?

        func term(at index: LogIndex) -> Term? {
            if index == shape.snapshotIndex { return shape.snapshotTerm }
            guard index > shape.snapshotIndex, index <= shape.lastIndex else { return nil }
            return terms[Int(index - shape.snapshotIndex - 1)]
        }
    }

    /// Opens the log in `directory`, creating it if absent; refuses a damaged, foreign or newer one untouched.
    public init(directory: String, clusterID: String, nodeID: NodeID, segmentBytes: Int = SegmentLog.defaultSegmentBytes) throws(StorageError) {
        guard !clusterID.isEmpty, nodeID != noNode else {
            throw .invariant(path: directory, violation: "a log needs a non-empty cluster id and a non-zero node id, got \"\(clusterID)\" and \(nodeID)")
        }
        precondition(segmentBytes >= 4096, "segments smaller than a page make no sense")
        self.directory = directory
        self.clusterID = clusterID
        self.nodeID = nodeID
        self.segmentBytes = segmentBytes
        if !FileSystem.exists(directory) {
            try Self.create(directory: directory, clusterID: clusterID, nodeID: nodeID, segmentBytes: segmentBytes)
        } else if !SegmentFiles.isDirectory(directory) {
            throw .notASegmentLog(path: directory, detail: "a segment log is a directory, this is a file")
        }
        let lockFD = try SegmentFiles.open(directory + "/LOCK", flags: O_RDWR | O_CREAT)
        guard flock(lockFD, LOCK_EX | LOCK_NB) == 0 else {
            Glibc.close(lockFD)
            throw .inUse(path: directory)
        }
        do throws(StorageError) {
            let scan = try Self.scan(directory: directory, clusterID: clusterID, nodeID: nodeID)
            // Only now, with everything validated, is anything changed.
            for name in scan.leftovers { unlink(directory + "/" + name) }
            let lastPath = Self.path(directory, scan.segments.last!.number)
            let fd = try SegmentFiles.open(lastPath, flags: O_RDWR)
            if scan.dirtyEnd > scan.writeOffset {
                do throws(StorageError) {
                    try SegmentFiles.writeAll(fd, [UInt8](repeating: 0, count: scan.dirtyEnd - scan.writeOffset), at: scan.writeOffset, path: lastPath)
                    try SegmentFiles.dataSync(fd, path: lastPath)
                } catch {
                    Glibc.close(fd)
                    throw error
                }
            }
            self.repairedTailBytes = scan.dirtyEnd - scan.writeOffset
            let replayed = scan.replayed
            let snapshot = replayed.snapshot
            let shape = LogShape(snapshotIndex: snapshot.index, snapshotTerm: snapshot.term,
                                 lastIndex: replayed.entries.last?.index ?? snapshot.index,
                                 lastTerm: replayed.entries.last?.term ?? snapshot.term, hardState: replayed.hardState)
            self.state = Mutex(State(
                shape: shape, snapshot: snapshot, terms: replayed.entries.map(\.term), segments: scan.segments, fd: fd, lockFD: lockFD,
                offset: scan.writeOffset, capacity: scan.capacity, nextSequence: scan.nextSequence, loaded: replayed, failure: nil))
        } catch {
            Glibc.close(lockFD)
            throw error
        }
    }

    public func load() throws(StorageError) -> PersistedState {
        try state.withLock { state throws(StorageError) -> PersistedState in
            guard state.fd >= 0 else { throw closed("load") }
            if let loaded = state.loaded { return loaded }
            let replayed = try Self.scan(directory: directory, clusterID: clusterID, nodeID: nodeID).replayed
            state.loaded = replayed
            return replayed
        }
    }

    /// Persists one `Ready` as one record, in this order: if `snapshot` is given, store it and drop every entry (the
    /// log restarts after it); if `entries` is non-empty, drop stored entries from `entries[0].index` on and append
    /// these; if `hardState` is given, store it. Returns once the record is on disk.
    public func persist(hardState: HardState?, entries: [Entry], snapshot: Snapshot?) throws(StorageError) {
        guard hardState != nil || !entries.isEmpty || snapshot != nil else { return }
        try state.withLock { state throws(StorageError) in
            try usable(state, "persist")
            let expected = try checked {
                try LogWriteRules.checkPersist(hardState: hardState, entries: entries, snapshot: snapshot,
                                               current: state.shape, storedTerm: { state.term(at: $0) })
            }
            let batch = SegmentRecord.Batch(snapshot: snapshot.map { ($0, .install) }, entries: entries, hardState: hardState)
            try append(SegmentRecord.encode(batch), &state)
            state.loaded = nil
            if let snapshot {
                state.snapshot = snapshot
                state.terms = []
            }
            if let first = entries.first {
                state.terms.removeSubrange(Int(first.index - expected.snapshotIndex - 1)...)
                state.terms += entries.map(\.term)
                state.segments[state.segments.count - 1].highestEntryIndex = max(state.segments.last!.highestEntryIndex, entries.last!.index)
            }
            state.shape = expected
            assert(state.terms.count == Int(state.shape.lastIndex - state.shape.snapshotIndex))
        }
    }

    /// Records the snapshot the application took and drops the entries it covers; deletes the segments that then
    /// hold nothing needed.
    public func compact(to snapshot: Snapshot) throws(StorageError) {
        try state.withLock { state throws(StorageError) in
            try usable(state, "compact")
            let expected = try checked {
                try LogWriteRules.checkCompaction(to: snapshot, current: state.shape, storedTerm: { state.term(at: $0) })
            }
            try append(SegmentRecord.encode(SegmentRecord.Batch(snapshot: (snapshot, .compact))), &state)
            state.loaded = nil
            state.terms.removeFirst(min(state.terms.count, Int(snapshot.index - state.shape.snapshotIndex)))
            state.snapshot = snapshot
            state.shape = expected
            var removed = false
            while state.segments.count > 1, state.segments[0].highestEntryIndex <= snapshot.index {
                unlink(Self.path(directory, state.segments[0].number))
                state.segments.removeFirst()
                removed = true
            }
            if removed { try SegmentFiles.syncDirectory(directory) }
        }
    }

    /// Where the next record goes in the last segment (for tests that damage records).
    var appendOffset: Int { state.withLock { $0.offset } }

    public var sizeBytes: Int64 {
        let numbers = state.withLock { $0.segments.map(\.number) }
        return numbers.reduce(0) { $0 + FileSystem.sizeBytes(Self.path(directory, $1)) }
    }

    /// Closes the files; later calls fail with `StorageError.database`. Closing twice is harmless.
    public func close() throws(StorageError) {
        state.withLock { state in
            guard state.fd >= 0 else { return }
            Glibc.close(state.fd)
            // Unlocked explicitly: a child process forked meanwhile shares the lock until it execs.
            flock(state.lockFD, LOCK_UN)
            Glibc.close(state.lockFD)
            state.fd = -1
            state.loaded = nil
        }
    }

    // MARK: - Writing

    private func closed(_ operation: String) -> StorageError {
        .database(path: directory, operation: operation, message: "the store was closed")
    }

    /// Runs a write-rule check; a broken rule becomes `StorageError.invariant`, and nothing is written.
    private func checked(_ rule: () throws -> LogShape) throws(StorageError) -> LogShape {
        do { return try rule() } catch let violation as LogRuleViolation {
            throw .invariant(path: directory, violation: violation.message)
        } catch {
            throw .invariant(path: directory, violation: "\(error)")
        }
    }

    private func usable(_ state: State, _ operation: String) throws(StorageError) {
        guard state.fd >= 0 else { throw closed(operation) }
        if let failure = state.failure {
            throw .database(path: directory, operation: operation, message: "an earlier write failed (\(failure)); restart the node to re-read the disk")
        }
    }

    /// Frames `payload` as the next record and makes it durable, cutting a new segment first when it does not fit.
    private func append(_ payload: [UInt8], _ state: inout State) throws(StorageError) {
        let framedBytes = SegmentRecord.framedBytes(payloadBytes: payload.count)
        do throws(StorageError) {
            if state.offset + framedBytes > state.capacity { try cutSegment(fitting: framedBytes, &state) }
            var record: [UInt8] = []
            record.reserveCapacity(framedBytes)
            SegmentRecord.append(kind: .batch, sequence: state.nextSequence, payload: payload, to: &record)
            let path = Self.path(directory, state.segments.last!.number)
            try SegmentFiles.writeAll(state.fd, record, at: state.offset, path: path)
            try SegmentFiles.dataSync(state.fd, path: path)
            state.offset += framedBytes
            state.nextSequence += 1
        } catch {
            state.failure = error.description
            throw error
        }
    }

    private func cutSegment(fitting recordBytes: Int, _ state: inout State) throws(StorageError) {
        let number = state.segments.last!.number + 1
        let identity = SegmentRecord.Identity(formatVersion: Self.formatVersion, clusterID: clusterID, nodeID: nodeID, segmentNumber: number)
        let start = Self.segmentStart(identity, sequence: state.nextSequence, snapshot: state.snapshot, hardState: state.shape.hardState)
        let capacity = max(segmentBytes, start.count + recordBytes)
        let temporary = directory + "/" + Self.name(number) + ".tmp"
        let fd = try SegmentFiles.open(temporary, flags: O_RDWR | O_CREAT | O_TRUNC)
        do throws(StorageError) {
            try SegmentFiles.reserve(fd, bytes: capacity, path: temporary)
            try SegmentFiles.writeAll(fd, start, at: 0, path: temporary)
            try SegmentFiles.sync(fd, path: temporary)
            try SegmentFiles.rename(temporary, Self.path(directory, number))
            try SegmentFiles.syncDirectory(directory)
        } catch {
            Glibc.close(fd)
            throw error
        }
        Glibc.close(state.fd)
        state.fd = fd
        state.offset = start.count
        state.capacity = capacity
        state.nextSequence += 2
        state.segments.append(Segment(number: number, highestEntryIndex: 0))
    }

    /// The header and the state in force, the first two records of every segment.
    private static func segmentStart(_ identity: SegmentRecord.Identity, sequence: UInt64, snapshot: Snapshot, hardState: HardState) -> [UInt8] {
        var bytes: [UInt8] = []
        SegmentRecord.append(kind: .segmentHeader, sequence: sequence, payload: SegmentRecord.encode(identity), to: &bytes)
        let base = SegmentRecord.Batch(snapshot: (snapshot, .compact), hardState: hardState)
        SegmentRecord.append(kind: .batch, sequence: sequence + 1, payload: SegmentRecord.encode(base), to: &bytes)
        return bytes
    }

    /// A new, empty log: the final path holds a complete one or nothing.
    private static func create(directory: String, clusterID: String, nodeID: NodeID, segmentBytes: Int) throws(StorageError) {
        let building = directory + ".creating"
        if FileSystem.exists(building) {
            for name in (try? SegmentFiles.names(in: building)) ?? [] { unlink(building + "/" + name) }
            rmdir(building)
        }
        guard mkdir(building, 0o755) == 0 else { throw SegmentFiles.failure("create directory", building) }
        let identity = SegmentRecord.Identity(formatVersion: formatVersion, clusterID: clusterID, nodeID: nodeID, segmentNumber: 1)
        let start = segmentStart(identity, sequence: 1, snapshot: Snapshot(), hardState: HardState())
        let path = building + "/" + name(1)
        let fd = try SegmentFiles.open(path, flags: O_RDWR | O_CREAT | O_TRUNC)
        defer { Glibc.close(fd) }
        try SegmentFiles.reserve(fd, bytes: segmentBytes, path: path)
        try SegmentFiles.writeAll(fd, start, at: 0, path: path)
        try SegmentFiles.sync(fd, path: path)
        Glibc.close(try SegmentFiles.open(building + "/LOCK", flags: O_RDWR | O_CREAT))
        try SegmentFiles.syncDirectory(building)
        try SegmentFiles.rename(building, directory)
        let parent = directory.contains("/") ? String(directory[..<directory.lastIndex(of: "/")!]) : "."
        try SegmentFiles.syncDirectory(parent.isEmpty ? "/" : parent)
    }

    // MARK: - Reading

    static func name(_ number: UInt64) -> String {
        let hex = String(number, radix: 16)
        return "wal-" + String(repeating: "0", count: max(0, 16 - hex.count)) + hex + ".seg"
    }

    static func path(_ directory: String, _ number: UInt64) -> String { directory + "/" + name(number) }

    private struct Scan {
        var replayed: PersistedState
        var segments: [Segment]
        var leftovers: [String]
        /// Where the next record goes in the last segment, and how far non-zero bytes reach beyond it.
        var writeOffset: Int
        var dirtyEnd: Int
        var capacity: Int
        var nextSequence: UInt64
    }

    /// Reads and checks every segment; throws on anything but a torn last write, and changes nothing.
    private static func scan(directory: String, clusterID: String, nodeID: NodeID) throws(StorageError) -> Scan {
        let names = try SegmentFiles.names(in: directory)
        var numbers: [UInt64] = []
        var leftovers: [String] = []
        for name in names where name.hasPrefix("wal-") {
            if name.hasSuffix(".tmp") {
                leftovers.append(name)  // a segment whose cut a crash interrupted: never renamed, never written to
                continue
            }
            guard name.hasSuffix(".seg"), let number = UInt64(name.dropFirst(4).dropLast(4), radix: 16), Self.name(number) == name else {
                throw .corrupt(path: directory + "/" + name, detail: "not a segment file name")
            }
            numbers.append(number)
        }
        guard let first = numbers.first else {
            throw .corrupt(path: directory, detail: "the directory holds no segment file")
        }
        for (offset, number) in numbers.enumerated() where number != first + UInt64(offset) {
            throw .corrupt(path: path(directory, first + UInt64(offset)), detail: "segment \(first + UInt64(offset)) is missing")
        }
        var replay = Replay()
        var segments: [Segment] = []
        var sequence: UInt64?
        var tail = (writeOffset: 0, dirtyEnd: 0, capacity: 0)
        for (position, number) in numbers.enumerated() {
            let path = path(directory, number)
            let isLast = position == numbers.count - 1
            let bytes = try SegmentFiles.readAll(path)
            guard case let .record(header) = SegmentRecord.read(bytes, at: 0), header.kind == .segmentHeader,
                  let identity = SegmentRecord.decodeIdentity(header.payload) else {
                throw .notASegmentLog(path: path, detail: "it does not start with a segment header")
            }
            guard identity.formatVersion <= formatVersion else {
                throw .newerFormat(path: path, supportedVersion: Int(formatVersion), foundVersion: Int(identity.formatVersion))
            }
            guard identity.clusterID == clusterID else {
                throw .foreignDatabase(path: path, field: "cluster id", expected: clusterID, found: identity.clusterID)
            }
            guard identity.nodeID == nodeID else {
                throw .foreignDatabase(path: path, field: "node id", expected: "\(nodeID)", found: "\(identity.nodeID)")
            }
            guard identity.segmentNumber == number else {
                throw .corrupt(path: path, detail: "its header says it is segment \(identity.segmentNumber)")
            }
            if let sequence, header.sequence != sequence {
                throw .corrupt(path: path, detail: "it starts at record \(header.sequence), the previous segment ends before record \(sequence)")
            }
            var next = header.sequence + 1
            var offset = header.end
            var highest: LogIndex = 0
            records: while true {
                switch SegmentRecord.read(bytes, at: offset) {
                case .end:
                    break records
                case let .damaged(reason):
                    guard isLast else { throw .corrupt(path: path, detail: "record at byte \(offset): \(reason), and later segments follow") }
                    break records
                case let .record(record):
                    guard record.sequence == next, record.kind == .batch, let batch = SegmentRecord.decodeBatch(record.payload) else {
                        throw .corrupt(path: path, detail: "record at byte \(offset) is record \(record.sequence), expected \(next), or cannot be read")
                    }
                    do {
                        try replay.apply(batch)
                    } catch {
                        throw .corrupt(path: path, detail: "record at byte \(offset): \(error.message)")
                    }
                    highest = max(highest, batch.entries.last?.index ?? 0)
                    offset = record.end
                    next += 1
                }
            }
            if isLast {
                if let valid = firstValidRecord(bytes, after: offset) {
                    throw .corrupt(path: path, detail: "the records end at byte \(offset) but a valid record follows at byte \(valid)")
                }
                tail = (offset, lastNonZero(bytes, after: offset), bytes.count)
            }
            sequence = next
            segments.append(Segment(number: number, highestEntryIndex: highest))
        }
        let replayed: PersistedState
        do { replayed = try replay.finish() } catch { throw .corrupt(path: directory, detail: error.message) }
        return Scan(replayed: replayed, segments: segments, leftovers: leftovers, writeOffset: tail.writeOffset,
                    dirtyEnd: tail.dirtyEnd, capacity: tail.capacity, nextSequence: sequence!)
    }

    /// The offset of the first valid record after `offset`, if any: proof that the damage is not a torn tail.
    private static func firstValidRecord(_ bytes: [UInt8], after offset: Int) -> Int? {
        let words = bytes.count / 8
        return bytes.withUnsafeBytes { raw -> Int? in
            var word = offset / 8 + 1
            while word < words {
                if UInt32(truncatingIfNeeded: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: word * 8, as: UInt64.self))) == SegmentRecord.magic,
                   case .record = SegmentRecord.read(bytes, at: word * 8) {
                    return word * 8
                }
                word += 1
            }
            return nil
        }
    }

    /// One past the last non-zero byte at or after `offset` (`offset` when all are zero).
    private static func lastNonZero(_ bytes: [UInt8], after offset: Int) -> Int {
        var end = bytes.count
        bytes.withUnsafeBytes { raw in
            while end - 8 >= offset, raw.loadUnaligned(fromByteOffset: end - 8, as: UInt64.self) == 0 { end -= 8 }
            while end > offset, raw[end - 1] == 0 { end -= 1 }
        }
        return max(end, offset)
    }

    /// The log as its records build it, checked as it goes.
    private struct Replay {
        struct Damage: Error { var message: String }

        var hardState = HardState()
        var snapshot = Snapshot()
        var entries: [Entry] = []

        mutating func apply(_ batch: SegmentRecord.Batch) throws(Damage) {
            if let (snapshot, mode) = batch.snapshot {
                self.snapshot = snapshot
                switch mode {
                case .install: entries = []
                case .compact: entries.removeFirst(entries.prefix { $0.index <= snapshot.index }.count)
                }
            }
            if let first = batch.entries.first {
                if let start = entries.first?.index {
                    guard first.index <= entries.last!.index + 1 else {
                        throw Damage(message: "entries resume at \(first.index) after entry \(entries.last!.index)")
                    }
                    entries.removeSubrange(Int(max(first.index, start) - start)...)
                }
                for (offset, entry) in batch.entries.enumerated() where entry.index != first.index + LogIndex(offset) {
                    throw Damage(message: "entry \(entry.index) is out of order")
                }
                entries += batch.entries
            }
            if let hardState = batch.hardState { self.hardState = hardState }
        }

        /// The entries after the snapshot, which must follow it without a gap.
        func finish() throws(Damage) -> PersistedState {
            let kept = entries.drop { $0.index <= snapshot.index }
            if let first = kept.first, first.index != snapshot.index + 1 {
                throw Damage(message: "entries \(snapshot.index + 1)...\(first.index - 1) after the snapshot are missing")
            }
            return PersistedState(hardState: hardState, snapshot: snapshot, entries: Array(kept))
        }
    }
}
