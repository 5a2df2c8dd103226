import Drill
import Testing

@Suite struct DrillPlanTests {
    static let everything = Set(DrillFile.Action.allCases)

    @Test func sameSeedSamePlanAndFaultsOneAtATime() throws {
        let first = try DrillPlan.make(.random, seed: 7, durationMilliseconds: 60_000, nodeIDs: [1, 2, 3], available: Self.everything)
        let again = try DrillPlan.make(.random, seed: 7, durationMilliseconds: 60_000, nodeIDs: [1, 2, 3], available: Self.everything)
        let other = try DrillPlan.make(.random, seed: 8, durationMilliseconds: 60_000, nodeIDs: [1, 2, 3], available: Self.everything)
        #expect(first == again)
        #expect(first != other)
        #expect(first.count >= 4)
        for (fault, next) in zip(first, first.dropFirst()) {
            #expect(fault.atMilliseconds + fault.holdMilliseconds < next.atMilliseconds, "a fault is healed before the next")
        }
        let last = try #require(first.last)
        #expect(first[0].atMilliseconds >= DrillPlan.leadInMilliseconds)
        #expect(last.atMilliseconds + last.holdMilliseconds <= 60_000 - DrillPlan.tailMilliseconds)
    }

    @Test func randomDrawsOnlyFaultsTheFileCanInjectAndUndo() throws {
        let plan = try DrillPlan.make(.random, seed: 3, durationMilliseconds: 300_000, nodeIDs: [1, 2, 3], available: [.kill, .start, .pause, .isolate])
        #expect(!plan.isEmpty)
        #expect(plan.allSatisfy { $0.kind == .kill }, "pause needs resume, isolate needs heal")
        #expect(throws: DrillError.self) {
            try DrillPlan.make(.random, seed: 3, durationMilliseconds: 60_000, nodeIDs: [1, 2, 3], available: [.kill, .pause])
        }
        let error = #expect(throws: DrillError.self) {
            try DrillPlan.make(.leaderIsolate, seed: 3, durationMilliseconds: 60_000, nodeIDs: [1, 2, 3], available: [.kill, .start, .isolate])
        }
        #expect(error?.description.contains("heal") == true)
    }

    @Test func rollingRestartTakesEveryNodeLeaderLast() throws {
        let plan = try DrillPlan.make(.rollingRestart, seed: 1, durationMilliseconds: 60_000, nodeIDs: [1, 2, 3, 4, 5], available: Self.everything)
        #expect(plan.count == 5)
        #expect(plan.allSatisfy { $0.kind == .restart })
        #expect(plan.last?.target == .leader)
        #expect(plan.dropLast().allSatisfy { $0.target == .follower })
    }

    @Test func nodeReplaceIsOneReplacementOfAFollower() throws {
        let plan = try DrillPlan.make(.nodeReplace, seed: 1, durationMilliseconds: 60_000, nodeIDs: [1, 2, 3], available: Self.everything)
        #expect(plan.map(\.kind) == [.replace])
        #expect(plan[0].target == .follower)
        let error = #expect(throws: DrillError.self) {
            try DrillPlan.make(.nodeReplace, seed: 1, durationMilliseconds: 60_000, nodeIDs: [1, 2, 3], available: [.kill, .start])
        }
        #expect(error?.description.contains("wipe") == true)
        let random = try DrillPlan.make(.random, seed: 1, durationMilliseconds: 600_000, nodeIDs: [1, 2, 3], available: Self.everything)
        #expect(!random.contains { [.replace, .restart, .powerCut].contains($0.kind) }, "random draws faults that heal in place")
        let cuts = try DrillPlan.make(.powerCut, seed: 1, durationMilliseconds: 30_000, nodeIDs: [1, 2, 3], available: [.kill, .start])
        #expect(!cuts.isEmpty && cuts.allSatisfy { $0.kind == .powerCut })
        #expect(DrillPlan.minority(.powerCut, nodes: [1, 2, 3], clusterSize: 3) == [], "nobody is cut off: everyone is down")
    }

    @Test func minorityIsWhoCannotReachAMajority() {
        #expect(DrillPlan.minority(.isolate, nodes: [2], clusterSize: 3) == [2])
        #expect(DrillPlan.minority(.partition, nodes: [4, 1], clusterSize: 5) == [1, 4])
        #expect(DrillPlan.minority(.partition, nodes: [1, 2, 3], clusterSize: 5) == [], "three of five are the majority")
        #expect(DrillPlan.minority(.kill, nodes: [1], clusterSize: 3) == [])
        #expect(DrillPlan.minority(.loss, nodes: [1], clusterSize: 3) == [])
    }
}

@Suite struct DrillFileTests {
    static let valid = """
        nodes:
          - {id: 2, api: "https://10.9.0.2:7101", host: 10.9.0.2, peer: "10.9.0.2:7001"}
          - {id: 1, api: "https://10.9.0.1:7101", host: 10.9.0.1}
          - {id: 3, api: "https://10.9.0.3:7101", host: node3.example}
        ca: ca/ca.pem
        token_file: /secrets/admin.token
        sink: {listen: "10.9.0.100:9100"}
        commands:
          kill: ssh {host} systemctl kill -s KILL vigil
          start: ssh {host} systemctl start vigil
          isolate: "for p in {peers}; do ip netns exec n{id} iptables -A INPUT -s $p -j DROP; done"
          loss: "iptables -A INPUT -m statistic --mode random --probability {fraction} -j DROP"
          slow_disk: "echo {milliseconds} >/fp/persist-delay-ms-node{id}"
        """

    @Test func placeholdersAndPaths() throws {
        let file = try DrillFile.parse(Self.valid, path: "drill.yaml", folder: "/etc/drill")
        #expect(file.nodes.map(\.id) == [1, 2, 3])
        #expect(file.caPath == "/etc/drill/ca/ca.pem")
        #expect(file.tokenPath == "/secrets/admin.token")
        #expect(file.sinkURL == "http://10.9.0.100:9100")
        #expect(file.command(.kill, node: 3) == "ssh node3.example systemctl kill -s KILL vigil")
        #expect(file.command(.isolate, node: 1, peers: [2, 3]) == "for p in 10.9.0.2 node3.example; do ip netns exec n1 iptables -A INPUT -s $p -j DROP; done")
        #expect(file.command(.loss, node: 1, fraction: 0.25) == "iptables -A INPUT -m statistic --mode random --probability 0.25 -j DROP")
        #expect(file.command(.slowDisk, node: 2, milliseconds: 250) == "echo 250 >/fp/persist-delay-ms-node2")
        #expect(file.command(.pause, node: 1) == nil)
        #expect(file.nodes[1].peer == "10.9.0.2:7001")
        #expect(file.nodes[1].http == "10.9.0.2:7101")
    }

    @Test(arguments: [
        ("nodes:\n  - {id: 1, api: \"https://a:1\", host: a}\n  - {id: 2, api: \"https://b:1\", host: b}\ntoken_file: t\nsink: {listen: \"h:1\"}", "1, 3, 5 or 7 nodes"),
        (valid.replacingOccurrences(of: "id: 3", with: "id: 2"), "nodes[2].id"),
        (valid.replacingOccurrences(of: "host: node3.example", with: "host: \"a;rm -rf /\""), "nodes[2].host"),
        (valid.replacingOccurrences(of: "https://10.9.0.2:7101", with: "ftp://x"), "nodes[0].api"),
        (valid.replacingOccurrences(of: "10.9.0.100:9100", with: "10.9.0.100"), "sink.listen"),
        (valid.replacingOccurrences(of: "10.9.0.2:7001", with: "10.9.0.2"), "nodes[0].peer"),
        (valid.replacingOccurrences(of: "https://10.9.0.1:7101", with: "https://10.9.0.1"), "nodes[1].api"),
        (valid.replacingOccurrences(of: "  kill:", with: "  explode:"), "commands.explode"),
        (valid.replacingOccurrences(of: "token_file: /secrets/admin.token\n", with: ""), "token_file"),
    ])
    func badFilesAreRefusedSayingWhere(text: String, mentions: String) {
        let error = #expect(throws: DrillError.self) { try DrillFile.parse(text, path: "drill.yaml", folder: ".") }
        #expect(error?.description.contains(mentions) == true, "\(error?.description ?? "no error")")
        #expect(error?.description.hasPrefix("drill.yaml") == true)
    }
}
