import ClusterTransport
import Foundation
import Testing
import VigilNode

extension ProcessTests {
    /// The rolling-upgrade procedure of deploy/README.md: followers one at a time, the leader last after handing
    /// leadership over; each node stopped with SIGTERM, started again as the next minor release (the
    /// `VIGIL_VERSION_OVERRIDE` knob), and waited for until it has caught up. A client writes all along.
    @Suite("rolling upgrade", .serialized)
    struct RollingRestartProcessTests {
        static var nextMinor: String { "\(VigilVersion.build.major).\(VigilVersion.build.minor + 1).0" }

        /// Waits until `id` has applied what the leader had committed when it came back.
        static func waitUntilCaughtUp(_ cluster: ProcessCluster, _ id: UInt64, leader: UInt64) async throws -> Bool {
            let target = await cluster.clusterView(leader)?.commitIndex ?? 0
            for _ in 0..<300 {
                if let view = await cluster.clusterView(id), view.leader != 0, view.appliedIndex >= target { return true }
                try await Task.sleep(for: .milliseconds(50))
            }
            return false
        }

        @Test("every node upgraded in turn to the next minor while a client writes: mixed versions interoperate, nothing lost")
        func rollingUpgrade() async throws {
            let cluster = try ProcessCluster(nodes: 3)
            for id in cluster.ids { try cluster.start(id) }
            var leader = try #require(await cluster.waitForLeader(timeout: .seconds(30)))
            let (versionStatus, versionOutput) = try ProcessCluster.runToEnd(cluster.binary, ["--version"])
            #expect(versionStatus == 0 && versionOutput.contains(VigilVersion.build.description))

            let writer = ContinuousWriter(cluster: cluster, prefix: "rolling")
            let order = cluster.ids.filter { $0 != leader } + [leader]
            for (position, id) in order.enumerated() {
                if id == leader {
                    let successor = cluster.ids.first { $0 != id }!
                    let (moved, output) = try ProcessCluster.runToEnd(cluster.binary, [
                        "leader", "transfer", "--to", "\(successor)", "--cluster-dir", cluster.directory.path])
                    #expect(moved == 0, "\(output)")
                    leader = successor
                }
                writer.avoid(id)
                let exit = await cluster.terminate(id)
                #expect(exit == 0, "node \(id) stops cleanly on SIGTERM\n\(cluster.logTail(id))")
                cluster.environment = [VigilVersion.overrideVariable: Self.nextMinor]
                try cluster.start(id)
                cluster.environment = [:]
                #expect(try await Self.waitUntilCaughtUp(cluster, id, leader: leader), "node \(id) did not catch up\n\(cluster.logTail(id))")
                writer.use(id)
                leader = await cluster.waitForLeader(timeout: .seconds(30)) ?? leader
                if position == 0 {
                    // Mixed versions: the leader (old) shows the upgraded member's release from its hello.
                    var shown: String?
                    for _ in 0..<100 where shown != Self.nextMinor {
                        shown = await cluster.clusterView(leader)?.members.first { $0.id == id }?.version
                        if shown != Self.nextMinor { try await Task.sleep(for: .milliseconds(50)) }
                    }
                    #expect(shown == Self.nextMinor, "the leader shows node \(id) as \(shown ?? "nil")")
                }
            }
            let (keys, gap) = await writer.stop()
            print("rolling upgrade: \(keys.count) writes acknowledged, longest pause between two \(gap)")
            #expect(keys.count > 100, "the client kept writing (\(keys.count) writes)")
            #expect(gap < ClusterProcessTests.electionTimeoutUpperBound * 3, """
                the longest pause between acknowledged writes was \(gap); refusals \(writer.refusals); its attempts:
                \(writer.longestGapTrace.joined(separator: "\n"))
                \(writer.logDuringLongestGap(cluster))
                """)
            #expect(await ContinuousWriter.missing(keys, in: cluster, via: leader).isEmpty)
            for id in cluster.ids {
                #expect(await cluster.clusterView(id)?.version == Self.nextMinor, "node \(id) runs the new release")
            }
        }

        @Test("a node of another major version is refused by its peers and refuses them, both versions logged; back on the same major it rejoins")
        func otherMajorRefused() async throws {
            let cluster = try ProcessCluster(nodes: 3)
            let (badStatus, badOutput) = try ProcessCluster.runToEnd(cluster.binary, ["start", "--config", cluster.configPath(3)],
                                                                     environment: [VigilVersion.overrideVariable: "banana"])
            #expect(badStatus == 2 && badOutput.contains("VIGIL_VERSION_OVERRIDE='banana'"), "\(badOutput)")

            try cluster.start(1)
            try cluster.start(2)
            let leader = try #require(await cluster.waitForLeader(among: [1, 2], timeout: .seconds(30)))
            let nextMajor = "\(VigilVersion.build.major + 1).0.0"
            cluster.environment = [VigilVersion.overrideVariable: nextMajor]
            try cluster.start(3)
            cluster.environment = [:]
            var refusedByPeer = false
            var refusedByNode3 = false
            for _ in 0..<200 where !(refusedByPeer && refusedByNode3) {
                refusedByPeer = cluster.logTail(leader, lines: 2_000).contains("refusing node3: it runs Vigil \(nextMajor) and this node runs \(VigilVersion.build)")
                refusedByNode3 = cluster.logTail(3, lines: 2_000).contains("and this node runs \(nextMajor)")
                if !(refusedByPeer && refusedByNode3) { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(refusedByPeer, "\(cluster.logTail(leader))")
            #expect(refusedByNode3, "\(cluster.logTail(3))")
            #expect(await cluster.put(leader, key: "without-node3", value: "v")?.status == 200)
            let isolated = await cluster.clusterView(3)
            let leaderCommit = await cluster.clusterView(leader)?.commitIndex ?? 0
            #expect(isolated?.leader == 0 && (isolated?.commitIndex ?? 0) < leaderCommit, "node 3 hears nothing from the peers it refuses")
            #expect(await cluster.metric(leader, "vigil_transport_peers_refused_version_total") ?? 0 >= 1)

            _ = await cluster.terminate(3)
            try cluster.start(3)
            #expect(try await Self.waitUntilCaughtUp(cluster, 3, leader: leader), "node 3 rejoins on the same major\n\(cluster.logTail(3))")
            #expect(await cluster.request(3, .GET, "/api/v1/settings/without-node3")?.status == 200)
        }
    }
}
