import ClusterPKI
import ClusterTransport
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import RaftCore
import Synchronization
import Testing
import X509

struct TimeoutError: Error, CustomStringConvertible {
    let description: String
}

/// Polls `condition` every 20 ms until it holds; fails the test after `timeoutSeconds`.
func eventually(
    _ what: String,
    timeoutSeconds: Double = 10,
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + .milliseconds(Int(timeoutSeconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw TimeoutError(description: "timed out after \(timeoutSeconds) s waiting for \(what)")
}

/// Collects what a transport delivers, so tests can poll it.
final class Mailbox: Sendable {
    private final class Storage: Sendable {
        let messages = Mutex<[Message]>([])
    }

    private let storage: Storage
    private let consumer: Task<Void, Never>

    init(_ stream: AsyncStream<Message>) {
        let storage = Storage()
        self.storage = storage
        consumer = Task {
            for await message in stream { storage.messages.withLock { $0.append(message) } }
        }
    }

    var messages: [Message] { storage.messages.withLock { $0 } }

    func waitForCount(_ count: Int, timeoutSeconds: Double = 10) async throws -> [Message] {
        try await eventually("\(count) messages", timeoutSeconds: timeoutSeconds) { messages.count >= count }
        return messages
    }
}

/// A running transport with its bound port and what it received.
struct TestNode: Sendable {
    let id: NodeID
    let transport: PeerTransport
    let port: Int
    let mailbox: Mailbox

    var address: PeerAddress { PeerAddress(host: "127.0.0.1", port: port) }
}

let testLogger: Logger = {
    var logger = Logger(label: "vigil.transport.test")
    logger.logLevel = .warning
    return logger
}()

/// Quick reconnects keep the tests short; production uses the defaults.
func testConfiguration(_ id: NodeID, port: Int = 0) -> TransportConfiguration {
    TransportConfiguration(
        localID: id, listenPort: port,
        reconnectBackoffInitialMilliseconds: 20, reconnectBackoffMaxMilliseconds: 300,
        handshakeTimeoutMilliseconds: 3000)
}

func startNode(
    _ id: NodeID,
    credentials: NodeCredentials,
    trusting ca: Certificate,
    port: Int = 0,
    eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
    configure: (inout TransportConfiguration) -> Void = { _ in }
) async throws -> TestNode {
    var configuration = testConfiguration(id, port: port)
    configure(&configuration)
    let transport = try PeerTransport(
        configuration: configuration,
        identity: try TransportIdentity(credentials: credentials, clusterCA: ca),
        logger: testLogger,
        eventLoopGroup: eventLoopGroup)
    let mailbox = Mailbox(transport.incoming)
    let boundPort = try await transport.start()
    return TestNode(id: id, transport: transport, port: boundPort, mailbox: mailbox)
}

/// Listens on a random port below the kernel's ephemeral range (32768 and up on Linux), for tests that stop a
/// listener and start another on the same port: an ephemeral port could be taken by any socket in between.
func startNodeOnFixedPort(
    _ id: NodeID,
    credentials: NodeCredentials,
    trusting ca: Certificate,
    configure: (inout TransportConfiguration) -> Void = { _ in }
) async throws -> TestNode {
    var lastError: Error?
    for _ in 0..<20 {
        do {
            return try await startNode(id, credentials: credentials, trusting: ca,
                                       port: Int.random(in: 20_000..<32_000), configure: configure)
        } catch let error as TransportError {
            lastError = error
        }
    }
    throw lastError!
}

/// Starts one node per id with certificates from `ca`, tells each about the others, runs `body`, shuts down.
func withCluster(
    _ ids: [NodeID],
    ca: ClusterCA? = nil,
    configure: (inout TransportConfiguration) -> Void = { _ in },
    _ body: (ClusterCA, [NodeID: TestNode]) async throws -> Void
) async throws {
    let ca = try ca ?? ClusterCA.create(clusterName: "test")
    var nodes: [NodeID: TestNode] = [:]
    do {
        for id in ids {
            let credentials = try ca.issueNodeCredentials(nodeID: id, ipAddresses: ["127.0.0.1"])
            nodes[id] = try await startNode(id, credentials: credentials, trusting: ca.certificate, configure: configure)
        }
        for node in nodes.values {
            node.transport.setPeers(nodes.filter { $0.key != node.id }.mapValues(\.address))
        }
        // A node can dial a peer that has not been told its members yet; the peer refuses it, and what the dialer
        // wrote in the meantime is lost (as on a real network, Raft retransmits). Tests that count frames start
        // once every node has accepted a connection from each of its peers.
        try await eventually("every node to accept its peers") {
            for node in nodes.values where await node.transport.metrics().inboundConnectionsAccepted < ids.count - 1 { return false }
            return true
        }
        try await body(ca, nodes)
    } catch {
        for node in nodes.values { await node.transport.shutdown() }
        throw error
    }
    for node in nodes.values { await node.transport.shutdown() }
}

/// Node1, and node2 on a fixed port so it can come back on it; the link is proven by one message, then node2
/// is stopped. `body` gets the CA, node1, the stopped node2 and node2's credentials for restarting it.
func withPeerStopped(
    _ body: (ClusterCA, TestNode, TestNode, NodeCredentials) async throws -> Void
) async throws {
    let ca = try ClusterCA.create(clusterName: "test")
    let credentials2 = try ca.issueNodeCredentials(nodeID: 2, ipAddresses: ["127.0.0.1"])
    try await withCluster([1], ca: ca) { _, nodes in
        let one = nodes[1]!
        let two = try await startNodeOnFixedPort(2, credentials: credentials2, trusting: ca.certificate)
        one.transport.setPeers([2: two.address])
        two.transport.setPeers([1: one.address])
        // Sent until it arrives, as Raft would: on a loaded machine the first connect can fail, and frames
        // for a peer in back-off are dropped rather than queued (one CI run waited 10 s for a single send).
        var sequence: UInt64 = 0
        try await eventually("node2 to hear from node1") {
            sequence += 1
            one.transport.send(marker(from: 1, to: 2, sequence))
            return !two.mailbox.messages.isEmpty
        }
        await two.transport.shutdown()
        try await body(ca, one, two, credentials2)
    }
}

/// A hand-made client for attacks the real transport would never make.
enum RawClient {
    static func plaintext(port: Int) async throws -> Channel {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port).get()
    }

    /// A TLS client presenting `credentials` and trusting `trustedCA` (which may differ from the issuer).
    static func tls(
        port: Int, credentials: NodeCredentials, trustedCA: Certificate, serverName: String,
        maximumTLSVersion: TLSVersion = .tlsv13
    ) async throws -> Channel {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = maximumTLSVersion == .tlsv13 ? .tlsv13 : .tlsv12
        tls.maximumTLSVersion = maximumTLSVersion
        tls.certificateChain = [.certificate(try NIOSSLCertificate(bytes: Array(PEMFile.pemString(credentials.certificate).utf8), format: .pem))]
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(PEMFile.pemString(credentials.privateKey).utf8), format: .pem))
        tls.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(PEMFile.pemString(trustedCA).utf8), format: .pem)])
        tls.certificateVerification = .fullVerification
        let context = try NIOSSLContext(configuration: tls)
        return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        try NIOSSLClientHandler(context: context, serverHostname: serverName))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
    }

    static func write(_ bytes: [UInt8], to channel: Channel) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }
}

/// A message whose fields identify it in assertions.
func marker(from: NodeID, to: NodeID, _ sequence: UInt64) -> Message {
    Message(from: from, to: to, term: 1, payload: .heartbeat(commit: 0, readSeq: sequence))
}
