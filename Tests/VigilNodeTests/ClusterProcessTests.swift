import Foundation
import NIOHTTP1
import Testing
import VigilNode

extension ProcessTests {
    /// Failover drills against real `vigil` processes over mutual TLS on 127.0.0.1.
    @Suite("real processes", .serialized)
    struct ClusterProcessTests {
        /// The upper end of the randomised election timeout `vigil init` writes by default (10 ms × 50 ticks × 2).
        static let electionTimeoutUpperBound: Duration = .milliseconds(1_000)

        /// Writes `count` settings with `clients` concurrent clients spread over `nodes`; returns the acknowledged
        /// key → value pairs. Each write is retried a bounded number of times on 503s and connection errors.
        static func write(_ cluster: ProcessCluster, count: Int, prefix: String, clients: Int, nodes: [UInt64]) async -> [String: String] {
            await withTaskGroup(of: [String: String].self) { group in
                for client in 0..<clients {
                    group.addTask {
                        var acknowledged: [String: String] = [:]
                        for index in stride(from: client, to: count, by: clients) {
                            let key = "\(prefix)-\(index)"
                            let value = "value-\(index)-" + String(repeating: "x", count: 64)
                            for attempt in 0..<40 {
                                let node = nodes[(index + attempt) % nodes.count]
                                if let answer = await cluster.put(node, key: key, value: value), answer.status == 200 {
                                    acknowledged[key] = value
                                    break
                                }
                                try? await Task.sleep(for: .milliseconds(50))
                            }
                        }
                        return acknowledged
                    }
                }
                var all: [String: String] = [:]
                for await part in group { all.merge(part) { $1 } }
                return all
            }
        }

        /// Every acknowledged pair must be readable on `node` with a local read.
        static func missing(_ cluster: ProcessCluster, on node: UInt64, _ expected: [String: String]) async -> [String] {
            let keys = expected.keys.sorted()
            return await withTaskGroup(of: [String].self) { group in
                let clients = 8
                for client in 0..<clients {
                    group.addTask {
                        var missing: [String] = []
                        for key in stride(from: client, to: keys.count, by: clients).map({ keys[$0] }) {
                            let answer = await cluster.request(node, .GET, "/api/v1/settings/\(key)?consistency=local")
                            let setting = answer?.decode(SettingsPayloads.SettingAnswer.self)
                            if answer?.status != 200 || setting?.value != expected[key] { missing.append(key) }
                        }
                        return missing
                    }
                }
                var all: [String] = []
                for await part in group { all += part }
                return all
            }
        }

        /// Waits (bounded) until `node` has applied at least `index`.
        static func waitApplied(_ cluster: ProcessCluster, _ node: UInt64, atLeast index: UInt64, timeout: Duration) async -> Bool {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                if let view = await cluster.clusterView(node), view.appliedIndex >= index { return true }
                try? await Task.sleep(for: .milliseconds(100))
            }
            return false
        }

        static func logs(_ cluster: ProcessCluster) -> String {
            cluster.ids.map { "--- node\($0) ---\n" + cluster.logTail($0) }.joined(separator: "\n")
        }

        @Test("3 nodes elect over TLS, take 1,000 writes, survive kill -9 of the leader, and the old leader catches up")
        func failover() async throws {
            let cluster = try ProcessCluster(nodes: 3)
            for id in cluster.ids { try cluster.start(id) }
            let leader = try #require(await cluster.waitForLeader(timeout: .seconds(30)), "no leader in 30 s\n\(Self.logs(cluster))")

            var acknowledged = await Self.write(cluster, count: 1000, prefix: "before", clients: 8, nodes: cluster.ids)
            #expect(acknowledged.count == 1000, "only \(acknowledged.count) of 1000 writes acknowledged\n\(Self.logs(cluster))")

            // A plaintext client on the peer port is refused: the leader counts it and Raft never sees it.
            #expect(PlaintextProbe.isClosedByServer(port: cluster.basePort + Int(leader)), "a plaintext peer connection was not closed")

            cluster.kill9(leader)
            let killedAt = ContinuousClock.now
            let survivors = cluster.ids.filter { $0 != leader }
            var failoverTime: Duration?
            for attempt in 0..<400 where failoverTime == nil {
                let node = survivors[attempt % survivors.count]
                if let answer = await cluster.put(node, key: "after-kill", value: "first"), answer.status == 200 {
                    failoverTime = ContinuousClock.now - killedAt
                    acknowledged["after-kill"] = "first"
                } else {
                    try? await Task.sleep(for: .milliseconds(10))
                }
            }
            let measured = try #require(failoverTime, "no write succeeded after the leader was killed\n\(Self.logs(cluster))")
            print("failover: kill -9 of leader node\(leader) to the next acknowledged write took \(measured)")
            #expect(measured < Self.electionTimeoutUpperBound * 3, "failover took \(measured)")

            let more = await Self.write(cluster, count: 200, prefix: "during-outage", clients: 4, nodes: survivors)
            #expect(more.count == 200)
            acknowledged.merge(more) { $1 }

            try cluster.start(leader)
            let newLeader = try #require(await cluster.waitForLeader(among: survivors, timeout: .seconds(10)))
            let target = try #require(await cluster.clusterView(newLeader)).commitIndex
            #expect(await Self.waitApplied(cluster, leader, atLeast: target, timeout: .seconds(30)),
                    "the restarted node\(leader) did not catch up to \(target)\n\(Self.logs(cluster))")
            for node in cluster.ids {
                let missing = await Self.missing(cluster, on: node, acknowledged)
                #expect(missing.isEmpty, "node\(node) lacks \(missing.count) acknowledged writes, e.g. \(missing.prefix(5))")
            }

            // Linearizable read through a follower, and compare-and-set.
            let follower = try #require(cluster.ids.first { $0 != newLeader })
            let read = await cluster.request(follower, .GET, "/api/v1/settings/after-kill")
            #expect(read?.decode(SettingsPayloads.SettingAnswer.self)?.value == "first")
            let revision = try #require(read?.decode(SettingsPayloads.SettingAnswer.self)?.revision)
            #expect(await cluster.put(follower, key: "after-kill", value: "cas", ifMatch: revision + 1000)?.status == 409)
            #expect(await cluster.put(follower, key: "after-kill", value: "cas", ifMatch: revision)?.status == 200)

            // SIGTERM is graceful: exit 0, leadership handed over.
            #expect(await cluster.terminate(newLeader) == 0, "SIGTERM of the leader did not exit 0\n\(cluster.logTail(newLeader))")
            let remaining = cluster.ids.filter { $0 != newLeader }
            #expect(await cluster.waitForLeader(among: remaining, timeout: .seconds(10)) != nil)
            for node in remaining { #expect(await cluster.terminate(node) == 0) }
        }

        @Test("a follower far behind catches up through a snapshot; a node of another CA is refused")
        func snapshotCatchUp() async throws {
            let cluster = try ProcessCluster(nodes: 3, extraInitArguments: ["--snapshot-every", "200"])
            for id in cluster.ids { try cluster.start(id) }
            _ = try #require(await cluster.waitForLeader(timeout: .seconds(30)), "no leader in 30 s\n\(Self.logs(cluster))")
            cluster.kill9(3)

            // A node with the same id and ports but a certificate from another cluster CA dials nodes 1 and 2.
            let foreign = try ProcessCluster(nodes: 3, basePort: cluster.basePort)
            try foreign.start(3)
            let written = await Self.write(cluster, count: 700, prefix: "snap", clients: 8, nodes: [1, 2])
            #expect(written.count == 700)
            let refusedCount = await cluster.metric(1, "vigil_transport_inbound_refused_total") ?? 0
            #expect(refusedCount > 0, "node1 refused no connection from the foreign node\n\(foreign.logTail(3))")
            #expect(await cluster.clusterView(1)?.members.count == 3)
            foreign.stopAll()

            let leader = try #require(await cluster.waitForLeader(among: [1, 2], timeout: .seconds(10)))
            let view = try #require(await cluster.clusterView(leader))
            #expect(view.snapshotIndex > 0, "the leader never compacted")
            try cluster.start(3)
            #expect(await Self.waitApplied(cluster, 3, atLeast: view.commitIndex, timeout: .seconds(30)),
                    "node3 did not catch up\n\(Self.logs(cluster))")
            let installed = await cluster.metric(3, "vigil_raft_snapshots_installed_total") ?? 0
            #expect(installed >= 1, "node3 caught up without a snapshot")
            let missing = await Self.missing(cluster, on: 3, written)
            #expect(missing.isEmpty, "node3 lacks \(missing.count) writes")
        }
    }
}
