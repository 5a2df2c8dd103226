import Foundation
import Testing
@testable import Paging
#if canImport(Glibc)
import Glibc
#endif

/// The exec channel running real programs (/bin/sh) by argv, without a shell of ours in between.
@Suite struct ExecChannelTests {
    static func shell(_ script: String, _ extra: [String] = [], timeout: Duration = .seconds(10),
                      grace: Duration = .seconds(2)) throws -> ExecChannel {
        try ExecChannel(configuration: ExecConfiguration(executablePath: "/bin/sh", arguments: ["-c", script, "sh"] + extra,
                                                         timeout: timeout, terminationGrace: grace))
    }

    @Test func writesThePageAsJSONOnStdinAndExit0IsDelivered() async throws {
        let directory = try Fixtures.temporaryDirectory("exec")
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("page.json")
        let result = await (try Self.shell(#"cat > "$1""#, [output.path])).send(Fixtures.page(), to: "alice@example.com")
        #expect(result == .delivered(attempts: 1))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: output)) as? [String: Any]
        #expect(json?["address"] as? String == "alice@example.com")
        #expect(json?["idempotency_key"] as? String == "ticket-42-step-0-alice-email")
        #expect((json?["ticket"] as? [String: Any])?["id"] as? Int == 42)
        #expect(json?["ack_url"] as? String == "https://vigil.example/ack/ack-token")
    }

    @Test func passesOnlyTheConfiguredEnvironment() async throws {
        let directory = try Fixtures.temporaryDirectory("exec-env")
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("env.txt")
        let channel = try ExecChannel(configuration: ExecConfiguration(
            executablePath: "/bin/sh", arguments: ["-c", #"env > "$1""#, "sh", output.path],
            environment: ["PATH": "/usr/bin:/bin", "PAGER_TOKEN": "t0k"]))
        #expect(await channel.send(Fixtures.page(), to: "x").isDelivered)
        let lines = try String(contentsOf: output, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.contains("PAGER_TOKEN=t0k"))
        #expect(!lines.contains { $0.hasPrefix("HOME=") }, "Vigil's own environment is not inherited")
    }

    @Test(arguments: [(Int32(3), DeliveryResult.FailureKind.permanent), (75, .transient), (1, .permanent)])
    func nonZeroExitStatusesFail(status: Int32, kind: DeliveryResult.FailureKind) async throws {
        let result = await (try Self.shell("cat >/dev/null; exit \(status)")).send(Fixtures.page(), to: "x")
        guard case let .failed(actual, detail, attempts) = result else { Issue.record("expected failure"); return }
        #expect(actual == kind && attempts == 1)
        #expect(detail.contains("\(status)"))
    }

    @Test func aProgramThatIgnoresStdinAndExitsIsFine() async throws {
        // Our write may hit a closed pipe: it must fail quietly, not SIGPIPE the test process.
        let page = Fixtures.page(title: String(repeating: "x", count: 500))
        for _ in 0..<5 {
            #expect(await (try Self.shell("exit 0")).send(page, to: "x") == .delivered(attempts: 1))
        }
    }

    @Test func aHangingProgramIsKilledAtItsTimeout() async throws {
        // Killed at its timeout it fails; left alone it would exit 0 after 30 s and count as delivered.
        let result = await (try Self.shell("exec sleep 30", timeout: .milliseconds(300))).send(Fixtures.page(), to: "x")
        guard case .failed(.transient, _, 1) = result else { Issue.record("expected a transient failure, got \(result)"); return }
    }

    @Test func aProgramIgnoringSIGTERMGetsSIGKILLAndSoDoesWhatItStarted() async throws {
        let directory = try Fixtures.temporaryDirectory("exec-kill")
        defer { try? FileManager.default.removeItem(at: directory) }
        let pidFile = directory.appendingPathComponent("pids")
        let channel = try Self.shell(#"sleep 30 & echo $$ $! > "$1"; trap "" TERM; wait"#, [pidFile.path],
                                     timeout: .milliseconds(500), grace: .milliseconds(300))
        let result = await channel.send(Fixtures.page(), to: "x")
        guard case .failed(.transient, _, 1) = result else { Issue.record("expected a transient failure, got \(result)"); return }
        let pids = try String(contentsOf: pidFile, encoding: .utf8).split(whereSeparator: \.isWhitespace).compactMap { Int32($0) }
        try #require(pids.count == 2)
        // The script and its background sleep: gone, or a zombie waiting for init to reap it.
        for pid in pids {
            var gone = false
            for _ in 0..<100 where !gone {
                let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
                gone = stat.isEmpty || stat.split(separator: ")").last?.split(separator: " ").first == "Z"
                if !gone { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(gone, "process \(pid) still runs")
        }
    }

    @Test func refusesRelativeOrMissingPrograms() {
        #expect(throws: PagingConfigurationError.self) { try ExecChannel(configuration: ExecConfiguration(executablePath: "sh")) }
        #expect(throws: PagingConfigurationError.self) { try ExecChannel(configuration: ExecConfiguration(executablePath: "/nonexistent/pager")) }
        #expect(throws: PagingConfigurationError.self) {
            try ExecChannel(configuration: ExecConfiguration(executablePath: "/bin/sh", timeout: .zero))
        }
    }
}
