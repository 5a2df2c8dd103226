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
        /// The attempts of the longest pause, the acknowledged one that ended it last: which node, when, how long.
        let longestGapTrace = Mutex<[String]>([])
        /// When the longest pause began and ended, to find the nodes' log lines of that time.
        let longestGapWindow = Mutex<ClosedRange<Date>?>(nil)
    }

    private let state = State()
    private let task: Task<Void, Never>

    /// Starts writing `prefix-N` keys; bounded at `maximumAttempts` and by `stop()`.
    init(cluster: ProcessCluster, prefix: String, maximumAttempts: Int = 20_000) {
        let ids = cluster.ids
        let state = self.state
        task = Task {
            var lastSuccess = ContinuousClock.now
            var lastSuccessDate = Date()
            // Attempts since the last acknowledgement, kept to say where a long pause went (cleared at each one).
            var sinceSuccess: [String] = []
            for attempt in 0..<maximumAttempts where !state.stopped.withLock({ $0 }) {
                let up = ids.filter { id in !state.down.withLock { $0.contains(id) } }
                guard !up.isEmpty else {
                    try? await Task.sleep(for: .milliseconds(10))
                    continue
                }
                let key = "\(prefix)-\(attempt)"
                let node = up[attempt % up.count]
                let (sentAt, sentAtDate) = (ContinuousClock.now, Date())
                let answer = await cluster.put(node, key: key, value: "v")
                let now = ContinuousClock.now
                let code = answer.flatMap { try? JSONSerialization.jsonObject(with: $0.body) as? [String: Any] }
                    .flatMap { ($0["error"] as? [String: Any])?["code"] as? String ?? $0["code"] as? String }
                if sinceSuccess.count < 1_000 {
                    sinceSuccess.append("\(sentAtDate.formatted(.iso8601.time(includingFractionalSeconds: true))) node\(node) \(key): "
                        + "\(answer?.status ?? 0) \(code ?? "") after \(now - sentAt)")
                }
                if let answer, answer.status == 200 {
                    if now - lastSuccess > state.longestGap.withLock({ $0 }) {
                        state.longestGap.withLock { $0 = now - lastSuccess }
                        state.longestGapTrace.withLock { $0 = sinceSuccess }
                        state.longestGapWindow.withLock { $0 = lastSuccessDate...Date() }
                    }
                    lastSuccess = now
                    lastSuccessDate = Date()
                    sinceSuccess = []
                    state.acknowledged.withLock { $0.append(key) }
                } else {
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

    /// The attempts of the longest pause (UTC times), the one acknowledged at its end last.
    var longestGapTrace: [String] { state.longestGapTrace.withLock { $0 } }

    /// The nodes' log lines written during the longest pause (to the second, with a second either side).
    func logDuringLongestGap(_ cluster: ProcessCluster) -> String {
        guard let window = state.longestGapWindow.withLock({ $0 }) else { return "" }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        var seconds: Set<String> = []
        var second = window.lowerBound.addingTimeInterval(-1)
        while second <= window.upperBound.addingTimeInterval(1), seconds.count < 30 {
            seconds.insert(formatter.string(from: second))
            second = second.addingTimeInterval(1)
        }
        return cluster.ids.map { id in
            let text = (try? String(contentsOfFile: cluster.logPath(id), encoding: .utf8)) ?? ""
            let lines = text.split(separator: "\n").filter { seconds.contains(String($0.prefix(19))) }
            return "node\(id):\n" + lines.suffix(200).joined(separator: "\n")
        }.joined(separator: "\n")
    }

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
