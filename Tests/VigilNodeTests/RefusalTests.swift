import Foundation
import Testing
import VigilNode

extension ProcessTests {
    /// `vigil start` refuses damaged or foreign state with a clear message and a distinct exit code.
    @Suite("refusals", .serialized)
    struct RefusalTests {
        @Test("a corrupt log segment: exit code 3, the path and the reason, the file untouched")
        func corruptDatabase() throws {
            let cluster = try ProcessCluster(nodes: 3)
            try FileManager.default.createDirectory(atPath: cluster.dataPath(1), withIntermediateDirectories: true)
            let path = cluster.dataPath(1) + "/wal-0000000000000001.seg"
            let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
            try garbage.write(to: URL(fileURLWithPath: path))
            let (status, output) = try ProcessCluster.runToEnd(cluster.binary, ["start", "--config", cluster.configPath(1)], timeout: .seconds(30))
            #expect(status == 3, "exit status \(status): \(output)")
            #expect(output.contains(path) && output.contains("not a Vigil segment log"), "unclear message: \(output)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == garbage)
        }

        @Test("another cluster's database: exit code 3 naming the cluster id")
        func foreignDatabase() async throws {
            let first = try ProcessCluster(nodes: 3)
            try first.start(1)
            let deadline = ContinuousClock.now + .seconds(20)
            while !FileManager.default.fileExists(atPath: first.dataPath(1)) && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            try await Task.sleep(for: .milliseconds(300))
            #expect(await first.terminate(1) == 0)
            let second = try ProcessCluster(nodes: 3)
            try? FileManager.default.removeItem(atPath: second.dataPath(1))
            try FileManager.default.createDirectory(at: URL(fileURLWithPath: second.dataPath(1)).deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: first.dataPath(1), toPath: second.dataPath(1))
            let (status, output) = try ProcessCluster.runToEnd(second.binary, ["start", "--config", second.configPath(1)], timeout: .seconds(30))
            #expect(status == 3, "exit status \(status): \(output)")
            #expect(output.contains("another cluster"), "unclear message: \(output)")
        }

        @Test("a config with a wrong value: exit code 2 naming the key")
        func badConfig() throws {
            let cluster = try ProcessCluster(nodes: 1)
            let path = cluster.configPath(1)
            let text = try String(contentsOfFile: path, encoding: .utf8)
            try text.replacingOccurrences(of: "tick_interval_ms: 10", with: "tick_interval_ms: soon")
                .write(toFile: path, atomically: true, encoding: .utf8)
            let (status, output) = try ProcessCluster.runToEnd(cluster.binary, ["start", "--config", path])
            #expect(status == 2, "exit status \(status): \(output)")
            #expect(output.contains("raft.tick_interval_ms"), "the message does not name the key: \(output)")
        }

        @Test("init refuses to overwrite an existing cluster")
        func initRefusesOverwrite() throws {
            let cluster = try ProcessCluster(nodes: 3)
            let (status, output) = try ProcessCluster.runToEnd(cluster.binary, ["init", "--nodes", "3", "--dir", cluster.directory.path])
            #expect(status == 2)
            #expect(output.contains("refusing to overwrite"), "\(output)")
        }
    }
}
