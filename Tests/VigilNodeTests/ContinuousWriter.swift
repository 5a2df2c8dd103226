import Foundation
import Synchronization

/// A client that writes settings keys through the cluster's nodes in turn until stopped, remembering every
/// acknowledged key and the longest pause between two acknowledgements: the load under which maintenance
/// (restarts, upgrades, certificate rotation) must lose nothing and stall nothing for long.
final class ContinuousWriter: Sendable {
    private final class State: Sendable {
        let acknowledged = Mutex<[String]>([])
        let longestGap = Mutex<Duration>(.zero)
        let stopped = Mutex(false)
        /// Answers other than 200 (and requests with no answer), by status and error code ("0" for no answer).
        let refusals = Mutex<[String: Int]>([:])
        /// Nodes the client avoids, as a client with several endpoints does after one refuses it (a refused
        /// connect would otherwise hold this client for its whole request timeout).
        let down = Mutex<Set<UInt64>>([])
    }

    private let state = State()
    private let task: Task<Void, Never>

    /// Starts writing `prefix-N` keys; bounded at `maximumAttempts` and by `stop()`.
    init(cluster: ProcessCluster, prefix: String, maximumAttempts: Int = 20_000) {
        let ids = cluster.ids
        let state = self.state
        task = Task {
            var lastSuccess = ContinuousClock.now
            for attempt in 0..<maximumAttempts where !state.stopped.withLock({ $0 }) {
                let up = ids.filter { id in !state.down.withLock { $0.contains(id) } }
                guard !up.isEmpty else {
                    try? await Task.sleep(for: .milliseconds(10))
                    continue
                }
                let key = "\(prefix)-\(attempt)"
                let answer = await cluster.put(up[attempt % up.count], key: key, value: "v")
                if let answer, answer.status == 200 {
                    let now = ContinuousClock.now
                    state.longestGap.withLock { $0 = max($0, now - lastSuccess) }
                    lastSuccess = now
                    state.acknowledged.withLock { $0.append(key) }
                } else {
                    let code = answer.flatMap { try? JSONSerialization.jsonObject(with: $0.body) as? [String: Any] }
                        .flatMap { ($0["error"] as? [String: Any])?["code"] as? String ?? $0["code"] as? String }
                    state.refusals.withLock { $0["\(answer?.status ?? 0) \(code ?? "")", default: 0] += 1 }
                    try? await Task.sleep(for: .milliseconds(10))
                }
            }
        }
    }

    func avoid(_ id: UInt64) { state.down.withLock { _ = $0.insert(id) } }
    func use(_ id: UInt64) { state.down.withLock { _ = $0.remove(id) } }

    /// Writes not acknowledged so far, by the status answered (0: no answer).
    var refusals: [String: Int] { state.refusals.withLock { $0 } }

    /// Stops and returns the acknowledged keys and the longest pause between two acknowledgements.
    func stop() async -> (keys: [String], longestGap: Duration) {
        state.stopped.withLock { $0 = true }
        await task.value
        return (state.acknowledged.withLock { $0 }, state.longestGap.withLock { $0 })
    }

    /// Keys among `keys` that `node` cannot read back.
    static func missing(_ keys: [String], in cluster: ProcessCluster, via node: UInt64) async -> [String] {
        var missing: [String] = []
        for key in keys where await cluster.request(node, .GET, "/api/v1/settings/\(key)")?.status != 200 { missing.append(key) }
        return missing
    }
}
