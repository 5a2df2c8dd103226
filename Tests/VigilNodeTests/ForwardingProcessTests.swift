import ClusterTransport
import Foundation
import Testing
@testable import VigilNode

extension ProcessTests {
    /// A client write sent to a follower reaches the leader over the peer connection, not as a second HTTP request,
    /// and is answered once the follower applied it; with a member of an older release in the cluster, followers
    /// go back to forwarding over HTTP (that member could not apply a forwarded entry).
    @Suite("one-hop forwarding", .serialized)
    struct ForwardingProcessTests {
        static let sent = "vigil_forwarded_writes_total{event=\"sent\"}"
        static let proposed = "vigil_forwarded_writes_total{event=\"proposed\"}"

        @Test("writes through a follower go over the peer connection and are read back there at once")
        func followerWritesTakeOneHop() async throws {
            let cluster = try ProcessCluster(nodes: 3)
            defer { cluster.stopAll() }
            for id in cluster.ids { try cluster.start(id) }
            let leader = try #require(await cluster.waitForLeader(timeout: .seconds(30)))
            let follower = try #require(cluster.ids.first { $0 != leader })
            // Members learn each other's release from the hellos; until then a follower forwards over HTTP.
            var oneHop = false
            for attempt in 0..<100 where !oneHop {
                #expect(await cluster.put(follower, key: "warm-\(attempt)", value: "v")?.status == 200)
                oneHop = (await cluster.metric(follower, Self.sent) ?? 0) > 0
                if !oneHop { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(oneHop, "the follower never forwarded over the peer connection\n\(cluster.logTail(follower))")
            let sentBefore = await cluster.metric(follower, Self.sent) ?? 0
            let proposedBefore = await cluster.metric(leader, Self.proposed) ?? 0
            for index in 0..<50 {
                let answer = await cluster.put(follower, key: "one-hop-\(index)", value: "value \(index)")
                #expect(answer?.status == 200, "write \(index): \(answer.map { String(decoding: $0.body, as: UTF8.self) } ?? "no answer")")
                // Answered after the follower applied it: its own read sees the write.
                let read = await cluster.request(follower, .GET, "/api/v1/settings/one-hop-\(index)")
                #expect(read?.status == 200 && String(decoding: read?.body ?? Data(), as: UTF8.self).contains("value \(index)"))
            }
            // Every replica applied the forwarded entries as the command they carry.
            for id in cluster.ids {
                let read = await cluster.request(id, .GET, "/api/v1/settings/one-hop-49")
                #expect(read?.status == 200 && String(decoding: read?.body ?? Data(), as: UTF8.self).contains("value 49"), "node \(id)")
            }
            #expect((await cluster.metric(follower, Self.sent) ?? 0) - sentBefore == 50)
            #expect((await cluster.metric(leader, Self.proposed) ?? 0) - proposedBefore >= 50)
            // A duty command the model refuses (an unknown service) is answered from the follower's own apply.
            let registered = await cluster.request(follower, .POST, "/api/v1/tickets",
                                                   body: #"{"kind":"consultation","priority":"P3","title":"one hop","service_id":"nope"}"#)
            #expect(registered.map { (400..<500).contains($0.status) } == true,
                    "a refused duty command is answered from the follower's own apply: \(registered.map { String(decoding: $0.body, as: UTF8.self) } ?? "nil")")
        }

        @Test("a member of the previous release: writes are forwarded over the peer connection if it can apply them, else on HTTP")
        func olderMemberDecidesTheForwardingPath() async throws {
            let cluster = try ProcessCluster(nodes: 3)
            defer { cluster.stopAll() }
            let previous = SoftwareVersion(major: VigilVersion.build.major, minor: VigilVersion.build.minor - 1, patch: 0)
            cluster.environment = [VigilVersion.overrideVariable: "\(previous)"]
            try cluster.start(3)
            cluster.environment = [:]
            try cluster.start(1)
            try cluster.start(2)
            let leader = try #require(await cluster.waitForLeader(timeout: .seconds(30)))
            let follower = try #require(cluster.ids.first { $0 != leader && $0 != 3 })
            for index in 0..<20 {
                #expect(await cluster.put(follower, key: "mixed-\(index)", value: "v")?.status == 200)
            }
            let sent = await cluster.metric(follower, Self.sent) ?? 0
            if previous >= HTTPAPI.peerForwardingSince {
                #expect(sent >= 20, "\(previous) applies forwarded entries: \(sent) sent over the peer connection")
            } else {
                #expect(sent == 0, "no forwarded entry while a member runs \(previous)")
            }
        }
    }
}
