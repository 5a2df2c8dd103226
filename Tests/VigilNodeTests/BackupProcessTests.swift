import Foundation
import Testing
import VigilNode

extension ProcessTests {
    /// The operations guide's "backup and restore": `vigil backup` from a running cluster, `vigil restore` into
    /// a new one, which starts with everything (settings, people, tokens); damaged files write nothing.
    @Suite("backup and restore", .serialized)
    struct BackupProcessTests {
        @Test("a backup taken from a follower restores into a new cluster with every setting, person and token; damaged files are refused")
        func backupAndRestore() async throws {
            let cluster = try ProcessCluster(nodes: 3)
            for id in cluster.ids { try cluster.start(id) }
            let leader = try #require(await cluster.waitForLeader(timeout: .seconds(30)))
            let follower = cluster.ids.first { $0 != leader }!
            for index in 0..<50 { _ = await cluster.put(leader, key: "k\(index)", value: "v\(index)") }
            let person = await cluster.request(leader, .PUT, "/api/v1/people/bob", body: #"{"id":"bob","name":"Bob","role":"manager"}"#)
            #expect(person.map { (200..<300).contains($0.status) } == true)
            let token = await cluster.request(leader, .POST, "/api/v1/tokens", body: #"{"name":"ops","role":"admin"}"#)
            struct Issued: Decodable { let token: String }
            let secret = try #require(token?.decode(Issued.self)?.token)

            let file = cluster.directory.appendingPathComponent("cluster.vbak").path
            let (saved, saveOutput) = try ProcessCluster.runToEnd(cluster.binary, [
                "backup", "--out", file, "--endpoints", cluster.httpURL(follower), "--ca", cluster.caPath,
                "--token-file", cluster.directory.appendingPathComponent("admin.token").path])
            #expect(saved == 0 && saveOutput.contains("from node \(follower)"), "\(saveOutput)")

            // A truncated copy and a copy with one byte changed are refused, and nothing is written.
            let original = try Data(contentsOf: URL(fileURLWithPath: file))
            var flipped = original
            flipped[flipped.count - 10] ^= 0xFF
            let target = cluster.directory.appendingPathComponent("restored").path
            for (name, bytes, reason) in [("truncated.vbak", original.prefix(original.count - 100), "truncated"),
                                          ("flipped.vbak", flipped, "SHA-256")] {
                let path = cluster.directory.appendingPathComponent(name).path
                try bytes.write(to: URL(fileURLWithPath: path))
                let (status, output) = try ProcessCluster.runToEnd(cluster.binary, ["restore", "--from", path, "--dir", target])
                #expect(status == 2 && output.contains(reason), "\(output)")
                #expect(!FileManager.default.fileExists(atPath: target), "a refused restore writes nothing")
            }

            // The old cluster is gone; the new one starts from the backup on other ports.
            cluster.stopAll()
            let base = try ProcessCluster.freeBasePort(nodes: 3)
            let (restored, restoreOutput) = try ProcessCluster.runToEnd(cluster.binary, [
                "restore", "--from", file, "--dir", target, "--base-port", "\(base)"])
            #expect(restored == 0, "\(restoreOutput)")
            let second = try ProcessCluster(existing: URL(fileURLWithPath: target), nodes: 3, basePort: base)
            for id in second.ids { try second.start(id) }
            _ = try #require(await second.waitForLeader(timeout: .seconds(30)), "the restored cluster elects\n\(second.logTail(1))")
            let setting = await second.request(2, .GET, "/api/v1/settings/k49", token: .some(secret))
            #expect(setting?.status == 200 && String(decoding: setting?.body ?? Data(), as: UTF8.self).contains("v49"),
                    "the restored cluster has the settings, and the backed-up token works")
            let bob = await second.request(3, .GET, "/api/v1/people/bob")
            #expect(bob?.status == 200, "people are restored")
            #expect(await second.put(1, key: "after-restore", value: "x")?.status == 200, "the restored cluster takes writes")
        }
    
        @Test("scheduled backups: a node writes valid backups on its timer and keeps the newest; a bad interval is refused")
        func scheduledBackups() async throws {
            let cluster = try ProcessCluster(nodes: 1)
            let config = cluster.configPath(1)
            let original = try String(contentsOfFile: config, encoding: .utf8)
            try (original + "backup:\n  directory: backups\n  every_minutes: 0.001\n  keep: 2\n").write(toFile: config, atomically: true, encoding: .utf8)
            let (refused, refusal) = try ProcessCluster.runToEnd(cluster.binary, ["start", "--config", config], timeout: .seconds(20))
            #expect(refused == 2 && refusal.contains("backup.every_minutes"), "\(refusal)")

            try (original + "backup:\n  directory: backups\n  every_minutes: 0.05\n  keep: 2\n").write(toFile: config, atomically: true, encoding: .utf8)
            try cluster.start(1)
            _ = try #require(await cluster.waitForLeader(timeout: .seconds(30)))
            _ = await cluster.put(1, key: "scheduled", value: "yes")
            let directory = cluster.directory.appendingPathComponent("node1/backups").path
            var files: [String] = []
            for _ in 0..<100 {
                files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".vbak") }.sorted()
                if files.count >= 2, cluster.logTail(1, lines: 400).components(separatedBy: "scheduled backup written").count > 4 { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(files.count == 2, "the newest two are kept: \(files)\n\(cluster.logTail(1))")
            for file in files {
                let header = try BackupFile.verify(path: directory + "/" + file).header
                #expect(header.takenOnNode == 1 && header.index >= 1)
            }
            #expect(!cluster.logTail(1, lines: 400).contains("scheduled backup failed"))
        }
    }
}
