import Foundation
import RaftCore

/// Measures the pure core: entries committed per second by an in-memory cluster with batched proposals.
/// Storage is a no-op and messages are delivered in-process, so the figure is the core's own ceiling.
struct ThroughputBenchmark {
    var nodes: Int
    var entries: Int
    var batch: Int
    var payloadBytes = 256

    struct Result {
        var nodes: Int
        var entries: Int
        var batch: Int
        var seconds: Double
        var messages: Int
        var line: String {
            String(format: "bench nodes=%d entries=%d batch=%d payload=256B seconds=%.2f entries_per_sec=%.0f messages=%d",
                   nodes, entries, batch, seconds, Double(entries) / seconds, messages)
        }
    }

    func run() -> Result {
        let ids = (1...nodes).map { NodeID($0) }
        var cores: [NodeID: RaftNode] = [:]
        for id in ids {
            var config = Config(id: id)
            config.randomSeed = id
            config.maxInflightAppends = 256
            cores[id] = RaftNode(config: config, persisted: .bootstrap(voters: ids))
        }
        var queue: [Message] = []
        var messages = 0
        var applied: [NodeID: LogIndex] = [:]

        func pump() {
            var progress = true
            while progress {
                progress = false
                for id in ids {
                    let core = cores[id]!
                    while core.hasReady {
                        progress = true
                        let ready = core.ready()
                        queue.append(contentsOf: ready.messages)
                        queue.append(contentsOf: ready.messagesAfterPersist)
                        if let last = ready.committedEntries.last { applied[id] = last.index }
                        core.advance(ready)
                        if let appliedIndex = applied[id], appliedIndex >= core.snapshotIndex + 20_000 {
                            _ = core.compact(through: appliedIndex, data: [])
                        }
                    }
                }
                if !queue.isEmpty {
                    progress = true
                    let batch = queue
                    queue.removeAll(keepingCapacity: true)
                    messages += batch.count
                    for message in batch { cores[message.to]?.step(message) }
                }
            }
        }

        var ticks = 0
        while !cores[1]!.isLeader && ticks < 1000 {
            cores[1]!.tick()
            ticks += 1
            pump()
        }
        precondition(cores[1]!.isLeader, "benchmark cluster did not elect node 1")
        let leader = cores[1]!
        let payload = [UInt8](repeating: 0xA5, count: payloadBytes)
        let target = leader.lastIndex + LogIndex(entries)
        let started = Date()
        while (applied[1] ?? 0) < target {
            let remaining = Int(target - leader.lastIndex)
            if remaining > 0 {
                _ = leader.propose(batch: Array(repeating: payload, count: min(batch, remaining)))
            }
            pump()
        }
        let seconds = Date().timeIntervalSince(started)
        return Result(nodes: nodes, entries: entries, batch: batch, seconds: seconds, messages: messages)
    }
}
