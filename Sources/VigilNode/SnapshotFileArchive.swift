import DutyModel
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Archived tickets read from the snapshot file that holds them, so a node keeps only the working set in memory.
///
/// A snapshot file already holds every archived ticket's record, and it never changes once written: reading the
/// records from it costs no second copy on disk and no write per archived ticket, and readers on any thread
/// (the Raft loop, HTTP queries, the thread writing the next snapshot) need no lock. Memory per archived ticket
/// is its index entry: 28 bytes (id, registration time, offset, length) instead of its ~270-byte record.
///
/// Each snapshot written (or installed, or loaded at start-up) brings a new archive over its own file; the state
/// switches to it (`DutyState.archiveReplaced`) and the old file is deleted. Readers that still hold the old
/// archive keep reading it through its open descriptor; it is closed when the last of them lets go.
///
/// Built in one pass (`append`) before the state that reads it is shared, then only read.
final class SnapshotFileArchive: TicketArchive, @unchecked Sendable {
    let path: String
    private let descriptor: Int32
    private var ids: [TicketID] = []
    private var registeredAt: [Timestamp] = []
    private var offsets: [UInt64] = []
    private var lengths: [UInt32] = []

    /// Opens `path` for reading; records are added with `append` in ascending id (and so file) order.
    init(path: String) throws(SnapshotFileError) {
        self.path = path
        self.descriptor = try POSIXFile.open(path, O_RDONLY)
    }

    deinit { close(descriptor) }

    var count: Int { ids.count }

    func reserveCapacity(_ capacity: Int) {
        ids.reserveCapacity(capacity)
        registeredAt.reserveCapacity(capacity)
        offsets.reserveCapacity(capacity)
        lengths.reserveCapacity(capacity)
    }

    /// The record of ticket `id`, `length` bytes at `offset` of the file.
    func append(id: TicketID, registeredAt timestamp: Timestamp, offset: UInt64, length: Int) {
        precondition(ids.last.map { $0 < id } ?? true, "archived records are indexed in ascending id order")
        ids.append(id)
        registeredAt.append(timestamp)
        offsets.append(offset)
        lengths.append(UInt32(length))
    }

    func record(of id: TicketID) throws -> [UInt8]? {
        guard let position = position(of: id) else { return nil }
        return try record(at: position)
    }

    func forEachRecord(registeredIn range: Range<Timestamp>, _ body: (TicketID, UnsafeRawBufferPointer) throws -> Void) throws {
        for position in ids.indices where range.contains(registeredAt[position]) {
            try record(at: position).withUnsafeBytes { try body(ids[position], $0) }
        }
    }

    private func record(at position: Int) throws -> [UInt8] {
        let bytes = try POSIXFile.read(descriptor, count: Int(lengths[position]), at: offsets[position], path: path)
        guard bytes.count == Int(lengths[position]) else { throw SnapshotFileError(path: path, "ends inside archived ticket \(ids[position])") }
        return bytes
    }

    /// Reads the file in windows of about 1 MiB (records lie in file order), not one system call per record.
    func forEachRecord(_ body: (TicketID, UnsafeRawBufferPointer) throws -> Void) throws {
        var position = 0
        while position < ids.count {
            let windowStart = offsets[position]
            var end = position
            var windowEnd = windowStart
            while end < ids.count, end == position || offsets[end] + UInt64(lengths[end]) - windowStart <= Self.windowBytes {
                windowEnd = offsets[end] + UInt64(lengths[end])
                end += 1
            }
            let window = try POSIXFile.read(descriptor, count: Int(windowEnd - windowStart), at: windowStart, path: path)
            guard window.count == Int(windowEnd - windowStart) else { throw SnapshotFileError(path: path, "ends inside an archived ticket") }
            try window.withUnsafeBytes { raw in
                for index in position..<end {
                    let start = Int(offsets[index] - windowStart)
                    try body(ids[index], UnsafeRawBufferPointer(rebasing: raw[start..<start + Int(lengths[index])]))
                }
            }
            position = end
        }
    }

    static let windowBytes: UInt64 = 1 << 20

    private func position(of id: TicketID) -> Int? {
        var low = 0
        var high = ids.count
        while low < high {
            let middle = (low + high) / 2
            if ids[middle] < id { low = middle + 1 } else { high = middle }
        }
        return low < ids.count && ids[low] == id ? low : nil
    }
}
