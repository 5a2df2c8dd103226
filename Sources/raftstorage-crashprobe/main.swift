// Persists entries one transaction at a time and prints each index once `persist` has returned.
// The crash-durability test kill -9s this process mid-stream and checks that every printed index survived.
//
// usage: raftstorage-crashprobe LOG_PATH COUNT [ENTRY_BYTES]
// A LOG_PATH ending in .sqlite is an SQLite log (RaftLogStore), any other a segment log directory (SegmentLog).
// Entry i carries i as 8 big-endian bytes, then padding up to ENTRY_BYTES (default 256).
import Foundation
import RaftCore
import RaftStorage

let arguments = CommandLine.arguments
guard arguments.count >= 3, let count = UInt64(arguments[2]), let entryBytes = Int(arguments.count > 3 ? arguments[3] : "256"), entryBytes >= 8 else {
    FileHandle.standardError.write(Data("usage: raftstorage-crashprobe LOG_PATH COUNT [ENTRY_BYTES>=8]\n".utf8))
    exit(2)
}

func payload(for index: LogIndex) -> [UInt8] {
    var bytes = (0..<8).map { UInt8(truncatingIfNeeded: index >> UInt64(56 - 8 * $0)) }
    bytes += [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: entryBytes - 8)
    return bytes
}

do {
    let store: any LogStorage = arguments[1].hasSuffix(".sqlite")
        ? try RaftLogStore(path: arguments[1], clusterID: "crashprobe", nodeID: 1)
        : try SegmentLog(directory: arguments[1], clusterID: "crashprobe", nodeID: 1)
    let state = try store.load()
    let term = max(state.hardState.term, 1)
    let first = (state.entries.last?.index ?? state.snapshot.index) + 1
    for index in first..<(first + count) {
        try store.persist(
            hardState: HardState(term: term, vote: 1, commit: index),
            entries: [Entry(term: term, index: index, data: payload(for: index))],
            snapshot: nil)
        // Written unbuffered, and only after the fsync'd commit: each line is an acknowledgement.
        FileHandle.standardOutput.write(Data("\(index)\n".utf8))
    }
} catch {
    FileHandle.standardError.write(Data("raftstorage-crashprobe: \(error)\n".utf8))
    exit(1)
}
