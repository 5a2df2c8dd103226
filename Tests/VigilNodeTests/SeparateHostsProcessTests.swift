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
    }
}
