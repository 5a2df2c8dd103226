import AsyncHTTPClient
import Foundation
import NIOHTTP1
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension ProcessTests {
    /// The real Prometheus Alertmanager (Debian `prometheus-alertmanager`) notifying a 3-node cluster through
    /// `webhook_configs` and `pagerduty_configs`; alerts fired and resolved with `amtool`.
    @Suite("real Alertmanager against real processes", .serialized)
    struct AlertmanagerProcessTests {
        /// Integration keys of the service `web`: 32 characters of [0-9a-z], one per Alertmanager receiver.
        static let webhookKey = "amwebhook" + String(repeating: "1", count: 23)
        static let pagerDutyKey = "ampagerduty" + String(repeating: "2", count: 21)

        /// An executable from the `prometheus-alertmanager` package; its absence fails the test (CI installs it).
        static func executable(_ names: [String]) throws -> URL {
            let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
            let directories = ["/usr/bin"] + path.split(separator: ":").map(String.init)
            for name in names {
                for directory in directories {
                    let candidate = directory + "/" + name
                    if FileManager.default.isExecutableFile(atPath: candidate) { return URL(fileURLWithPath: candidate) }
                }
            }
            throw ClusterTestError("no \(names.joined(separator: " or ")) on /usr/bin or PATH: install the Debian package "
                + "prometheus-alertmanager (Tests/run.sh and .ci/run do)")
        }

        /// A TCP port on 127.0.0.1 that was free a moment ago (the kernel's pick for port 0).
        static func freeLoopbackPort() throws -> Int {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard descriptor >= 0 else { throw ClusterTestError("socket() failed: errno \(errno)") }
            defer { close(descriptor) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = 0
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
                }
            }
            guard bound else { throw ClusterTestError("could not bind a port on 127.0.0.1: errno \(errno)") }
            return Int(UInt16(bigEndian: address.sin_port))
        }

        /// `alertmanager.yml`: `receiver=webhook` alerts to the webhook on one follower, `receiver=pagerduty`
        /// alerts to Events v2 on the other. With an HTTPS client API both receivers trust the cluster CA.
        static func configuration(webhookURL: String, pagerDutyURL: String, caFile: String?) -> String {
            let tls = caFile.map { "\n        http_config:\n          tls_config:\n            ca_file: \"\($0)\"" } ?? ""
            return """
                route:
                  receiver: webhook
                  group_by: ['alertname']
                  group_wait: 0s
                  group_interval: 1s
                  repeat_interval: 1h
                  routes:
                    - matchers: ['receiver="webhook"']
                      receiver: webhook
                    - matchers: ['receiver="pagerduty"']
                      receiver: pagerduty
                receivers:
                  - name: webhook
                    webhook_configs:
                      - url: "\(webhookURL)"
                        send_resolved: true\(tls)
                  - name: pagerduty
                    pagerduty_configs:
                      - routing_key: "\(pagerDutyKey)"
                        url: "\(pagerDutyURL)"
                        send_resolved: true
                        severity: critical\(tls)

                """
        }

        /// One `prometheus-alertmanager` process with its config, storage and log in `directory`.
        final class Alertmanager: @unchecked Sendable {
            let process = Process()
            let port: Int
            let logPath: String

            init(binary: URL, directory: URL, configPath: String, port: Int) throws {
                self.port = port
                logPath = directory.appendingPathComponent("alertmanager.log").path
                FileManager.default.createFile(atPath: logPath, contents: nil)
                let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
                process.executableURL = binary
                process.arguments = [
                    "--config.file=\(configPath)",
                    "--storage.path=\(directory.appendingPathComponent("data").path)",
                    "--web.listen-address=127.0.0.1:\(port)",
                    "--web.external-url=http://127.0.0.1:\(port)",
                    "--cluster.listen-address=",
                    "--log.level=debug",
                ]
                process.standardOutput = log
                process.standardError = log
                try process.run()
            }

            deinit { stop() }

            var url: String { "http://127.0.0.1:\(port)" }

            func stop() {
                guard process.isRunning else { return }
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }

            func logTail(lines: Int = 25) -> String {
                let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
                return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
            }

            /// True once `/-/ready` answers 200 (bounded by `timeout`); false when it exits or the time runs out.
            func waitUntilReady(timeout: Duration) async -> Bool {
                let deadline = ContinuousClock.now + timeout
                while ContinuousClock.now < deadline, process.isRunning {
                    var request = HTTPClientRequest(url: url + "/-/ready")
                    request.method = .GET
                    if let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(2)), response.status == .ok {
                        return true
                    }
                    try? await Task.sleep(for: .milliseconds(100))
                }
                return false
            }
        }

        /// `amtool alert add` against `alertmanager`; `end` set resolves the alert.
        static func amtool(_ binary: URL, _ alertmanager: Alertmanager, alertname: String, receiver: String,
                           summary: String, start: Date, end: Date? = nil) throws {
            let format = ISO8601DateFormatter()
            var arguments = ["alert", "add", "--alertmanager.url=\(alertmanager.url)", "--timeout=10s",
                             "alertname=\(alertname)", "receiver=\(receiver)", "severity=critical",
                             "--annotation=summary=\(summary)", "--start=\(format.string(from: start))"]
            if let end { arguments.append("--end=\(format.string(from: end))") }
            let (status, output) = try ProcessCluster.runToEnd(binary, arguments, timeout: .seconds(30))
            guard status == 0 else {
                throw ClusterTestError("amtool \(arguments.joined(separator: " ")) exited \(status): \(output)")
            }
        }

        /// Every ticket of the cluster as JSON objects, read on `node`.
        static func tickets(_ cluster: ProcessCluster, _ node: UInt64) async -> [[String: Any]] {
            DutyAPIProcessTests.object(await cluster.request(node, .GET, "/api/v1/tickets?limit=500"))["items"] as? [[String: Any]] ?? []
        }

        /// Polls (every 200 ms, at most `timeout`) until `condition` holds; returns whether it did.
        static func eventually(_ timeout: Duration, _ condition: () async -> Bool) async -> Bool {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                if await condition() { return true }
                try? await Task.sleep(for: .milliseconds(200))
            }
            return await condition()
        }

        @Test("webhook_configs and pagerduty_configs open P1 tickets on followers; amtool resolves them to feedback")
        func alertmanagerFiresAndResolves() async throws {
            let alertmanagerBinary = try Self.executable(["prometheus-alertmanager", "alertmanager"])
            let amtoolBinary = try Self.executable(["amtool"])
            let began = ContinuousClock.now

            let cluster = try ProcessCluster(nodes: 3)
            for id in cluster.ids { try cluster.start(id) }
            let leader = try #require(await cluster.waitForLeader(timeout: .seconds(30)), "no leader in 30 s")
            let followers = cluster.ids.filter { $0 != leader }
            let (webhookNode, pagerDutyNode) = (followers[0], followers[1])
            try await DutyAPIProcessTests.setUpOnCall(cluster, via: webhookNode)
            for key in [Self.webhookKey, Self.pagerDutyKey] {
                let answer = await cluster.request(webhookNode, .POST, "/api/v1/services/web/integration-keys", body: #"{"key":"\#(key)"}"#)
                try #require(answer?.status == 201, "adding integration key → \(answer?.status ?? 0) \(String(decoding: answer?.body ?? Data(), as: UTF8.self))")
            }
            let ticketsBefore = await Self.tickets(cluster, webhookNode).count

            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-alertmanager-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer {
                if ProcessInfo.processInfo.environment["VIGIL_KEEP_TEST_DIRS"] == nil { try? FileManager.default.removeItem(at: directory) }
            }
            let webhookBase = cluster.httpURL(webhookNode)
            let caFile = webhookBase.hasPrefix("https") ? cluster.directory.appendingPathComponent("ca/ca.pem").path : nil
            let configPath = directory.appendingPathComponent("alertmanager.yml").path
            try Self.configuration(webhookURL: webhookBase + "/api/v1/integrations/alertmanager/\(Self.webhookKey)",
                                   pagerDutyURL: cluster.httpURL(pagerDutyNode) + "/v2/enqueue", caFile: caFile)
                .write(toFile: configPath, atomically: true, encoding: .utf8)

            let alertmanager = try Alertmanager(binary: alertmanagerBinary, directory: directory, configPath: configPath,
                                                port: try Self.freeLoopbackPort())
            defer { alertmanager.stop() }
            try #require(await alertmanager.waitUntilReady(timeout: .seconds(20)),
                         "Alertmanager not ready within 20 s:\n\(alertmanager.logTail())")

            // Fire: one alert per receiver, each its own group (group_by alertname).
            let start = Date().addingTimeInterval(-60)
            try Self.amtool(amtoolBinary, alertmanager, alertname: "DiskFull", receiver: "webhook", summary: "Disk full on db1", start: start)
            try Self.amtool(amtoolBinary, alertmanager, alertname: "DiskFullPD", receiver: "pagerduty", summary: "Disk full on db2", start: start)

            // Both open a P1 ticket on the service, keyed by their integration key (read through the webhook's follower).
            var webhookTicket: [String: Any] = [:]
            var pagerDutyTicket: [String: Any] = [:]
            let opened = await Self.eventually(.seconds(30)) {
                let all = await Self.tickets(cluster, webhookNode)
                webhookTicket = all.first { ($0["alert_key"] as? String)?.hasPrefix(Self.webhookKey + "/") == true } ?? [:]
                pagerDutyTicket = all.first { ($0["alert_key"] as? String)?.hasPrefix(Self.pagerDutyKey + "/") == true } ?? [:]
                return !webhookTicket.isEmpty && !pagerDutyTicket.isEmpty
            }
            try #require(opened, "tickets within 30 s: webhook \(webhookTicket), pagerduty \(pagerDutyTicket)\n\(alertmanager.logTail())")
            let webhookID = try #require(webhookTicket["id"] as? Int)
            let pagerDutyID = try #require(pagerDutyTicket["id"] as? Int)
            for ticket in [webhookTicket, pagerDutyTicket] {
                #expect(ticket["priority"] as? String == "P1", "\(ticket)")
                #expect(ticket["kind"] as? String == "emergency", "\(ticket)")
                #expect(ticket["service_id"] as? String == "web", "\(ticket)")
                #expect(ticket["stage"] as? String == "registered", "\(ticket)")
            }
            #expect(webhookTicket["title"] as? String == "Disk full on db1")
            #expect((pagerDutyTicket["title"] as? String)?.contains("DiskFullPD") == true, "\(pagerDutyTicket)")
            #expect((webhookTicket["alert_key"] as? String)?.hasSuffix(":{alertname=\"DiskFull\"}") == true, "\(webhookTicket)")

            // Resolve both: an end time in the past makes Alertmanager send the resolved notifications.
            let end = Date().addingTimeInterval(-1)
            try Self.amtool(amtoolBinary, alertmanager, alertname: "DiskFull", receiver: "webhook", summary: "Disk full on db1", start: start, end: end)
            try Self.amtool(amtoolBinary, alertmanager, alertname: "DiskFullPD", receiver: "pagerduty", summary: "Disk full on db2", start: start, end: end)
            var stages: [Int: String] = [:]
            let closed = await Self.eventually(.seconds(30)) {
                for id in [webhookID, pagerDutyID] {
                    stages[id] = DutyAPIProcessTests.object(await cluster.request(pagerDutyNode, .GET, "/api/v1/tickets/\(id)"))["stage"] as? String
                }
                return stages.values.allSatisfy { $0 == "feedback" }
            }
            #expect(closed, "stages after resolving: \(stages)\n\(alertmanager.logTail())")

            // Exactly these two tickets were opened, and every node applied their resolution.
            #expect(await Self.tickets(cluster, pagerDutyNode).count == ticketsBefore + 2)
            for node in cluster.ids {
                let applied = await Self.eventually(.seconds(5)) {
                    for id in [webhookID, pagerDutyID] {
                        let ticket = DutyAPIProcessTests.object(await cluster.request(node, .GET, "/api/v1/tickets/\(id)?consistency=local"))
                        if ticket["stage"] as? String != "feedback" || ticket["priority"] as? String != "P1" { return false }
                    }
                    return true
                }
                #expect(applied, "node \(node) did not apply both resolutions")
            }
            print("AlertmanagerProcessTests: fired and resolved through Alertmanager in \(ContinuousClock.now - began)")
        }
    }
}
