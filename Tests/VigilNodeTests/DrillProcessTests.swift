import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension ProcessTests {
    /// `vigil drill` as an operator runs it against their own cluster (here 3 processes on 127.0.0.1 with pid files,
    /// as systemd would keep them), and `vigil-check --drill` judging its folder again. The namespace drills of
    /// `chaos/run.sh` (root only) run the same code with partitions, pauses and full disks.
    @Suite("vigil drill", .serialized)
    struct DrillProcessTests {
        @Test("a leader-kill drill through a drill file's commands: writes, alerts and pages checked, files written, vigil-check agrees")
        func leaderKillDrill() async throws {
            let cluster = try ProcessCluster(nodes: 3)
            let folder = cluster.directory.path
            defer {
                for id in cluster.ids {
                    if let text = try? String(contentsOfFile: "\(folder)/node\(id).pid", encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                        kill(pid, SIGKILL)
                    }
                }
                cluster.stopAll()
            }
            for id in cluster.ids {
                try cluster.start(id)
                let pid = try #require(cluster.processes[id]?.processIdentifier)
                try "\(pid)\n".write(toFile: "\(folder)/node\(id).pid", atomically: true, encoding: .utf8)
            }
            _ = try #require(await cluster.waitForLeader(timeout: .seconds(30)))
            let sinkPort = try ProcessCluster.freeBasePort(nodes: 1) + 1
            let nodes = cluster.ids.map { "  - {id: \($0), api: \"\(cluster.httpURL($0))\", host: 127.0.0.1}" }.joined(separator: "\n")
            let drillFile = """
                nodes:
                \(nodes)
                ca: ca/ca.pem
                token_file: admin.token
                sink: {listen: "127.0.0.1:\(sinkPort)"}
                commands:
                  kill: kill -KILL $(cat \(folder)/node{id}.pid)
                  start: \(cluster.binary.path) start --config \(folder)/node{id}/vigil.yaml >>\(folder)/node{id}.log 2>&1 & echo $! >\(folder)/node{id}.pid

                """
            try drillFile.write(toFile: "\(folder)/drill.yaml", atomically: true, encoding: .utf8)
            let out = "\(folder)/drill"
            let (status, output) = try ProcessCluster.runToEnd(cluster.binary, [
                "drill", "--file", "\(folder)/drill.yaml", "--scenario", "leader-kill", "--seed", "3", "--duration-seconds", "15", "--out", out,
            ], timeout: .seconds(240))
            #expect(status == 0, "\(output.suffix(3_000))")
            let summary = try #require(output.split(separator: "\n").first { $0.hasPrefix("drill: ") }, "\(output.suffix(2_000))")
            #expect(summary.contains("ok=1 lost_writes=0 linearizability_violations=0 paging_violations=0"))
            #expect(summary.contains("faults=1") || summary.contains("faults=2"), "15 s hold one or two kills of the leader")
            for file in ["history.jsonl", "alerts.jsonl", "pages.jsonl", "faults.jsonl", "leaders.jsonl", "drill.json", "result.json", "report.md", "timeline.svg"] {
                #expect(FileManager.default.fileExists(atPath: "\(out)/\(file)"), "\(file) written")
            }
            let faults = try String(contentsOfFile: "\(out)/faults.jsonl", encoding: .utf8)
            #expect(faults.contains("\"action\":\"kill\"") && faults.contains("\"action\":\"start\""))
            let pages = try String(contentsOfFile: "\(out)/pages.jsonl", encoding: .utf8).split(separator: "\n")
            #expect(pages.count >= 6, "two alerts or more, three levels each")
            #expect(pages.allSatisfy { !$0.contains("\"node\":null") }, "every page names its sender (Vigil-Node)")

            let checker = cluster.binary.deletingLastPathComponent().appendingPathComponent("vigil-check")
            let (checked, verdict) = try ProcessCluster.runToEnd(checker, ["--drill", out])
            #expect(checked == 0, "\(verdict)")
            #expect(verdict.contains("drills=1 ok=1 lost_writes=0 linearizability_violations=0 paging_violations=0"), "\(verdict)")
        }

        @Test("a drill file that does not fit is refused before anything happens, naming the file and the field")
        func badDrillFiles() throws {
            let binary = try ProcessCluster.vigilBinary()
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-drill-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: folder) }
            try "secret\n".write(toFile: "\(folder)/admin.token", atomically: true, encoding: .utf8)
            let base = """
                nodes:
                  - {id: 1, api: "https://127.0.0.1:1", host: 127.0.0.1}
                  - {id: 2, api: "https://127.0.0.1:2", host: 127.0.0.1}
                  - {id: 3, api: "https://127.0.0.1:3", host: 127.0.0.1}
                token_file: admin.token
                sink: {listen: "127.0.0.1:9"}
                commands:
                  kill: "true"
                  start: "true"

                """
            let cases: [(String, [String], String)] = [
                (base.replacingOccurrences(of: "host: 127.0.0.1}\n  - {id: 3", with: "host: \"x;y\"}\n  - {id: 3"), [], "nodes[1].host"),
                (base, ["--scenario", "leader-isolate"], "isolate"),
                (base, ["--scenario", "sideways"], "--scenario"),
                (base, ["--duration-seconds", "2"], "--duration-seconds"),
            ]
            for (text, arguments, mentions) in cases {
                try text.write(toFile: "\(folder)/drill.yaml", atomically: true, encoding: .utf8)
                let (status, output) = try ProcessCluster.runToEnd(binary, ["drill", "--file", "\(folder)/drill.yaml", "--out", "\(folder)/out"] + arguments)
                #expect(status == 2, "\(arguments): \(output)")
                #expect(output.contains(mentions), "\(arguments): \(output)")
                #expect(!FileManager.default.fileExists(atPath: "\(folder)/out"), "nothing written for a refused drill")
            }
        }
    }
}
