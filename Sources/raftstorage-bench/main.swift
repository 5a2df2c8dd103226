// Prints persist throughput and latency. Each persist is one fsync'd SQLite transaction, so the figures
// measure the disk's fsync more than this code.
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
func run(batchSize: Int) throws {
    let path = "\(directory)/raftstorage-bench-\(getpid())-\(batchSize).sqlite"
    defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
    let store = try RaftLogStore(path: path, clusterID: "bench", nodeID: 1)
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
    print(String(format: "batch %3d x %d B: %7.0f persist/s  %8.0f entries/s  p50 %@ ms  p99 %@ ms  max %@ ms  (%d persists in %.1f s)",
                 batchSize, entryBytes, transactionsPerSecond, transactionsPerSecond * Double(batchSize),
                 percentileMilliseconds(0.50), percentileMilliseconds(0.99), percentileMilliseconds(1.0),
                 sorted.count, elapsedSeconds))
}

do {
    print("raftstorage-bench: WAL, synchronous=FULL, files under \(directory)")
    for batchSize in [1, 64] { try run(batchSize: batchSize) }
} catch {
    FileHandle.standardError.write(Data("raftstorage-bench: \(error)\n".utf8))
    exit(1)
}
