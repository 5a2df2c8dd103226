import ClusterTransport
import DutyModel
import Foundation
import Logging
import RaftCore
import Testing
@testable import VigilNode

/// Snapshot files and their receiving side, in process: the streamed format round-trips, a damaged file is refused,
/// and the receiver writes chunks to disk, resumes after a restart, asks for lost chunks and refuses bad data.
struct SnapshotTransferTests {
    static let logger = Logger(label: "test.snapshot")

    /// A state with settings of several sizes, a duty calendar and the counters that must survive.
    static func sampleMachine(settings count: Int = 40, valueBytes: Int = 3000) -> NodeStateMachine {
        var machine = NodeStateMachine()
        for index in 0..<count {
            let value = String(repeating: Character(UnicodeScalar(UInt8(97 + index % 26))), count: valueBytes + index)
            _ = machine.apply(ReplicatedCommand.settings(.put(key: "key-\(index)", value: value, ifRevision: nil)).encoded())
        }
        let calendar = BusinessCalendar(id: "office", timeZoneIdentifier: "Asia/Shanghai",
                                        windows: [.init(isoWeekday: 1, startMinute: 540, endMinute: 1080)])
        _ = machine.apply(ReplicatedCommand.duty(DutyProposal(command: .upsertCalendar(calendar), leaderTimestamp: 1_700_000_000_000,
                                                                actor: ActorID("admin"))).encoded())
        _ = machine.apply([0xFF, 0x00])  // an undecodable entry, counted
        return machine
    }

    static func temporaryStore() throws -> SnapshotStore {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-snap-\(UUID().uuidString.prefix(8))").path
        return try SnapshotStore(directory: directory)
    }

    static func chunks(of store: SnapshotStore, _ descriptor: SnapshotDescriptor, size: Int) throws -> [SnapshotChunk] {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: store.path(of: descriptor))))
        return stride(from: 0, to: bytes.count, by: size).map { offset in
            SnapshotChunk(from: 1, to: 2, snapshotIndex: descriptor.index, snapshotTerm: descriptor.term, totalBytes: UInt64(bytes.count),
                          checksum: descriptor.checksum, offset: UInt64(offset), data: Array(bytes[offset..<min(offset + size, bytes.count)]))
        }
    }

    @Test("a snapshot file holds exactly the state: settings, duty state, tokens and counters")
    func roundTrip() throws {
        let store = try Self.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: store.directory) }
        let machine = Self.sampleMachine()
        let descriptor = try store.write(machine, index: 42, term: 3)
        #expect(descriptor.fileName == "snap-42-3.vsnap")
        #expect(SnapshotDescriptor(decoding: descriptor.encoded) == descriptor)
        let loaded = try store.load(descriptor)
        #expect(loaded.snapshotData() == machine.snapshotData())
        #expect(loaded.undecodableEntries == 1)
        #expect(try store.restore(descriptor.encoded).settings == machine.settings)
        // An inline snapshot of an earlier version still restores.
        #expect(try store.restore(machine.snapshotData()).settings == machine.settings)
    }

    @Test("a damaged, truncated or missing file, or a descriptor of a newer format, is refused with its name")
    func refusals() throws {
        let store = try Self.temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: store.directory) }
        let descriptor = try store.write(Self.sampleMachine(), index: 7, term: 1)
        let path = store.path(of: descriptor)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count / 2] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(throws: SnapshotFileError.self) { _ = try store.load(descriptor) }

        try Data(bytes.dropLast(10)).write(to: URL(fileURLWithPath: path))
        let truncated = #expect(throws: SnapshotFileError.self) { _ = try store.load(descriptor) }
        #expect(truncated?.description.contains("snap-7-1.vsnap") == true)

        try FileManager.default.removeItem(atPath: path)
        let missing = #expect(throws: SnapshotFileError.self) { _ = try store.load(descriptor) }
        #expect(missing?.description.contains("missing") == true)

        var newer = descriptor.encoded
        newer[8] = SnapshotDescriptor.formatVersion + 1
        #expect(throws: NodeError.self) { _ = try store.restore(newer) }
    }

    @Test("chunks in order become an installed file whose state is decoded before it is confirmed")
    func receiveInOrder() throws {
        let leader = try Self.temporaryStore()
        let follower = try Self.temporaryStore()
        defer { for store in [leader, follower] { try? FileManager.default.removeItem(atPath: store.directory) } }
        let machine = Self.sampleMachine()
        let descriptor = try leader.write(machine, index: 100, term: 2)
        let receiver = SnapshotReceiver(localID: 2, store: follower, board: SnapshotTransferBoard(), logger: Self.logger)
        let chunks = try Self.chunks(of: leader, descriptor, size: 16 << 10)
        #expect(chunks.count > 3)
        for (position, chunk) in chunks.enumerated() {
            let ack = receiver.handle(chunk)
            let last = position == chunks.count - 1
            #expect(ack.status == (last ? .complete : .receiving))
            #expect(ack.receivedBytes == chunk.offset + UInt64(chunk.data.count))
        }
        #expect(follower.hasFile(descriptor))
        #expect(receiver.takePrepared(descriptor)?.snapshotData() == machine.snapshotData())
        #expect(receiver.takePrepared(descriptor) == nil, "the prepared state is handed out once")
        // The confirmation was lost and the leader starts again: confirmed at once, nothing rewritten.
        #expect(receiver.handle(chunks[0]).status == .complete)
    }

    @Test("a transfer resumes from the partial file after the receiver restarts; a gap is answered with a rewind")
    func resumeAndRewind() throws {
        let leader = try Self.temporaryStore()
        let follower = try Self.temporaryStore()
        defer { for store in [leader, follower] { try? FileManager.default.removeItem(atPath: store.directory) } }
        let machine = Self.sampleMachine()
        let descriptor = try leader.write(machine, index: 100, term: 2)
        let chunks = try Self.chunks(of: leader, descriptor, size: 8 << 10)
        let half = chunks.count / 2
        let first = SnapshotReceiver(localID: 2, store: follower, board: SnapshotTransferBoard(), logger: Self.logger)
        for chunk in chunks[..<half] { #expect(first.handle(chunk).status == .receiving) }
        // A chunk beyond the end of what arrived: the sender must go back.
        let gap = first.handle(chunks[half + 1])
        #expect(gap.status == .rewind && gap.receivedBytes == chunks[half].offset)

        // The node restarts: a new receiver finds the partial file and tells the sender where it ends.
        let board = SnapshotTransferBoard()
        let second = SnapshotReceiver(localID: 2, store: follower, board: board, logger: Self.logger)
        let resumed = second.handle(chunks[0])
        #expect(resumed.status == .receiving && resumed.receivedBytes == chunks[half].offset)
        for chunk in chunks[half...].dropLast() { #expect(second.handle(chunk).status == .receiving) }
        #expect(second.handle(chunks.last!).status == .complete)
        #expect(second.takePrepared(descriptor)?.snapshotData() == machine.snapshotData())
        #expect(board.incomingTransfers[1]?.phase == .complete)
    }

    @Test("bytes that do not match the checksum, or a snapshot above the size limit, are refused and leave no file")
    func refusedTransfers() throws {
        let leader = try Self.temporaryStore()
        let follower = try Self.temporaryStore()
        defer { for store in [leader, follower] { try? FileManager.default.removeItem(atPath: store.directory) } }
        let descriptor = try leader.write(Self.sampleMachine(), index: 9, term: 1)
        var chunks = try Self.chunks(of: leader, descriptor, size: 16 << 10)
        chunks[1].data[5] ^= 0x40
        let board = SnapshotTransferBoard()
        let receiver = SnapshotReceiver(localID: 2, store: follower, board: board, logger: Self.logger)
        let acks = chunks.map { receiver.handle($0) }
        #expect(acks.last?.status == .failed)
        #expect(!follower.hasFile(descriptor))
        #expect(board.incomingTransfers[1]?.phase == .failed)
        #expect(board.incomingTransfers[1]?.lastError?.contains("SHA-256") == true)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: follower.directory)
        #expect(leftovers.isEmpty, "left behind: \(leftovers)")

        let small = SnapshotReceiver(localID: 2, store: follower, board: board, logger: Self.logger, maximumSnapshotBytes: 1000)
        #expect(small.handle(chunks[0]).status == .failed)
    }

    @Test("snapshot stream frames round-trip through the wire codec, and bad ones are refused with the field")
    func wireFrames() throws {
        let codec = WireCodec()
        let chunk = SnapshotChunk(from: 1, to: 3, snapshotIndex: 500, snapshotTerm: 4, totalBytes: 10, checksum: [UInt8](repeating: 7, count: 32),
                                  offset: 4, data: [1, 2, 3])
        let ack = SnapshotChunkAck(from: 3, to: 1, snapshotIndex: 500, snapshotTerm: 4, receivedBytes: 7, status: .rewind)
        for frame in [SnapshotStreamFrame.chunk(chunk), .ack(ack)] {
            #expect(try codec.decodeInbound(frame: codec.encode(frame)) == .snapshotStream(frame))
        }
        var pastEnd = chunk
        pastEnd.offset = 9
        #expect(throws: WireError.self) { _ = try codec.encode(.chunk(pastEnd)) }
        var bytes = try codec.encode(.ack(ack))
        bytes[bytes.count - 1] = 9
        let error = #expect(throws: WireError.self) { _ = try codec.decodeInbound(frame: bytes) }
        #expect(error?.description.contains("status") == true)
    }
}
