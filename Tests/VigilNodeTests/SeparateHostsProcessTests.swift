import Foundation
import Testing
import VigilNode

extension ProcessTests {
    /// `vigil init --member`: nodes on three addresses of 127.0.0.0/8, as on three machines. Each certificate
    /// names its node's address, so clients and a follower forwarding to the leader pass hostname checks.
    @Suite("separate hosts", .serialized)
    struct SeparateHostsProcessTests {
        @Test("a cluster initialised with --member works across addresses; cert issue writes a new node's bundle")
        func membersOnSeparateAddresses() async throws {
            let hosts = ["127.0.0.11", "127.0.0.12", "127.0.0.13"]
            let cluster = try ProcessCluster(nodes: 3, hosts: hosts)
            for id in cluster.ids { try cluster.start(id) }
            let leader = try #require(await cluster.waitForLeader(timeout: .seconds(30)), "no leader\n\(cluster.logTail(1))")
            // A write through every node: the followers forward to the leader over HTTPS, checking its host.
            for id in cluster.ids {
                let answer = await cluster.put(id, key: "via-\(id)", value: "v\(id)")
                #expect(answer?.status == 200, "write through node \(id) (leader \(leader)): \(String(describing: answer))\n\(cluster.logTail(id))")
            }
            let config = try String(contentsOfFile: cluster.configPath(2), encoding: .utf8)
            #expect(config.contains("127.0.0.12:\(cluster.basePort + 2)"), "node 2 listens on its own address")

            // The CLI reaches every node by its address (hostname checks against each certificate).
            let (status, output) = try ProcessCluster.runToEnd(cluster.binary, ["status", "--cluster-dir", cluster.directory.path])
            #expect(status == 0, "\(output)")
            #expect(output.contains("leader") && hosts.allSatisfy { output.contains($0) }, "\(output)")

            // A fourth node's credentials, from the operator's CA folder; never over existing ones.
            let caDirectory = cluster.directory.appendingPathComponent("ca").path
            let node4 = cluster.directory.appendingPathComponent("node4").path
            let issue = ["cert", "issue", "--node", "4", "--member", "4=127.0.0.14:\(cluster.basePort + 4):\(cluster.basePort + 104)",
                         "--ca-dir", caDirectory, "--out", node4]
            let (issued, issueOutput) = try ProcessCluster.runToEnd(cluster.binary, issue)
            #expect(issued == 0, "\(issueOutput)")
            for file in ["node.pem", "node-key.pem", "ca.pem"] {
                #expect(FileManager.default.fileExists(atPath: node4 + "/tls/" + file), "\(file) written")
            }
            #expect(!FileManager.default.fileExists(atPath: node4 + "/tls/ca-key.pem"), "the CA key stays with the operator")
            let (again, againOutput) = try ProcessCluster.runToEnd(cluster.binary, issue)
            #expect(again == 2 && againOutput.contains("already exists"), "\(againOutput)")
            var mismatched = issue
            mismatched[3] = "5"
            let (wrongNode, wrongOutput) = try ProcessCluster.runToEnd(cluster.binary, mismatched)
            #expect(wrongNode == 2 && wrongOutput.contains("names node 4, but --node is 5"), "\(wrongOutput)")
        }
    
        @Test("a certificate near its expiry is shown in the cluster view, /metrics and vigil status, and logged")
        func certificateExpiryIsVisible() async throws {
            let cluster = try ProcessCluster(nodes: 1)
            let tls = cluster.directory.appendingPathComponent("node1/tls")
            for file in ["node.pem", "node-key.pem", "ca.pem"] { try FileManager.default.removeItem(at: tls.appendingPathComponent(file)) }
            let (issued, output) = try ProcessCluster.runToEnd(cluster.binary, [
                "cert", "issue", "--node", "1", "--member", "1=127.0.0.1:\(cluster.basePort + 1):\(cluster.basePort + 101)", "--days", "10",
                "--ca-dir", cluster.directory.appendingPathComponent("ca").path, "--out", cluster.directory.appendingPathComponent("node1").path])
            #expect(issued == 0, "\(output)")
            try cluster.start(1)
            _ = try #require(await cluster.waitForLeader(timeout: .seconds(30)), "\(cluster.logTail(1))")
            let view = try #require(await cluster.clusterView(1))
            let daysLeft = (try #require(view.certificateExpiresAtMilliseconds) - Int64(Date().timeIntervalSince1970 * 1_000)) / 86_400_000
            #expect((9...10).contains(daysLeft), "expires in \(daysLeft) days")
            #expect(await cluster.metric(1, "vigil_tls_certificate_expiry_timestamp_seconds") != nil)
            #expect(cluster.logTail(1, lines: 200).contains("the node certificate expires soon"), "\(cluster.logTail(1))")
            let (status, statusOutput) = try ProcessCluster.runToEnd(cluster.binary, ["status", "--cluster-dir", cluster.directory.path])
            #expect(status == 0 && (statusOutput.contains("9d!") || statusOutput.contains("10d!")), "\(statusOutput)")
            let (tooLong, tooLongOutput) = try ProcessCluster.runToEnd(cluster.binary, [
                "cert", "issue", "--node", "2", "--member", "2=127.0.0.1:1:2", "--days", "0",
                "--ca-dir", cluster.directory.appendingPathComponent("ca").path, "--out", cluster.directory.appendingPathComponent("node2").path])
            #expect(tooLong == 2 && tooLongOutput.contains("--days"), "\(tooLongOutput)")
        }
    }
}
