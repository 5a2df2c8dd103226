import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization
import VigilNode
#if canImport(Glibc)
import Glibc
#endif

/// Real `vigil` processes on 127.0.0.1, each with its own directory under a temporary cluster directory.
/// Every wait is bounded; `stopAll()` (also run by deinit) SIGKILLs whatever is still running.
final class ProcessCluster: @unchecked Sendable {
    let directory: URL
    let binary: URL
    let basePort: Int
    let nodeCount: Int
    /// Node N listens on hosts[N-1].
    let hosts: [String]
    private(set) var processes: [UInt64: Process] = [:]
    /// Trusts the cluster CA `vigil init` wrote, as every client of the API must.
    var client: HTTPClient { clients.withLock { $0.last! } }
    /// The current client last; earlier ones were replaced by `trust(bundle:)` and are shut down with the cluster
    /// (a request may still be using one).
    private let clients: Mutex<[HTTPClient]>
    /// The bootstrap admin token `vigil init` wrote; sent by `request` unless told otherwise.
    let adminToken: String
    /// Added to the environment of every node started after it is set (e.g. `VIGIL_FAILPOINT_DIR`).
    var environment: [String: String] = [:]

    /// The `vigil` executable built next to this test bundle (or `VIGIL_BINARY`).
    static func vigilBinary() throws -> URL {
        if let override = ProcessInfo.processInfo.environment["VIGIL_BINARY"] {
            return URL(fileURLWithPath: override)
        }
        let testExecutable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = testExecutable.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("vigil")
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                return candidate
            }
            directory = directory.deletingLastPathComponent()
        }
        throw ClusterTestError("no vigil executable next to \(testExecutable.path); run `swift build --build-tests` first or set VIGIL_BINARY")
    }

    /// Runs `vigil init`; `basePort` nil picks free ports, a given one lets a second cluster impersonate the first.
    /// With `hosts`, node N is `vigil init --member N=hosts[N-1]:…` (separate addresses on 127.0.0.0/8, as
    /// separate machines would have); otherwise every node is on 127.0.0.1.
    init(nodes: Int, extraInitArguments: [String] = [], basePort: Int? = nil, hosts: [String]? = nil) throws {
        self.binary = try Self.vigilBinary()
        self.nodeCount = nodes
        self.hosts = hosts ?? Array(repeating: "127.0.0.1", count: nodes)
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-test-\(UUID().uuidString.prefix(8))")
        self.basePort = try basePort ?? Self.freeBasePort(nodes: nodes)
        let base = self.basePort
        let placement = hosts.map { hosts in
            hosts.enumerated().flatMap { index, host in ["--member", "\(index + 1)=\(host):\(base + index + 1):\(base + 101 + index)"] }
        } ?? ["--nodes", "\(nodes)", "--base-port", "\(base)"]
        let (status, output) = try Self.runToEnd(binary, ["init", "--dir", directory.path] + placement + extraInitArguments)
        guard status == 0 else { throw ClusterTestError("vigil init failed (\(status)): \(output)") }
        let (token, client) = try Self.connect(directory)
        adminToken = token
        clients = Mutex([client])
    }

    /// A cluster another command wrote (`vigil restore`), with every node on 127.0.0.1 from `basePort`.
    init(existing directory: URL, nodes: Int, basePort: Int) throws {
        self.binary = try Self.vigilBinary()
        self.nodeCount = nodes
        self.hosts = Array(repeating: "127.0.0.1", count: nodes)
        self.directory = directory
        self.basePort = basePort
        let (token, client) = try Self.connect(directory)
        adminToken = token
        clients = Mutex([client])
    }

    /// The bootstrap admin token and an HTTPS client trusting the cluster's CA.
    private static func connect(_ directory: URL) throws -> (String, HTTPClient) {
        let adminToken = try String(contentsOf: directory.appendingPathComponent("admin.token"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(directory.appendingPathComponent("ca/ca.pem").path))
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        return (adminToken, HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration))
    }

    deinit {
        stopAll()
        for client in clients.withLock({ $0 }) { try? client.syncShutdown() }
        if ProcessInfo.processInfo.environment["VIGIL_KEEP_TEST_DIRS"] == nil {
            try? FileManager.default.removeItem(at: directory)
        }
    }

    /// Makes later requests trust the CAs of `bundle` instead (after a CA rotation).
    func trust(bundle path: String) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(path))
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        let fresh = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        clients.withLock { $0.append(fresh) }
    }

    func configPath(_ id: UInt64) -> String { directory.appendingPathComponent("node\(id)/vigil.yaml").path }
    func logPath(_ id: UInt64) -> String { directory.appendingPathComponent("node\(id).log").path }
    /// The node's Raft log directory.
    func dataPath(_ id: UInt64) -> String { directory.appendingPathComponent("node\(id)/data/raft-log").path }
    func httpURL(_ id: UInt64) -> String {
        "https://\(Int(id) <= hosts.count ? hosts[Int(id) - 1] : "127.0.0.1"):\(basePort + 100 + Int(id))"
    }
    var caPath: String { directory.appendingPathComponent("ca/ca.pem").path }
    var ids: [UInt64] { (1...UInt64(nodeCount)).map { $0 } }

    func start(_ id: UInt64) throws {
        let process = Process()
        process.executableURL = binary
        process.arguments = ["start", "--config", configPath(id)]
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        if !FileManager.default.fileExists(atPath: logPath(id)) {
            FileManager.default.createFile(atPath: logPath(id), contents: nil)
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath(id)))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        processes[id] = process
    }

    func kill9(_ id: UInt64) {
        guard let process = processes.removeValue(forKey: id) else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Sends `signal` (SIGHUP, say) to the node's process.
    func signal(_ id: UInt64, _ signal: Int32) {
        if let process = processes[id] { kill(process.processIdentifier, signal) }
    }

    /// SIGSTOP: the process keeps its sockets but does nothing, as a leader cut off from its peers.
    func pause(_ id: UInt64) {
        if let process = processes[id] { kill(process.processIdentifier, SIGSTOP) }
    }

    func resume(_ id: UInt64) {
        if let process = processes[id] { kill(process.processIdentifier, SIGCONT) }
    }

    /// Whether the node's process is still running (a failpoint kills it from inside).
    func isRunning(_ id: UInt64) -> Bool { processes[id]?.isRunning ?? false }

    /// Forgets a process that exited by itself, so it can be started again.
    func reap(_ id: UInt64) {
        if let process = processes[id], !process.isRunning { processes[id] = nil }
    }

    /// SIGTERM and wait (at most `timeout`); returns the exit status, nil when it did not exit in time.
    func terminate(_ id: UInt64, timeout: Duration = .seconds(10)) async -> Int32? {
        guard let process = processes[id] else { return nil }
        process.terminate()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        guard !process.isRunning else { return nil }
        processes[id] = nil
        return process.terminationStatus
    }

    func stopAll() {
        for id in Array(processes.keys) { kill9(id) }
    }

    func logTail(_ id: UInt64, lines: Int = 30) -> String {
        let text = (try? String(contentsOfFile: logPath(id), encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    // MARK: - HTTP

    struct HTTPAnswer {
        var status: Int
        var body: Data
        func decode<T: Decodable>(_ type: T.Type) -> T? { try? JSONDecoder().decode(type, from: body) }
    }

    /// Sends a request with the admin token, unless `headers` carry their own Authorization (or `token` is nil).
    func request(_ id: UInt64, _ method: HTTPMethod, _ path: String, body: String? = nil, headers: [(String, String)] = [],
                 token: String?? = .none, timeout: Duration = .seconds(8)) async -> HTTPAnswer? {
        var request = HTTPClientRequest(url: httpURL(id) + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let bearer: String? = switch token { case .none: adminToken; case let .some(value): value }
        if let bearer, !headers.contains(where: { $0.0.lowercased() == "authorization" }) {
            request.headers.add(name: "Authorization", value: "Bearer \(bearer)")
        }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        do {
            let response = try await client.execute(request, timeout: .milliseconds(Int64(timeout.components.seconds * 1000)))
            let bytes = try await response.body.collect(upTo: 4 << 20)
            return HTTPAnswer(status: Int(response.status.code), body: Data(bytes.readableBytesView))
        } catch {
            return nil
        }
    }

    func put(_ id: UInt64, key: String, value: String, ifMatch: UInt64? = nil) async -> HTTPAnswer? {
        let body = String(decoding: try! JSONEncoder().encode(SettingsPayloads.PutBody(value: value)), as: UTF8.self)
        return await request(id, .PUT, "/api/v1/settings/\(key)", body: body, headers: ifMatch.map { [("If-Match", "\($0)")] } ?? [])
    }

    func clusterView(_ id: UInt64) async -> ClusterView? {
        guard let answer = await request(id, .GET, "/api/v1/cluster", timeout: .seconds(2)), answer.status == 200 else { return nil }
        return answer.decode(ClusterView.self)
    }

    /// The value of an unlabelled sample in `/metrics`, nil when absent or unreachable.
    func metric(_ id: UInt64, _ name: String) async -> Double? {
        guard let answer = await request(id, .GET, "/metrics", timeout: .seconds(2)), answer.status == 200 else { return nil }
        let line = String(decoding: answer.body, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix(name + " ") }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    /// The leader that every running node in `among` agrees on, once they do (bounded by `timeout`).
    func waitForLeader(among: [UInt64]? = nil, timeout: Duration) async -> UInt64? {
        let nodes = among ?? Array(processes.keys)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var leaders = Set<UInt64>()
            var ready = 0
            for id in nodes {
                if let view = await clusterView(id), view.leader != 0 {
                    leaders.insert(view.leader)
                    ready += 1
                }
            }
            if ready == nodes.count, leaders.count == 1, let leader = leaders.first, nodes.contains(leader) { return leader }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    // MARK: - Helpers

    static func runToEnd(_ binary: URL, _ arguments: [String], timeout: Duration = .seconds(60),
                         environment: [String: String] = [:]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        // Drained as it runs, off this thread, so a chatty child cannot fill the pipe and a silent one
        // cannot block the timeout check.
        let output = OutputBuffer()
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let chunk = handle.availableData
            output.bytes.withLock { $0.append(chunk) }
        }
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            usleep(10_000)
        }
        let timedOut = process.isRunning
        if timedOut {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        pipe.fileHandleForReading.readabilityHandler = nil
        let rest = pipe.fileHandleForReading.readDataToEndOfFile()
        let text = output.bytes.withLock { data in
            data.append(rest)
            return String(decoding: data, as: UTF8.self)
        }
        if timedOut {
            throw ClusterTestError("\(binary.lastPathComponent) \(arguments.joined(separator: " ")) ran longer than \(timeout): \(text)")
        }
        return (process.terminationStatus, text)
    }

    /// A base port whose peer and HTTP ports are all free on 127.0.0.1 right now.
    static func freeBasePort(nodes: Int) throws -> Int {
        for _ in 0..<50 {
            // Below Linux's ephemeral range (32768–60999): a node dialling its peers, redialling while they start, takes
            // ports from that range, and one could take a port chosen here before the node meant for it binds it.
            let base = Int.random(in: 200...318) * 100
            let ports = (1...nodes).flatMap { [base + $0, base + 100 + $0] }
            if ports.allSatisfy(isFree) { return base }
        }
        throw ClusterTestError("found no free port range on 127.0.0.1 in 50 tries")
    }

    private static func isFree(_ port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

/// Output of a child process, appended from the pipe's reader thread.
final class OutputBuffer: Sendable {
    let bytes = Mutex(Data())
}

/// A test harness failure with a message saying what went wrong.
struct ClusterTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
