import Foundation
import Testing
import VigilNode
#if canImport(Glibc)
import Glibc
#endif

extension ProcessTests {
    /// The CA rotation of deploy/README.md on a running cluster: the trust bundle gains the new CA, every node's
    /// certificate is re-issued under it, the old CA is dropped; each step reloaded by SIGHUP or `vigil cert
    /// reload`, never by a restart, while a client writes.
    @Suite("certificate rotation", .serialized)
    struct CertificateRotationProcessTests {
        @Test("all node certificates re-issued under a new CA while a client writes: no lost write, no election, no restart")
        func rotateToNewCA() async throws {
            let cluster = try ProcessCluster(nodes: 3)
            for id in cluster.ids { try cluster.start(id) }
            let leader = try #require(await cluster.waitForLeader(timeout: .seconds(30)))
            let termBefore = try #require(await cluster.clusterView(leader)?.term)
            let directory = cluster.directory.path
            func vigil(_ arguments: [String]) throws -> (Int32, String) { try ProcessCluster.runToEnd(cluster.binary, arguments) }
            func tlsFile(_ id: UInt64, _ name: String) -> String { "\(directory)/node\(id)/tls/\(name)" }
            func endpoints(_ ids: [UInt64]) -> String { ids.map { cluster.httpURL($0) }.joined(separator: ",") }
            /// `vigil cert reload` for `ids`, trusting `ca`; every node must answer that it reloaded.
            func reload(_ ids: [UInt64], trusting ca: String) throws {
                let (status, output) = try vigil(["cert", "reload", "--cluster-dir", directory, "--ca", ca, "--endpoints", endpoints(ids)])
                #expect(status == 0, "\(output)")
                #expect(output.components(separatedBy: "reloaded;").count == ids.count + 1, "\(output)")
            }
            /// SIGHUP, then the node's log line saying it reloaded (the `count`-th such line).
            func hangUp(_ id: UInt64, count: Int) async throws {
                cluster.signal(id, SIGHUP)
                var seen = 0
                for _ in 0..<200 {
                    seen = cluster.logTail(id, lines: 5_000).components(separatedBy: "reloaded the TLS certificate").count - 1
                    if seen >= count { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(seen >= count, "node \(id) did not log its reload after SIGHUP\n\(cluster.logTail(id))")
            }

            let writer = ContinuousWriter(cluster: cluster, prefix: "rotation")
            // 1. A new CA, and a trust bundle of old and new on every node.
            var (status, output) = try vigil(["cert", "ca", "--out", "\(directory)/newca", "--name", "rotation test"])
            #expect(status == 0, "\(output)")
            let newCA = "\(directory)/newca/ca.pem"
            (status, output) = try vigil(["cert", "bundle", "--out", "\(directory)/trust.pem", cluster.caPath, newCA])
            #expect(status == 0 && output.contains("2 CA certificates"), "\(output)")
            for id in cluster.ids {
                (status, output) = try vigil(["cert", "bundle", "--out", tlsFile(id, "ca.pem"), tlsFile(id, "ca.pem"), newCA])
                #expect(status == 0, "\(output)")
            }
            try await hangUp(1, count: 1)
            try reload([2, 3], trusting: cluster.caPath)
            try cluster.trust(bundle: "\(directory)/trust.pem")

            // 2. Every node's certificate re-issued under the new CA (100 days, so the change shows).
            for id in cluster.ids {
                let member = "\(id)=127.0.0.1:\(cluster.basePort + Int(id)):\(cluster.basePort + 100 + Int(id))"
                (status, output) = try vigil(["cert", "issue", "--replace", "--node", "\(id)", "--member", member,
                                              "--ca-dir", "\(directory)/newca", "--out", "\(directory)/node\(id)", "--days", "100"])
                #expect(status == 0, "\(output)")
            }
            try reload(cluster.ids, trusting: "\(directory)/trust.pem")
            for id in cluster.ids {
                let expires = try #require(await cluster.clusterView(id)?.certificateExpiresAtMilliseconds)
                let days = (Double(expires) / 1_000 - Date().timeIntervalSince1970) / 86_400
                #expect((99...100.1).contains(days), "node \(id) serves its new certificate (\(days) days left)")
            }

            // A wrong file is refused and changes nothing: node 2 given node 3's certificate, which its key does not fit.
            let ownCertificate = try Data(contentsOf: URL(fileURLWithPath: tlsFile(2, "node.pem")))
            try FileManager.default.removeItem(atPath: tlsFile(2, "node.pem"))
            try FileManager.default.copyItem(atPath: tlsFile(3, "node.pem"), toPath: tlsFile(2, "node.pem"))
            (status, output) = try vigil(["cert", "reload", "--cluster-dir", directory, "--ca", "\(directory)/trust.pem", "--endpoints", endpoints([2])])
            #expect(status == 1 && output.contains("does not belong to the certificate") && output.contains("node2/tls/node.pem"), "\(output)")
            try ownCertificate.write(to: URL(fileURLWithPath: tlsFile(2, "node.pem")))
            // Node 2 still forwards, at the first attempt.
            #expect(await cluster.put(2, key: "after-refused-reload", value: "v")?.status == 200)

            // 3. The old CA dropped everywhere.
            for id in cluster.ids {
                (status, output) = try vigil(["cert", "bundle", "--out", tlsFile(id, "ca.pem"), newCA])
                #expect(status == 0 && output.contains("1 CA certificate"), "\(output)")
            }
            try reload([1, 2], trusting: "\(directory)/trust.pem")
            try await hangUp(3, count: 3)
            try cluster.trust(bundle: newCA)

            let (keys, gap) = await writer.stop()
            print("certificate rotation: \(keys.count) writes acknowledged, longest pause between two \(gap), refused \(writer.refusals)")
            // Redials after a reload are made before the old connection breaks, or waited for: no write is refused.
            #expect(writer.refusals.isEmpty, "writes refused during the rotation, by status: \(writer.refusals)")
            #expect(keys.count > 20, "the client kept writing (\(keys.count) writes)")
            #expect(gap < ClusterProcessTests.electionTimeoutUpperBound, "the longest pause between acknowledged writes was \(gap)")
            let view = try #require(await cluster.clusterView(leader))
            #expect(view.term == termBefore && view.leader == leader, "no election during the rotation (term \(termBefore) → \(view.term))")
            #expect(await ContinuousWriter.missing(keys, in: cluster, via: leader).isEmpty)

            // New connections work under the new CA alone: a follower killed and restarted catches up.
            let follower = cluster.ids.first { $0 != leader }!
            cluster.kill9(follower)
            #expect(await cluster.put(leader, key: "while-down", value: "v")?.status == 200)
            try cluster.start(follower)
            var caughtUp = false
            for _ in 0..<300 where !caughtUp {
                if let answer = await cluster.request(follower, .GET, "/api/v1/settings/while-down"), answer.status == 200 { caughtUp = true }
                else { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(caughtUp, "the restarted node reads a write made while it was down\n\(cluster.logTail(follower))")
        }
    }
}
