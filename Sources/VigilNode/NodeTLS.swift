import AsyncHTTPClient
import ClusterPKI
import ClusterTransport
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
import X509

/// The node's TLS files as its configuration names them, and their reload without a restart (SIGHUP,
/// `vigil cert reload`): the peer transport, the HTTPS API and the forwarding client take the new files
/// together, or, when any file is wrong, nothing changes and the error says which file and why.
public final class NodeTLS: Sendable {
    /// One consistent set of files, read and checked.
    struct Material: Sendable {
        let identity: TransportIdentity
        let expiresAt: Date
        let trustedCACount: Int
        /// The API's chain and key (the node's own unless `api.cert`/`api.key` name the operator's); nil for plain HTTP.
        let apiChain: [NIOSSLCertificate]?
        let apiKey: NIOSSLPrivateKey?
        /// What the forwarding client trusts for the other nodes' APIs: the trust bundle; nil for plain HTTP.
        let apiTrustRoots: [NIOSSLCertificate]?
    }

    private let config: NodeConfig
    private let baseDirectory: String
    private let logger: Logger
    private let material: Mutex<Material>
    /// What a reload hands the new files to, attached once they exist.
    private let users = Mutex<(transport: PeerTransport?, forwarding: ForwardingClient?)>((nil, nil))
    /// The reload in progress, so that two SIGHUPs in a row apply their files in order.
    private let lastReload = Mutex<Task<Result<Void, NodeError>, Never>?>(nil)

    /// Reads and checks the files; a node refuses to start on what a reload would refuse.
    static func load(config: NodeConfig, baseDirectory: String, logger: Logger) async throws(NodeError) -> NodeTLS {
        let material = try await readMaterial(config: config, baseDirectory: baseDirectory)
        return NodeTLS(config: config, baseDirectory: baseDirectory, logger: logger, material: material)
    }

    private init(config: NodeConfig, baseDirectory: String, logger: Logger, material: Material) {
        self.config = config
        self.baseDirectory = baseDirectory
        self.logger = logger
        self.material = Mutex(material)
    }

    var identity: TransportIdentity { material.withLock { $0.identity } }
    /// When the node certificate now in use expires.
    public var expiresAt: Date { material.withLock { $0.expiresAt } }
    public var trustedCACount: Int { material.withLock { $0.trustedCACount } }

    func attach(_ transport: PeerTransport) { users.withLock { $0.transport = transport } }

    /// A forwarding client trusting the bundle of the moment, replaced by later reloads.
    func makeForwardingClient() -> ForwardingClient {
        let forwarding = ForwardingClient(trustRoots: material.withLock { $0.apiTrustRoots })
        users.withLock { $0.forwarding = forwarding }
        return forwarding
    }

    /// How long a stopping node waits for a client to answer its TLS close_notify before closing anyway.
    static let apiShutdownTimeout: TimeAmount = .milliseconds(500)

    /// The API server's TLS: the chain and key of the moment, chosen at each handshake so that a reload needs no
    /// restart of the listener.
    func makeAPIServerConfiguration() -> TLSConfiguration? {
        guard let (chain, key) = material.withLock({ m -> ([NIOSSLCertificate], NIOSSLPrivateKey)? in
            guard let chain = m.apiChain, let key = m.apiKey else { return nil }
            return (chain, key)
        }) else { return nil }
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
        // A stopping node closes every idle connection and waits this long for each client's close_notify; NIOSSL's
        // 5 s default kept a stopped node's API closed, and its Raft member running, for 5 s after SIGTERM.
        tls.shutdownTimeout = Self.apiShutdownTimeout
        tls.sslContextCallback = { [weak self] _, promise in
            var override = NIOSSLContextConfigurationOverride()
            if let current = self?.material.withLock({ m in m.apiChain.flatMap { chain in m.apiKey.map { (chain, $0) } } }) {
                override.certificateChain = current.0.map { .certificate($0) }
                override.privateKey = .privateKey(current.1)
            }
            promise.succeed(override)
        }
        return tls
    }

    /// STARTTLS for the SMTP intake: the API's certificate when the API has one, else the node's own (its files
    /// read now; a reload reaches the intake at the next start).
    func makeMailServerContext() throws -> NIOSSLContext {
        if let api = makeAPIServerConfiguration() { return try NIOSSLContext(configuration: api) }
        let chain = try NIOSSLCertificate.fromPEMFile(NodeConfig.resolve(config.tls.cert, against: baseDirectory))
        let key = try NIOSSLPrivateKey(file: NodeConfig.resolve(config.tls.key, against: baseDirectory), format: .pem)
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
        return try NIOSSLContext(configuration: tls)
    }

    /// Reads the files again and switches to them; reloads run one after another in the order asked.
    public func reload(reason: String) async -> Result<Void, NodeError> {
        let task = lastReload.withLock { previous in
            let task = Task { [previous] in
                _ = await previous?.value
                return await self.performReload(reason: reason)
            }
            previous = task
            return task
        }
        return await task.value
    }

    private func performReload(reason: String) async -> Result<Void, NodeError> {
        do {
            let fresh = try await Self.readMaterial(config: config, baseDirectory: baseDirectory)
            let (transport, forwarding) = users.withLock { $0 }
            if let transport {
                do { try await transport.reload(identity: fresh.identity) } catch { throw NodeError.tls(error.description) }
            }
            forwarding?.replace(trustRoots: fresh.apiTrustRoots)
            material.withLock { $0 = fresh }
            logger.notice("reloaded the TLS certificate, key and trust bundle; peer connections redial under them", metadata: [
                "reason": "\(reason)", "certificate": "\(config.tls.cert)", "expires_at": "\(fresh.expiresAt)",
                "trusted_cas": "\(fresh.trustedCACount)",
            ])
            NodeRuntime.warnIfExpiringSoon(fresh.expiresAt, path: config.tls.cert, logger: logger)
            return .success(())
        } catch let error as NodeError {
            logger.error("TLS reload refused; the node keeps its current certificate, key and trust bundle",
                         metadata: ["reason": "\(reason)", "error": "\(error)"])
            return .failure(error)
        } catch {
            return .failure(.tls("\(error)"))
        }
    }

    /// The node certificate must name this node and chain to a CA of the trust bundle; every file is named in
    /// the error when it does not.
    private static func readMaterial(config: NodeConfig, baseDirectory: String) async throws(NodeError) -> Material {
        let certPath = NodeConfig.resolve(config.tls.cert, against: baseDirectory)
        let keyPath = NodeConfig.resolve(config.tls.key, against: baseDirectory)
        let caPath = NodeConfig.resolve(config.tls.caCert, against: baseDirectory)
        let identity: TransportIdentity
        let credentials: NodeCredentials
        let authorities: [Certificate]
        do {
            do {
                credentials = try NodeCredentials.load(certificatePath: certPath, privateKeyPath: keyPath)
            } catch {
                throw NodeError.tls("the node certificate \(certPath) and key \(keyPath): \(error.description)")
            }
            guard credentials.nodeID == config.nodeID else {
                throw NodeError.tls("the certificate \(certPath) names node\(credentials.nodeID), but node_id is \(config.nodeID)")
            }
            authorities = try PEMFile.readCertificates(at: caPath)
            var reasons: [String] = []
            var verified = false
            for (position, authority) in authorities.enumerated() where !verified {
                do {
                    _ = try await CertificateChecker.verify(nodeCertificate: credentials.certificate, ca: authority)
                    verified = true
                } catch {
                    reasons.append("CA \(position + 1) (\(authority.subject)): \(error.description)")
                }
            }
            guard verified else {
                throw NodeError.tls("the certificate \(certPath) is not valid under any CA of the trust bundle \(caPath): \(reasons.joined(separator: "; "))")
            }
            identity = try TransportIdentity(credentials: credentials, trustedCAs: authorities)
        } catch let error as NodeError {
            throw error
        } catch let error as PKIError {
            throw .tls(error.description)
        } catch let error as TransportError {
            throw .tls("\(certPath), \(keyPath) or \(caPath): \(error.description)")
        } catch {
            throw .tls("\(error)")
        }
        guard config.api.tls else {
            return Material(identity: identity, expiresAt: credentials.certificate.notValidAfter, trustedCACount: authorities.count,
                            apiChain: nil, apiKey: nil, apiTrustRoots: nil)
        }
        let apiCertPath = NodeConfig.resolve(config.api.cert ?? config.tls.cert, against: baseDirectory)
        let apiKeyPath = NodeConfig.resolve(config.api.key ?? config.tls.key, against: baseDirectory)
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(apiCertPath)
            let key = try NIOSSLPrivateKey(file: apiKeyPath, format: .pem)
            let roots = try NIOSSLCertificate.fromPEMFile(caPath)
            // Building a context checks that the key belongs to the certificate.
            _ = try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key)))
            return Material(identity: identity, expiresAt: credentials.certificate.notValidAfter, trustedCACount: authorities.count,
                            apiChain: chain, apiKey: key, apiTrustRoots: roots)
        } catch {
            throw .tls("the API certificate \(apiCertPath) or key \(apiKeyPath), or the CA \(caPath): \(error)")
        }
    }
}

/// The client that forwards writes to the leader, replaced when the trust bundle changes; a replaced client
/// finishes its requests in flight (each is bounded by the forward timeout) and is shut down a little later,
/// so a node reloaded every day does not collect clients.
final class ForwardingClient: Sendable {
    private struct Clients {
        var current: HTTPClient
        var retired: [ObjectIdentifier: HTTPClient] = [:]
    }

    private let clients: Mutex<Clients>
    /// Longer than any forwarded request may take (`HTTPAPI.forwardTimeout`).
    static let retirementDelay: Duration = .seconds(30)

    init(trustRoots: [NIOSSLCertificate]?) {
        clients = Mutex(Clients(current: Self.make(trustRoots: trustRoots)))
    }

    var current: HTTPClient { clients.withLock { $0.current } }

    func replace(trustRoots: [NIOSSLCertificate]?) {
        let fresh = Self.make(trustRoots: trustRoots)
        let old = clients.withLock { clients in
            let old = clients.current
            clients.retired[ObjectIdentifier(old)] = old
            clients.current = fresh
            return old
        }
        Task {
            try? await Task.sleep(for: Self.retirementDelay)
            // Shut down here unless `shutdown()` took it first.
            guard let retiring = self.clients.withLock({ $0.retired.removeValue(forKey: ObjectIdentifier(old)) }) else { return }
            try? await retiring.shutdown()
        }
    }

    func shutdown() async {
        let all = clients.withLock { clients in
            defer { clients.retired = [:] }
            return [clients.current] + clients.retired.values
        }
        for client in all { try? await client.shutdown() }
    }

    /// A TCP connect to a live peer takes milliseconds, even across regions; one that takes longer finds no leader.
    static let connectTimeout: TimeAmount = .seconds(1)

    /// Room for many concurrent writes to the leader (the shared client allows only 8 connections per host, which
    /// would cap forwarded writes far below what one batch can carry); with TLS it trusts only `trustRoots`.
    private static func make(trustRoots: [NIOSSLCertificate]?) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
        // A refused connect means the leader's API is down or stopping (it closes its listener before its peer
        // connections): answer 503 at once so the client tries another node, instead of retrying until the
        // forward's deadline, which held a write 5.5 s in a rolling upgrade.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = Self.connectTimeout
        if let trustRoots {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates(trustRoots)
            configuration.tlsConfiguration = tls
        }
        return HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }
}
