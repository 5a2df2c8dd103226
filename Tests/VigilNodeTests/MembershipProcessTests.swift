import Foundation
import Testing
import VigilNode

extension ProcessTests {
    /// The operations guide's procedure "replace a dead node", performed with the CLI against real processes.
    @Suite("membership", .serialized)
    struct MembershipProcessTests {
        static func run(_ cluster: ProcessCluster, _ arguments: [String]) throws -> (Int32, String) {
            try ProcessCluster.runToEnd(cluster.binary, arguments + ["--cluster-dir", cluster.directory.path])
        }

        static func members(_ cluster: ProcessCluster, via id: UInt64) async -> [ClusterView.MemberView]? {
            guard let answer = await cluster.request(id, .GET, "/api/v1/cluster/members", timeout: .seconds(3)), answer.status == 200 else {
                return nil
            }
            struct Page: Decodable { let items: [ClusterView.MemberView] }
            return answer.decode(Page.self)?.items
        }

        @Test("the last node dies with its disk; it is removed, a new node joins as a learner, catches up, becomes a voter, and the cluster survives another kill",
              arguments: [3, 5])
        func replaceADeadNode(nodes: Int) async throws {
            let cluster = try ProcessCluster(nodes: nodes, basePort: try ProcessCluster.freeBasePort(nodes: nodes + 1))
            let dead = UInt64(nodes)
            let new = dead + 1
            let survivors = (1..<dead).map { $0 }
            for id in cluster.ids { try cluster.start(id) }
            _ = try #require(await cluster.waitForLeader(timeout: .seconds(30)), "no leader\n\(cluster.logTail(1))")
            for index in 0..<200 {
                let answer = await cluster.put(1, key: "before-\(index)", value: "v\(index)")
                #expect(answer?.status == 200, "write \(index): \(String(describing: answer?.status))")
            }
            // Bad requests change nothing.
            let duplicate = await cluster.request(1, .POST, "/api/v1/cluster/members", body: #"{"id": 2, "peer": "127.0.0.1:1", "http": "127.0.0.1:2"}"#)
            #expect(duplicate?.status == 409, "adding a member twice")
            let badAddress = await cluster.request(1, .POST, "/api/v1/cluster/members", body: #"{"id": 9, "peer": "nowhere", "http": "127.0.0.1:2"}"#)
            #expect(badAddress?.status == 400 && String(decoding: badAddress?.body ?? Data(), as: UTF8.self).contains("peer"))
            let reserved = await cluster.put(1, key: "_vigil:member:9", value: "{}")
            #expect(reserved?.status == 400, "the member records are the cluster's own")

            // The last node dies and its disk with it.
            cluster.kill9(dead)
            try FileManager.default.removeItem(atPath: cluster.directory.appendingPathComponent("node\(dead)/data").path)
            let leader = try #require(await cluster.waitForLeader(among: survivors, timeout: .seconds(30)))
            let other = survivors.first { $0 != leader }!
            if nodes == 3 {
                // Removing a live voter now would leave voters of which too few answer: refused, with the reason.
                var refusal: ProcessCluster.HTTPAnswer?
                for _ in 0..<40 {
                    refusal = await cluster.request(leader, .DELETE, "/api/v1/cluster/members/\(other)")
                    if refusal?.status == 409 { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(refusal?.status == 409 && String(decoding: refusal?.body ?? Data(), as: UTF8.self).contains("would_lose_quorum"),
                        "\(String(describing: refusal.map { String(decoding: $0.body, as: UTF8.self) }))")
            }

            // Right after the election the new leader counts only the voters it has heard from within one election
            // timeout; on a loaded machine some answer late, so the refusal may come first. An operator retries.
            var (removed, removeOutput) = try Self.run(cluster, ["member", "remove", "\(dead)"])
            for _ in 0..<20 where removed != 0 && removeOutput.contains("would_lose_quorum") {
                try await Task.sleep(for: .milliseconds(500))
                (removed, removeOutput) = try Self.run(cluster, ["member", "remove", "\(dead)"])
            }
            #expect(removed == 0, "\(removeOutput)")
            let afterRemove = await Self.members(cluster, via: other)
            #expect(afterRemove?.map(\.id) == survivors, "\(String(describing: afterRemove))")

            // The new node: a bundle from the operator's CA folder and node 1's config, an empty disk.
            let folder = cluster.directory.appendingPathComponent("node\(new)").path
            let spec = "\(new)=127.0.0.1:\(cluster.basePort + Int(new)):\(cluster.basePort + 100 + Int(new))"
            let (issued, issueOutput) = try ProcessCluster.runToEnd(cluster.binary, [
                "cert", "issue", "--node", "\(new)", "--member", spec, "--ca-dir", cluster.directory.appendingPathComponent("ca").path,
                "--out", folder, "--config-from", cluster.configPath(1)])
            #expect(issued == 0, "\(issueOutput)")
            try cluster.start(new)
            let (added, addOutput) = try Self.run(cluster, ["member", "add", "--member", spec])
            #expect(added == 0, "\(addOutput)\n\(cluster.logTail(leader))")

            // It catches up and is promoted (bounded).
            var promoted = false
            for _ in 0..<300 where !promoted {
                if let members = await Self.members(cluster, via: leader), members.contains(where: { $0.id == new && $0.isVoter }) {
                    promoted = true
                } else {
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            #expect(promoted, "node \(new) never became a voter\n\(cluster.logTail(new))\n\(cluster.logTail(leader))")
            let copied = await cluster.request(new, .GET, "/api/v1/settings/before-199?consistency=local")
            #expect(copied?.status == 200, "node \(new) holds the writes made before it joined")
            let (listed, listOutput) = try Self.run(cluster, ["member", "list"])
            #expect(listed == 0 && listOutput.contains("voter") && !listOutput.contains("learner"), "\(listOutput)")

            // Another node dies, the leader: a majority remains, and it takes writes.
            cluster.kill9(leader)
            var written = false
            for attempt in 0..<400 where !written {
                let node: UInt64 = attempt % 2 == 0 ? new : other
                if let answer = await cluster.put(node, key: "after-replacement", value: "ok"), answer.status == 200 {
                    written = true
                } else {
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            #expect(written, "no write after the second failure\n\(cluster.logTail(new))\n\(cluster.logTail(other))")
            let (transferred, transferOutput) = try ProcessCluster.runToEnd(cluster.binary, [
                "leader", "transfer", "--to", "\(await cluster.clusterView(new)?.leader == new ? other : new)",
                "--endpoints", "\(cluster.httpURL(new)),\(cluster.httpURL(other))", "--ca", cluster.caPath,
                "--token-file", cluster.directory.appendingPathComponent("admin.token").path])
            #expect(transferred == 0, "\(transferOutput)")
        }
    }
}
