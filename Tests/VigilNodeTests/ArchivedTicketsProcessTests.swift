import Foundation
import Testing
import VigilNode

extension ProcessTests {
    /// Archived tickets live in the snapshot files, not in memory: a node switches to each snapshot it writes, loads
    /// at start-up or receives from the leader, and every node still shows every ticket.
    @Suite("archived tickets in snapshot files", .serialized)
    struct ArchivedTicketsProcessTests {
        @Test("tickets archived across compactions are shown by every node: after a restart, and by a node that caught up by snapshot")
        func archivedTicketsSurviveCompactionRestartAndInstall() async throws {
            let cluster = try ProcessCluster(nodes: 3, extraInitArguments: ["--snapshot-every", "25"])
            for id in cluster.ids { try cluster.start(id) }
            var leader = try #require(await cluster.waitForLeader(timeout: .seconds(30)))
            try await DutyAPIProcessTests.setUpOnCall(cluster, via: leader)
            let stranded = cluster.ids.first { $0 != leader }!
            cluster.kill9(stranded)

            let archivedCount = 30
            var titles: [Int: String] = [:]
            for index in 0..<(archivedCount + 5) {
                let title = "ticket \(index) 归档"
                let created = await cluster.request(leader, .POST, "/api/v1/tickets",
                                                    body: #"{"kind":"consultation","priority":"P3","title":"\#(title)","service_id":"web"}"#)
                let id = try #require((DutyAPIProcessTests.object(created)["object"] as? [String: Any])?["id"] as? Int, "\(created?.status ?? 0)")
                titles[id] = title
                guard index < archivedCount else { continue }
                for stage in ["analysing", "handling", "feedback", "archived"] {
                    let moved = await cluster.request(leader, .POST, "/api/v1/tickets/\(id)/transition", body: #"{"stage":"\#(stage)"}"#)
                    #expect(moved?.status == 200, "ticket \(id) to \(stage): \(moved?.status ?? 0)")
                }
            }
            let compacted = try #require(await cluster.clusterView(leader)?.snapshotIndex)
            #expect(compacted > 0, "the leader compacted its log")

            // A restarted follower loads its snapshot file; the stranded one receives the leader's.
            let other = cluster.ids.first { $0 != leader && $0 != stranded }!
            #expect(await cluster.terminate(other) == 0)
            try cluster.start(other)
            try cluster.start(stranded)
            leader = try #require(await cluster.waitForLeader(timeout: .seconds(30)))
            let target = try #require(await cluster.clusterView(leader)?.commitIndex)
            for id in cluster.ids {
                var applied: UInt64 = 0
                for _ in 0..<300 where applied < target {
                    applied = await cluster.clusterView(id)?.appliedIndex ?? 0
                    if applied < target { try await Task.sleep(for: .milliseconds(50)) }
                }
                #expect(applied >= target, "node \(id) caught up\n\(cluster.logTail(id))")
            }
            #expect(await cluster.metric(stranded, "vigil_raft_snapshots_installed_total") ?? 0 >= 1, "the stranded node caught up by snapshot")

            for id in cluster.ids {
                let page = DutyAPIProcessTests.object(await cluster.request(id, .GET, "/api/v1/tickets?stage=archived&limit=500&consistency=local"))
                #expect((page["items"] as? [Any])?.count == archivedCount, "node \(id) lists every archived ticket")
                for (ticketID, title) in titles.sorted(by: { $0.key < $1.key }) {
                    let shown = DutyAPIProcessTests.object(await cluster.request(id, .GET, "/api/v1/tickets/\(ticketID)?consistency=local"))
                    #expect(shown["title"] as? String == title, "node \(id), ticket \(ticketID)")
                }
            }
            // A reopened archived ticket is back in the working set everywhere.
            let reopened = try #require(titles.keys.min())
            #expect(await cluster.request(leader, .POST, "/api/v1/tickets/\(reopened)/reopen", body: #"{"reason":"again"}"#)?.status == 200)
            let stage = DutyAPIProcessTests.object(await cluster.request(stranded, .GET, "/api/v1/tickets/\(reopened)"))["stage"] as? String
            #expect(stage != nil && stage != "archived", "reopened: \(stage ?? "nil")")
        }
    }
}
