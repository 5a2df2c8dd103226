// Prints persist throughput and latency of the two log formats side by side: the SQLite log (one fsync'd
// transaction per persist) and the segment log (one record and one fdatasync per persist), plus the bare
// disk (a pwrite and an fdatasync into a preallocated file), which neither can beat.
//
// usage: raftstorage-bench [DIRECTORY] [SECONDS_PER_SCENARIO]
import Foundation
import RaftCore
import RaftStorage

let arguments = CommandLine.arguments
let directory = arguments.count > 1 ? arguments[1] : FileManager.default.temporaryDirectory.path
let secondsPerScenario = arguments.count > 2 ? Double(arguments[2]) ?? 5 : 5
let entryBytes = 256

/// One run: persist batches of `batchSize` entries (plus the hard state, as a Ready carries) until time is up.
func run(_ format: String, batchSize: Int) throws {
    let path = "\(directory)/raftstorage-bench-\(getpid())-\(batchSize)" + (format == "sqlite" ? ".sqlite" : "")
    defer {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
    let store: any LogStorage = format == "sqlite"
        ? try RaftLogStore(path: path, clusterID: "bench", nodeID: 1)
        : try SegmentLog(directory: path, clusterID: "bench", nodeID: 1)
    defer { try? store.close() }
    let payload = [UInt8](repeating: 0xAB, count: entryBytes)
    var latenciesSeconds: [Double] = []
    var nextIndex: LogIndex = 1
    let clock = ContinuousClock()
    let start = clock.now
    let deadline = start + .seconds(secondsPerScenario)
    while clock.now < deadline {
        let entries = (0..<LogIndex(batchSize)).map { Entry(term: 1, index: nextIndex + $0, data: payload) }
        let last = nextIndex + LogIndex(batchSize) - 1
        let began = clock.now
        try store.persist(hardState: HardState(term: 1, vote: 1, commit: last), entries: entries, snapshot: nil)
        latenciesSeconds.append(Double((clock.now - began) / .milliseconds(1)) / 1000)
        nextIndex = last + 1
        // A running node compacts too; keeping the log short keeps the measurement about appends.
        if nextIndex % 10_000 < LogIndex(batchSize) {
            try store.compact(to: Snapshot(index: last, term: 1, conf: ConfState(voters: [1])))
        }
    }
    let elapsedSeconds = Double((clock.now - start) / .milliseconds(1)) / 1000
    let sorted = latenciesSeconds.sorted()
    func percentileMilliseconds(_ fraction: Double) -> String {
        let value = sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))] * 1000
        return String(format: "%.2f", value)
    }
    let transactionsPerSecond = Double(sorted.count) / elapsedSeconds
    print(String(format: "%-8@ batch %3d x %d B: %7.0f persist/s  %8.0f entries/s  p50 %@ ms  p99 %@ ms  max %@ ms  (%d persists in %.1f s)",
                 format, batchSize, entryBytes, transactionsPerSecond, transactionsPerSecond * Double(batchSize),
                 percentileMilliseconds(0.50), percentileMilliseconds(0.99), percentileMilliseconds(1.0),
                 sorted.count, elapsedSeconds))
}

do {
    print("raftstorage-bench: SQLite in WAL mode with synchronous=FULL; segment files; files under \(directory)")
    for batchSize in [1, 64] {
        for format in ["sqlite", "segments"] { try run(format, batchSize: batchSize) }
        try bareDisk(batchSize: batchSize)
    }
} catch {
    FileHandle.standardError.write(Data("raftstorage-bench: \(error)\n".utf8))
    exit(1)
}

/// The floor: the same bytes written with pwrite into a preallocated file, each followed by fdatasync.
func bareDisk(batchSize: Int) throws {
    let path = "\(directory)/raftstorage-bench-\(getpid())-bare"
    let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0, posix_fallocate(fd, 0, 64 << 20) == 0, fsync(fd) == 0 else { throw CocoaError(.fileWriteUnknown) }
    defer { close(fd); unlink(path) }
    let record = [UInt8](repeating: 0xAB, count: (entryBytes + 48) * batchSize)
    var latencies: [Double] = []
    var offset = 0
    let clock = ContinuousClock()
    let start = clock.now
    while clock.now < start + .seconds(secondsPerScenario) {
        if offset + record.count > 64 << 20 {
            // A fresh preallocation, as a new segment would be: rewriting written blocks would flatter the disk.
            guard ftruncate(fd, 0) == 0, posix_fallocate(fd, 0, 64 << 20) == 0, fsync(fd) == 0 else { throw CocoaError(.fileWriteUnknown) }
            offset = 0
        }
        let began = clock.now
        guard record.withUnsafeBytes({ pwrite(fd, $0.baseAddress, record.count, off_t(offset)) }) == record.count, fdatasync(fd) == 0 else {
            throw CocoaError(.fileWriteUnknown)
        }
        latencies.append(Double((clock.now - began) / .microseconds(1)) / 1_000_000)
        offset += record.count
    }
    let elapsed = Double((clock.now - start) / .milliseconds(1)) / 1000
    let sorted = latencies.sorted()
    print(String(format: "%-8@ batch %3d x %d B: %7.0f persist/s  %8.0f entries/s  p50 %.2f ms  p99 %.2f ms  (%d writes)",
                 "bare", batchSize, entryBytes, Double(sorted.count) / elapsed, Double(sorted.count * batchSize) / elapsed,
                 sorted[sorted.count / 2] * 1000, sorted[min(sorted.count - 1, sorted.count * 99 / 100)] * 1000, sorted.count))
}
