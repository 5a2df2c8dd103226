import Foundation
import HistoryCheck
import Synchronization

/// Polls every node's view of the cluster every 100 ms and keeps the leader a majority agrees on (an isolated
/// old leader may still believe it leads; it cannot make a majority say so).
final class LeaderWatcher: Sendable {
    let nodes: [Int]
    private let current = Mutex<Int?>(nil)
    private let claiming = Mutex<[Int]>([])
    private let stopped = Atomic<Bool>(false)

    init(nodes: [Int]) { self.nodes = nodes }

    func leader() -> Int? { current.withLock { $0 } }

    /// The nodes that said, at the last poll, that they lead.
    func claimants() -> [Int] { claiming.withLock { $0 } }

    func stop() { stopped.store(true, ordering: .relaxed) }

    func run(http: DrillHTTP, clock: DrillClock, recorder: DrillRecorder) async {
        var rounds = 0
        var last: LeaderRecord?
        while !stopped.load(ordering: .relaxed), rounds < 100_000 {
            rounds += 1
            let started = ContinuousClock.now
            let views = await Self.poll(http: http, nodes: nodes, timeout: .milliseconds(300))
            let leader = Self.agreed(views, clusterSize: nodes.count)
            let claimants = views.filter { $0.key == $0.value }.keys.sorted()
            let seen = LeaderRecord(atNanoseconds: clock.nanoseconds(), leader: leader, claimants: claimants,
                                    deniers: views.filter { $0.key != $0.value }.keys.sorted())
            current.withLock { $0 = leader }
            claiming.withLock { $0 = claimants }
            if last.map({ ($0.leader, $0.claimants, $0.deniers) != (seen.leader, seen.claimants, seen.deniers) }) ?? true {
                recorder.recordLeader(seen)
                last = seen
            }
            let elapsed = ContinuousClock.now - started
            if elapsed < .milliseconds(100) { try? await Task.sleep(for: .milliseconds(100) - elapsed) }
        }
    }

    /// Each node's answer: the leader it names (0 when it knows none); nodes that did not answer are absent.
    static func poll(http: DrillHTTP, nodes: [Int], timeout: Duration) async -> [Int: Int] {
        await withTaskGroup(of: (Int, Int?).self) { group in
            for node in nodes {
                group.addTask {
                    guard let answer = await http.call(.GET, node: node, "/api/v1/cluster", timeout: timeout), answer.status == 200,
                          let leader = DrillHTTP.object(answer.body)?["leader"] as? Int else { return (node, nil) }
                    return (node, leader)
                }
            }
            var views: [Int: Int] = [:]
            for await (node, leader) in group { if let leader { views[node] = leader } }
            return views
        }
    }

    /// The leader named by a majority of the cluster's nodes, itself among them (a paused or dead leader that
    /// its followers still name until they time out is no leader), if one is.
    static func agreed(_ views: [Int: Int], clusterSize: Int) -> Int? {
        var counts: [Int: Int] = [:]
        for leader in views.values where leader != 0 { counts[leader, default: 0] += 1 }
        return counts.first { $0.value >= clusterSize / 2 + 1 && views[$0.key] == $0.key }?.key
    }
}

/// Everything the drill observed, kept in memory until it writes its files (bounded by the workload's own limits).
final class DrillRecorder: Sendable {
    private struct State {
        var history: [HistoryOperation] = []
        var faults: [FaultRecord] = []
        var alerts: [(String, UInt64?)] = []
        var leaders: [LeaderRecord] = []
    }

    private let state = Mutex(State())

    func record(_ operation: HistoryOperation) { state.withLock { $0.history.append(operation) } }
    func recordFault(_ fault: FaultRecord) { state.withLock { $0.faults.append(fault) } }
    func recordAlert(_ dedupKey: String, acceptedNanoseconds: UInt64?) { state.withLock { $0.alerts.append((dedupKey, acceptedNanoseconds)) } }
    func recordLeader(_ record: LeaderRecord) { state.withLock { $0.leaders.append(record) } }

    func history() -> [HistoryOperation] { state.withLock { $0.history.sorted { ($0.callNanoseconds, $0.client) < ($1.callNanoseconds, $1.client) } } }
    func faults() -> [FaultRecord] { state.withLock { $0.faults } }
    func alerts() -> [(dedupKey: String, accepted: UInt64?)] { state.withLock { $0.alerts.map { (dedupKey: $0.0, accepted: $0.1) } } }
    func leaders() -> [LeaderRecord] { state.withLock { $0.leaders } }

    /// Acknowledged and unknown puts, and the longest an acknowledged one took.
    func writeFigures() -> (acknowledged: Int, unknown: Int, longestMilliseconds: Int) {
        state.withLock { state in
            let puts = state.history.filter { $0.op == .put && $0.client != 0 }
            let acknowledged = puts.compactMap { put in put.returnNanoseconds.map { $0 - put.callNanoseconds } }
            return (acknowledged.count, puts.count - acknowledged.count, Int((acknowledged.max() ?? 0) / 1_000_000))
        }
    }

    /// Time with no agreed leader, from the first observation to `end`.
    func leaderlessMilliseconds(until end: UInt64) -> Int {
        let leaders = self.leaders()
        var total: UInt64 = 0
        for (index, change) in leaders.enumerated() where change.leader == nil {
            let next = index + 1 < leaders.count ? leaders[index + 1].atNanoseconds : end
            total += next - change.atNanoseconds
        }
        return Int(total / 1_000_000)
    }
}
