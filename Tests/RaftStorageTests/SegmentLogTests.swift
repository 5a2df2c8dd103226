import Foundation
import RaftCore
import Testing
@testable import RaftStorage

/// What the segment format adds to the log contract: torn last writes repaired, damage refused untouched, segments
/// cut and deleted, one process at a time.
@Suite struct SegmentLogTests {
    /// Appends `count` single-entry writes of term 1 with the commit at the last one.
    static func append(_ log: SegmentLog, from first: LogIndex, count: Int) throws {
        for index in first..<(first + LogIndex(count)) {
            try log.persist(hardState: HardState(term: 1, vote: 1, commit: index), entries: makeEntries(index...index, term: 1), snapshot: nil)
        }
    }

    static func segmentFiles(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".seg") }.sorted()
    }

    /// Flips every bit of the byte at `offset`.
    static func flip(_ path: String, at offset: Int) throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        try patch(path, at: offset, [~bytes[offset]])
    }

    static func patch(_ path: String, at offset: Int, _ bytes: [UInt8]) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        try handle.write(contentsOf: Data(bytes))
    }

    @Test func reopensWithWhatWasWritten() throws {
        let directory = try TemporaryDirectory()
        let log = try SegmentLog(directory: directory.segmentLogPath, clusterID: testCluster, nodeID: testNode)
        try Self.append(log, from: 1, count: 50)
        let before = try log.load()
        try log.close()
        let reopened = try SegmentLog(directory: directory.segmentLogPath, clusterID: testCluster, nodeID: testNode)
        #expect(try reopened.load() == before)
        #expect(before.entries.map(\.index) == Array(1...50))
        #expect(reopened.repairedTailBytes == 0)
    }

    @Test func aTornLastWriteIsZeroedAndWritingResumes() throws {
        let directory = try TemporaryDirectory()
        var log = try SegmentLog(directory: directory.segmentLogPath, clusterID: testCluster, nodeID: testNode)
        try Self.append(log, from: 1, count: 10)
        let acknowledged = try log.load()
        let end = log.appendOffset
        try log.close()
        // A crash in the middle of the next write: half a record header and some payload reached the disk.
        let segment = directory.segmentLogPath + "/" + SegmentLog.name(1)
        try Self.patch(segment, at: end, [0x56, 0x57, 0x41, 0x4C, 2, 0, 0, 0, 11, 0, 0, 0, 0, 0, 0, 0, 99, 99])
        log = try SegmentLog(directory: directory.segmentLogPath, clusterID: testCluster, nodeID: testNode)
        #expect(log.repairedTailBytes > 0)
        #expect(try log.load() == acknowledged)
        try Self.append(log, from: 11, count: 5)
        let after = try log.load()
        try log.close()
        log = try SegmentLog(directory: directory.segmentLogPath, clusterID: testCluster, nodeID: testNode)
        #expect(log.repairedTailBytes == 0)
        #expect(try log.load() == after)
        #expect(after.entries.map(\.index) == Array(1...15))
    }

    @Test func aDamagedLastRecordWithNothingAfterItIsTheInterruptedWrite() throws {
        let directory = try TemporaryDirectory()
        var log = try SegmentLog(directory: directory.segmentLogPath, clusterID: testCluster, nodeID: testNode)
        try Self.append(log, from: 1, count: 9)
        let nine = try log.load()
        try Self.append(log, from: 10, count: 1)
        let end = log.appendOffset
        try log.close()
        let segment = directory.segmentLogPath + "/" + SegmentLog.name(1)
        // A byte of the last record's payload (its hard state) never reached the disk.
        try Self.flip(segment, at: end - 12)
        log = try SegmentLog(directory: directory.segmentLogPath, clusterID: testCluster, nodeID: testNode)
        #expect(try log.load() == nine)
    }

    @Test func damageBeforeValidRecordsIsRefusedAndNothingChanges() throws {
        let directory = try TemporaryDirectory()
        let log = try SegmentLog(directory: directory.segmentLogPath, clusterID: testCluster, nodeID: testNode)
        try Self.append(log, from: 1, count: 20)
        let end = log.appendOffset
        try log.close()
        let segment = directory.segmentLogPath + "/" + SegmentLog.name(1)
        try Self.flip(segment, at: end / 2)
        let before = try FileFingerprint(path: segment)
        #expect {
            _ = try SegmentLog(directory: directory.segmentLogPath, clusterID: testCluster, nodeID: testNode)
        } throws: { error in
            guard case let .corrupt(path, detail) = error as? StorageError else { return false }
            return path == segment && detail.contains("valid record follows")
        }
        #expect(try FileFingerprint(path: segment) == before)
    }

    @Test func damageInAnEarlierSegmentIsRefused() throws {
        let directory = try TemporaryDirectory()
        let log = try SegmentLog(directory: directory.segmentLogPath, clusterID: testCluster, nodeID: testNode, segmentBytes: 4096)
        try Self.append(log, from: 1, count: 120)
        try log.close()
        let files = try Self.segmentFiles(directory.segmentLogPath)
        #expect(files.count >= 3)
        let first = directory.segmentLogPath + "/" + files[0]
        // Inside the first segment's records: they fill most of it.
        try Self.flip(first, at: 2048)
        #expect {
            _ = try SegmentLog(directory: directory.segmentLogPath, clusterID: testCluster, nodeID: testNode, segmentBytes: 4096)
        } throws: { error in
            guard case let .corrupt(path, detail) = error as? StorageError else { return false }
            return path == first && detail.contains("later segments follow")
        }
    }

    @Test func segmentsAreCutAndCompactionDeletesTheCoveredOnes() throws {
        let directory = try TemporaryDirectory()
        var log = try SegmentLog(directory: directory.segmentLogPath, clusterID: testCluster, nodeID: testNode, segmentBytes: 4096)
        var next: LogIndex = 1
        var mostSegments = 0
        for round in 0..<10 {
            try Self.append(log, from: next, count: 60)
            next += 60
            mostSegments = max(mostSegments, try Self.segmentFiles(directory.segmentLogPath).count)
            try log.compact(to: Snapshot(index: next - 5, term: 1, conf: ConfState(voters: [1, 2, 3]), data: Array("s\(round)".utf8)))
        }
        let state = try log.load()
        #expect(state.snapshot.index == next - 5)
        #expect(state.entries.map(\.index) == Array((next - 4)...(next - 1)))
        #expect(try Self.segmentFiles(directory.segmentLogPath).count <= 2, "compaction left old segments behind")
        #expect(mostSegments >= 3)
        try log.close()
        log = try SegmentLog(directory: directory.segmentLogPath, clusterID: testCluster, nodeID: testNode, segmentBytes: 4096)
        #expect(try log.load() == state)
    }

    @Test func aWriteLargerThanASegmentGetsASegmentOfItsOwn() throws {
        let directory = try TemporaryDirectory()
        var log = try SegmentLog(directory: directory.segmentLogPath, clusterID: testCluster, nodeID: testNode, segmentBytes: 4096)
        let big = Entry(term: 1, index: 1, data: [UInt8](repeating: 7, count: 20_000))
        try log.persist(hardState: HardState(term: 1, vote: 1, commit: 1), entries: [big], snapshot: nil)
        try Self.append(log, from: 2, count: 3)
        let state = try log.load()
        try log.close()
        log = try SegmentLog(directory: directory.segmentLogPath, clusterID: testCluster, nodeID: testNode, segmentBytes: 4096)
        #expect(try log.load() == state)
        #expect(state.entries.first == big)
    }

    @Test func aSegmentWhoseCutWasInterruptedIsRemoved() throws {
        let directory = try TemporaryDirectory()
        var log = try SegmentLog(directory: directory.segmentLogPath, clusterID: testCluster, nodeID: testNode)
        try Self.append(log, from: 1, count: 3)
        let state = try log.load()
        try log.close()
        let leftover = directory.segmentLogPath + "/" + SegmentLog.name(2) + ".tmp"
        #expect(FileManager.default.createFile(atPath: leftover, contents: Data([1, 2, 3])))
        log = try SegmentLog(directory: directory.segmentLogPath, clusterID: testCluster, nodeID: testNode)
        #expect(try log.load() == state)
        #expect(!FileManager.default.fileExists(atPath: leftover))
    }

    @Test func anotherClusterOrNodeIsRefused() throws {
        let directory = try TemporaryDirectory()
        try SegmentLog(directory: directory.segmentLogPath, clusterID: testCluster, nodeID: testNode).close()
        #expect {
            _ = try SegmentLog(directory: directory.segmentLogPath, clusterID: "other", nodeID: testNode)
        } throws: { error in
            guard case let .foreignDatabase(_, field, _, found) = error as? StorageError else { return false }
            return field == "cluster id" && found == testCluster
        }
        #expect {
            _ = try SegmentLog(directory: directory.segmentLogPath, clusterID: testCluster, nodeID: 2)
        } throws: { error in
            guard case let .foreignDatabase(_, field, _, _) = error as? StorageError else { return false }
            return field == "node id"
        }
    }

    @Test func garbageIsNotASegmentLog() throws {
        let directory = try TemporaryDirectory()
        try SegmentLog(directory: directory.segmentLogPath, clusterID: testCluster, nodeID: testNode).close()
        let segment = directory.segmentLogPath + "/" + SegmentLog.name(1)
        let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        try garbage.write(to: URL(fileURLWithPath: segment))
        #expect {
            _ = try SegmentLog(directory: directory.segmentLogPath, clusterID: testCluster, nodeID: testNode)
        } throws: { error in
            guard case .notASegmentLog = error as? StorageError else { return false }
            return "\(error)".contains(segment)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: segment)) == garbage)
    }

    @Test func aSecondOpenIsRefusedWhileTheFirstHoldsIt() throws {
        let directory = try TemporaryDirectory()
        let first = try SegmentLog(directory: directory.segmentLogPath, clusterID: testCluster, nodeID: testNode)
        #expect {
            _ = try SegmentLog(directory: directory.segmentLogPath, clusterID: testCluster, nodeID: testNode)
        } throws: { error in
            guard case .inUse = error as? StorageError else { return false }
            return true
        }
        try first.close()
        try SegmentLog(directory: directory.segmentLogPath, clusterID: testCluster, nodeID: testNode).close()
    }

    @Test func recordsRoundTripAndRefuseTruncation() throws {
        let batch = SegmentRecord.Batch(
            snapshot: (Snapshot(index: 7, term: 2, conf: ConfState(voters: [1, 2], learners: [3]), data: [1, 2, 3]), .install),
            entries: makeEntries(8...9, term: 2), hardState: HardState(term: 2, vote: 1, commit: 8))
        let payload = SegmentRecord.encode(batch)
        let decoded = try #require(SegmentRecord.decodeBatch(payload[...]))
        #expect(decoded.snapshot?.0 == batch.snapshot?.0 && decoded.snapshot?.1 == .install)
        #expect(decoded.entries == batch.entries && decoded.hardState == batch.hardState)
        for cut in 0..<payload.count {
            #expect(SegmentRecord.decodeBatch(payload[..<cut]) == nil, "a batch cut at \(cut) bytes decoded")
        }
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }
}
