import Foundation
import NIOHTTP1
import Testing
import Synchronization
import VigilNode

extension ProcessTests {
    /// A state above the old 64 MB frame limit on real processes: a follower stranded behind the leader's compaction
    /// must catch up through a streamed snapshot, and the compaction must not cost the leader its term.
    @Suite("large state", .serialized)
    struct LargeStateProcessTests {
        /// 1,300 values of 64,000 bytes: about 83 MB of settings, well above the old single-frame limit of 64 MiB.
        static let largeValueCount = 1300
        static let largeValueBytes = 64_000

        static func largeValue(_ index: Int) -> String {
            // Distinct per key, so a follower that mixed values up would be caught.
            let head = "large-\(index)-"
            return head + String(repeating: Character(UnicodeScalar(UInt8(97 + index % 26))), count: largeValueBytes - head.utf8.count)
        }

        /// Writes every key once (bounded retries, so a write refused for a reason other than the test's is retried);
        /// returns how many were acknowledged.
        static func writeLarge(_ cluster: ProcessCluster, to node: UInt64, clients: Int) async -> Int {
            await withTaskGroup(of: Int.self) { group in
                for client in 0..<clients {
                    group.addTask {
                        var acknowledged = 0
                        for index in stride(from: client, to: largeValueCount, by: clients) {
                            for _ in 0..<10 {
                                if await cluster.put(node, key: "large-\(index)", value: largeValue(index))?.status == 200 {
                                    acknowledged += 1
                                    break
                                }
                                try? await Task.sleep(for: .milliseconds(100))
                            }
                        }
                        return acknowledged
                    }
                }
                return await group.reduce(0, +)
            }
        }

        final class Flag: Sendable {
            private let value = Mutex(false)
            func set() { value.withLock { $0 = true } }
            var isSet: Bool { value.withLock { $0 } }
        }

        struct WriterReport: Sendable {
            var acknowledged = 0
            var failed: [String] = []
            var longest: Duration = .zero
            var lastKey = ""
        }

        /// Small writes, one attempt each, from `clients` clients until `stop` says so (bounded by count and time):
        /// every failure is a write lost to the compaction.
        static func writeSmall(_ cluster: ProcessCluster, to node: UInt64, clients: Int, maximumWrites: Int, maximumTime: Duration,
                               stop: @escaping @Sendable () async -> Bool) async -> WriterReport {
            let deadline = ContinuousClock.now + maximumTime
            let stopped = Flag()
            return await withTaskGroup(of: WriterReport.self) { group in
                for client in 0..<clients {
                    group.addTask {
                        var report = WriterReport()
                        var index = 0
                        while index < maximumWrites / clients, ContinuousClock.now < deadline {
                            if client == 0, index % 20 == 0, await stop() { stopped.set() }
                            if stopped.isSet { break }
                            let key = "small-\(client)-\(index)"
                            let started = ContinuousClock.now
                            let answer = await cluster.put(node, key: key, value: "v\(index)")
                            let took = ContinuousClock.now - started
                            report.longest = max(report.longest, took)
                            if answer?.status == 200 {
                                report.acknowledged += 1
                                report.lastKey = key
                            } else {
                                report.failed.append("\(key): \(answer.map { "\($0.status) \(String(decoding: $0.body, as: UTF8.self))" } ?? "no answer")")
                            }
                            index += 1
                        }
                        return report
                    }
                }
                var total = WriterReport()
                for await part in group {
                    total.acknowledged += part.acknowledged
                    total.failed += part.failed
                    total.longest = max(total.longest, part.longest)
                    if !part.lastKey.isEmpty { total.lastKey = part.lastKey }
                }
                return total
            }
        }

        @Test("a follower behind an 83 MB snapshot catches up by chunks; the leader keeps its term and every write through its compaction")
        func strandedFollowerCatchesUp() async throws {
            // Compaction by entry count only, so that it comes after the large state and under the small writes.
            let cluster = try ProcessCluster(nodes: 3, extraInitArguments: ["--snapshot-every", "1800", "--snapshot-every-mb", "1024"])
            for id in cluster.ids { try cluster.start(id) }
            let leader = try #require(await cluster.waitForLeader(timeout: .seconds(30)), "no leader\n\(ClusterProcessTests.logs(cluster))")
            let stranded = cluster.ids.first { $0 != leader }!
            cluster.kill9(stranded)

            let large = await Self.writeLarge(cluster, to: leader, clients: 8)
            #expect(large == Self.largeValueCount)
            let before = try #require(await cluster.clusterView(leader))
            #expect(before.snapshotIndex == 0, "compacted before the large state was written; raise --snapshot-every(-mb)")
            let changesBefore = await cluster.metric(leader, "vigil_raft_leader_changes_total")

            // Small writes carry the log past the compaction point and keep going through the compaction.
            let compacted = Flag()
            let report = await Self.writeSmall(cluster, to: leader, clients: 4, maximumWrites: 20_000, maximumTime: .seconds(120)) {
                if let view = await cluster.clusterView(leader), view.snapshotIndex > 0 {
                    // Go on for a few hundred more writes after the compaction point, then stop.
                    if compacted.isSet { return true }
                    compacted.set()
                }
                return false
            }
            #expect(compacted.isSet, "the leader never compacted\n\(ClusterProcessTests.logs(cluster))")
            #expect(report.failed.isEmpty, "\(report.failed.count) writes failed during the compaction, first: \(report.failed.prefix(3))")
            let longestRound = await cluster.metric(leader, "vigil_raft_loop_round_longest_seconds") ?? -1
            print("large-state test: \(report.acknowledged) small writes through the compaction, longest \(report.longest); longest Raft loop round on the leader \(longestRound) s")

            let after = try #require(await cluster.clusterView(leader))
            #expect(after.leader == leader && after.term == before.term, "leadership changed: term \(before.term) → \(after.term), leader \(after.leader)")
            #expect(await cluster.metric(leader, "vigil_raft_leader_changes_total") == changesBefore)
            #expect(after.snapshotIndex > 0)

            // The stranded follower comes back behind the compaction point: only a snapshot can bring it up.
            try cluster.start(stranded)
            #expect(await ClusterProcessTests.waitApplied(cluster, stranded, atLeast: after.commitIndex, timeout: .seconds(90)),
                    "node\(stranded) did not catch up\n\(ClusterProcessTests.logs(cluster))")
            #expect((await cluster.metric(stranded, "vigil_raft_snapshots_installed_total") ?? 0) >= 1)
            let transfer = try #require(await cluster.clusterView(leader)?.members.first { $0.id == stranded }?.snapshotTransfer)
            #expect(transfer.phase == .complete && transfer.totalBytes > 64 << 20, "transfer: \(transfer)")

            // A linearizable read on the caught-up follower sees the last acknowledged write, and a large value intact.
            let last = await cluster.request(stranded, .GET, "/api/v1/settings/\(report.lastKey)")
            #expect(last?.status == 200 && last?.decode(SettingsPayloads.SettingAnswer.self)?.value != nil, "last write: \(String(describing: last?.status))")
            for index in [0, Self.largeValueCount / 2, Self.largeValueCount - 1] {
                let answer = await cluster.request(stranded, .GET, "/api/v1/settings/large-\(index)?consistency=local")
                #expect(answer?.decode(SettingsPayloads.SettingAnswer.self)?.value == Self.largeValue(index), "large-\(index)")
            }
            let final = try #require(await cluster.clusterView(leader))
            #expect(final.term == before.term && final.leader == leader)
        }
    }
}
