import Foundation
import Synchronization
import Testing
import VigilNode

extension ProcessTests {
    /// The rolling-upgrade procedure of deploy/README.md, with the same binary: followers one at a time, the leader
    /// last after handing leadership over; each node stopped with SIGTERM, started again, and waited for until it
    /// has caught up. A client writes all along.
    @Suite("rolling restart", .serialized)
    struct RollingRestartProcessTests {
        @Test("every node restarted in turn while a client writes: no acknowledged write lost, no long leaderless gap")
        func rollingRestart() async throws {
            let cluster = try ProcessCluster(nodes: 3)
            for id in cluster.ids { try cluster.start(id) }
            var leader = try #require(await cluster.waitForLeader(timeout: .seconds(30)))
            let (versionStatus, versionOutput) = try ProcessCluster.runToEnd(cluster.binary, ["--version"])
            #expect(versionStatus == 0 && versionOutput.contains(VigilVersion.current))

            let acknowledged = Mutex<[String]>([])
            let longestGap = Mutex<Duration>(.zero)
            let stop = Mutex(false)
            // The client avoids a node that is being restarted, as a client with several endpoints does after one
            // refuses it (a refused connect would otherwise hold this client for its whole request timeout).
            let down = Mutex<Set<UInt64>>([])
            let writer = Task {
                var lastSuccess = ContinuousClock.now
                // Bounded: at most 20,000 attempts, and the test stops it.
                for attempt in 0..<20_000 where !stop.withLock({ $0 }) {
                    let up = [UInt64(1), 2, 3].filter { id in !down.withLock { $0.contains(id) } }
                    let node = up[attempt % up.count]
                    let key = "rolling-\(attempt)"
                    if let answer = await cluster.put(node, key: key, value: "v"), answer.status == 200 {
                        let now = ContinuousClock.now
                        longestGap.withLock { $0 = max($0, now - lastSuccess) }
                        lastSuccess = now
                        acknowledged.withLock { $0.append(key) }
                    } else {
                        try? await Task.sleep(for: .milliseconds(10))
                    }
                }
            }

            let order = cluster.ids.filter { $0 != leader } + [leader]
            for id in order {
                if id == leader {
                    let successor = cluster.ids.first { $0 != id }!
                    let (moved, output) = try ProcessCluster.runToEnd(cluster.binary, [
                        "leader", "transfer", "--to", "\(successor)", "--cluster-dir", cluster.directory.path])
                    #expect(moved == 0, "\(output)")
                    leader = successor
                }
                down.withLock { _ = $0.insert(id) }
                let exit = await cluster.terminate(id)
                #expect(exit == 0, "node \(id) stops cleanly on SIGTERM\n\(cluster.logTail(id))")
                try cluster.start(id)
                // Caught up: it applied at least what the leader had committed when it came back.
                let target = await cluster.clusterView(leader)?.commitIndex ?? 0
                var caughtUp = false
                for _ in 0..<300 where !caughtUp {
                    if let view = await cluster.clusterView(id), view.leader != 0, view.appliedIndex >= target { caughtUp = true }
                    else { try await Task.sleep(for: .milliseconds(50)) }
                }
                #expect(caughtUp, "node \(id) did not catch up after its restart\n\(cluster.logTail(id))")
                down.withLock { _ = $0.remove(id) }
                leader = await cluster.waitForLeader(timeout: .seconds(30)) ?? leader
            }
            stop.withLock { $0 = true }
            await writer.value

            let keys = acknowledged.withLock { $0 }
            #expect(keys.count > 100, "the client kept writing (\(keys.count) writes)")
            let gap = longestGap.withLock { $0 }
            print("rolling restart: \(keys.count) writes acknowledged, longest pause between two \(gap)")
            #expect(gap < ClusterProcessTests.electionTimeoutUpperBound * 3, "the longest pause between acknowledged writes was \(gap)")
            var missing: [String] = []
            for key in keys where await cluster.request(leader, .GET, "/api/v1/settings/\(key)")?.status != 200 { missing.append(key) }
            #expect(missing.isEmpty, "acknowledged writes lost: \(missing.prefix(10))")
        }
    }
}
