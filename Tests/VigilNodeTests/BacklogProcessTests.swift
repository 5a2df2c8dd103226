import Foundation
import NIOHTTP1
import Testing
import VigilNode

extension ProcessTests {
    /// A busy service desk on real processes (scaled down from the scale bench): thousands of open consultations whose
    /// SLA clocks all run out must not move leadership, must be recorded in batches rather than an entry per ticket,
    /// must leave an idle cluster idle, and must give a report that summarises its breaches.
    @Suite("ticket backlog", .serialized)
    struct BacklogProcessTests {
        static func object(_ answer: ProcessCluster.HTTPAnswer?) -> [String: Any] {
            guard let answer, let value = try? JSONSerialization.jsonObject(with: answer.body) as? [String: Any] else { return [:] }
            return value
        }

        /// Registers P3 consultations with `clients` clients for `duration` (at most `maximum` tickets); returns how
        /// many were acknowledged and the refusals seen.
        static func register(_ cluster: ProcessCluster, to node: UInt64, clients: Int, duration: Duration, maximum: Int) async -> (Int, [String]) {
            let deadline = ContinuousClock.now + duration
            return await withTaskGroup(of: (Int, [String]).self) { group in
                for client in 0..<clients {
                    group.addTask {
                        var registered = 0
                        var refusals: [String] = []
                        for index in 0..<(maximum / clients) where ContinuousClock.now < deadline {
                            let body = #"{"kind":"consultation","priority":"P3","title":"Cannot log in \#(client)-\#(index)","service_id":"web"}"#
                            let answer = await cluster.request(node, .POST, "/api/v1/tickets", body: body)
                            if answer?.status == 201 {
                                registered += 1
                            } else if refusals.count < 5 {
                                refusals.append("\(answer?.status ?? 0) \(String(decoding: answer?.body ?? Data(), as: UTF8.self))")
                            }
                        }
                        return (registered, refusals)
                    }
                }
                var total = 0
                var refusals: [String] = []
                for await (count, seen) in group {
                    total += count
                    refusals += seen
                }
                return (total, refusals)
            }
        }

        @Test("thousands of open tickets whose SLA runs out: no term change, breaches in batches, an idle log, a summarised report")
        func backlogStaysFlat() async throws {
            let cluster = try ProcessCluster(nodes: 3)
            for id in cluster.ids {
                let path = cluster.configPath(id)
                let text = try String(contentsOfFile: path, encoding: .utf8)
                try text.replacingOccurrences(of: "token_requests_per_second: 500", with: "token_requests_per_second: 100000")
                    .write(toFile: path, atomically: true, encoding: .utf8)
                try cluster.start(id)
            }
            let leader = try #require(await cluster.waitForLeader(timeout: .seconds(30)), "no leader\n\(ClusterProcessTests.logs(cluster))")
            try await DutyAPIProcessTests.setUpOnCall(cluster, via: leader)
            // P3 first response in 60 s (the shortest target the model takes), warned at 80 %.
            let policy = #"{"id":"default","name":"Fast desk","warning_threshold_percent":80,"rules":[{"priority":"P3","target":"firstResponse","target_seconds":60,"clock_mode":"calendarTime"}]}"#
            let stored = await cluster.request(leader, .PUT, "/api/v1/sla-policies/default", body: policy)
            #expect(stored?.status == 200, "SLA policy: \(stored?.status ?? 0) \(String(decoding: stored?.body ?? Data(), as: UTF8.self))")

            let before = try #require(await cluster.clusterView(leader))
            let changesBefore = await cluster.metric(leader, "vigil_raft_leader_changes_total")
            let (registered, refusals) = await Self.register(cluster, to: leader, clients: 16, duration: .seconds(45), maximum: 20_000)
            #expect(refusals.isEmpty, "registrations refused: \(refusals.prefix(3))")
            #expect(registered >= 1_000, "only \(registered) tickets registered in 45 s")
            print("backlog test: \(registered) tickets registered")

            // Every ticket's warning and breach fall due within 60 s of its registration; wait (bounded) for all of them.
            let month = {
                let parts = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date())
                return String(format: "%04d-%02d", parts.year!, parts.month!)
            }()
            // Recorded by the scheduler, not merely computed: the last tickets' timelines hold their breach.
            func breachRecorded(_ id: Int) async -> Bool {
                let ticket = Self.object(await cluster.request(leader, .GET, "/api/v1/tickets/\(id)", timeout: .seconds(20)))
                return ((ticket["timeline"] as? [[String: Any]]) ?? []).contains { ($0["action"] as? [String: Any])?["sla_breached"] != nil }
            }
            var recorded = false
            let deadline = ContinuousClock.now + .seconds(150)
            while ContinuousClock.now < deadline {
                if await breachRecorded(registered), await breachRecorded(registered / 2), await breachRecorded(1) {
                    recorded = true
                    break
                }
                try await Task.sleep(for: .seconds(2))
            }
            #expect(recorded, "the scheduler did not record every breach within 150 s\n\(ClusterProcessTests.logs(cluster))")
            let report = Self.object(await cluster.request(leader, .GET, "/api/v1/reports?month=\(month)", timeout: .seconds(20)))
            let row = try #require((report["rows"] as? [[String: Any]])?.first, "no report row: \(report)")
            #expect((row["breach_count"] as? Int ?? 0) >= registered)
            #expect((row["breaches"] as? [Any])?.count == 20, "the report lists the first 20 breaches, not all of them")
            #expect(row["breaches_url"] as? String != nil)

            let scheduled = try #require(await cluster.clusterView(leader))
            // A warning and a breach per ticket, one entry per ticket each, would add 2 entries per ticket; batches add few.
            let entries = Int(scheduled.commitIndex) - Int(before.commitIndex)
            print("backlog test: \(entries) log entries for \(registered) registrations and their \(2 * registered) SLA events")
            #expect(entries < registered + registered / 5, "\(entries) log entries for \(registered) registrations and their SLA events")

            // Idle: nothing due, nothing written.
            try await Task.sleep(for: .seconds(3))
            let idle = try #require(await cluster.clusterView(leader))
            #expect(idle.commitIndex - scheduled.commitIndex <= 2, "an idle cluster wrote \(idle.commitIndex - scheduled.commitIndex) entries in 3 s")
            #expect(idle.term == before.term && idle.leader == leader, "leadership moved: term \(before.term) → \(idle.term)")
            #expect(await cluster.metric(leader, "vigil_raft_leader_changes_total") == changesBefore)

            // Every breach once, a page at a time.
            var paged = 0
            var after = 0
            for _ in 0..<200 {
                let page = Self.object(await cluster.request(leader, .GET, "/api/v1/reports/breaches?month=\(month)&limit=1000&after=\(after)",
                                                             timeout: .seconds(20)))
                paged += (page["items"] as? [Any])?.count ?? 0
                guard let next = (page["next"] as? String).flatMap(Int.init) else { break }
                after = next
            }
            #expect(paged == row["breach_count"] as? Int)
        }
    }
}
