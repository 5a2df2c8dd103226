import Foundation
import RaftCore
import Testing
@testable import RaftStorage

/// A fresh directory under the system temp dir, removed when the value goes away.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("raftstorage-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    var logPath: String { path + "/raft.sqlite" }
    /// Where a segment log goes.
    var segmentLogPath: String { path + "/raft-log" }

    /// Copies the log and its -wal (not the -shm, which only caches the WAL index) into `other`.
    func copyCrashImage(to other: TemporaryDirectory) throws {
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: logPath + suffix) {
            try FileManager.default.copyItem(atPath: logPath + suffix, toPath: other.logPath + suffix)
        }
    }

    /// The directory's file names, sorted: shows side files (-wal, -shm) a refused open must not leave.
    func listing() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }
}

/// Size and FNV-1a 64-bit checksum of a file's bytes: equal fingerprints mean the file was left untouched.
struct FileFingerprint: Equatable, CustomStringConvertible {
    var sizeBytes: Int
    var checksum: UInt64

    init(path: String) throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        sizeBytes = bytes.count
        checksum = hash
    }

    var description: String { "\(sizeBytes) bytes, fnv1a64 \(String(checksum, radix: 16))" }
}

/// Entries `indices` of one term, each carrying its index and term so a mix-up shows in comparisons.
func makeEntries(_ indices: ClosedRange<LogIndex>, term: Term, kind: EntryKind = .normal) -> [Entry] {
    indices.map { Entry(term: term, index: $0, kind: kind, data: Array("e\($0)t\(term)".utf8)) }
}

let testCluster = "test-cluster"
let testNode: NodeID = 1

extension PersistedState {
    /// The index of the last entry, or the snapshot's index when no entry follows it.
    var lastIndex: LogIndex { entries.last?.index ?? snapshot.index }
}

/// The two log formats, so a contract test runs against both.
enum LogKind: String, CaseIterable, CustomTestStringConvertible {
    case sqlite
    case segments

    var testDescription: String { rawValue }

    func path(in directory: TemporaryDirectory) -> String {
        self == .sqlite ? directory.logPath : directory.segmentLogPath
    }

    /// Segments of 4 KiB, so that tests cut and delete segments after a few writes.
    func open(_ directory: TemporaryDirectory, clusterID: String = testCluster, nodeID: NodeID = testNode) throws -> any LogStorage {
        switch self {
        case .sqlite: try RaftLogStore(path: directory.logPath, clusterID: clusterID, nodeID: nodeID)
        case .segments: try SegmentLog(directory: directory.segmentLogPath, clusterID: clusterID, nodeID: nodeID, segmentBytes: 4096)
        }
    }
}
