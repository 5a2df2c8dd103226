import ClusterPKI
import NIOSSL
import RaftCore
import X509

/// This node's TLS certificate and key plus the cluster CA, ready for NIOSSL.
public struct TransportIdentity: Sendable {
    public let nodeID: NodeID
    let certificateChain: [NIOSSLCertificate]
    let privateKey: NIOSSLPrivateKey
    /// The trust bundle: the cluster CA, or during a CA rotation the old and the new one.
    let trustedCAs: [NIOSSLCertificate]

    /// A single cluster CA.
    public init(credentials: NodeCredentials, clusterCA: Certificate) throws(TransportError) {
        try self.init(credentials: credentials, trustedCAs: [clusterCA])
    }

    /// Hands swift-certificates values to NIOSSL through PEM, checking that the certificate names `node<ID>`.
    public init(credentials: NodeCredentials, trustedCAs: [Certificate]) throws(TransportError) {
        guard !trustedCAs.isEmpty else { throw .invalidIdentity("the trust bundle holds no CA certificate") }
        do {
            let named = try CertificateChecker.nodeID(of: credentials.certificate)
            guard named == credentials.nodeID else {
                throw TransportError.invalidIdentity("the certificate names node\(named), not node\(credentials.nodeID)")
            }
            self.nodeID = named
            self.certificateChain = [try NIOSSLCertificate(bytes: Array(PEMFile.pemString(credentials.certificate).utf8), format: .pem)]
            self.privateKey = try NIOSSLPrivateKey(bytes: Array(PEMFile.pemString(credentials.privateKey).utf8), format: .pem)
            self.trustedCAs = try trustedCAs.map { ca throws in try NIOSSLCertificate(bytes: Array(PEMFile.pemString(ca).utf8), format: .pem) }
        } catch let error as TransportError {
            throw error
        } catch let error as PKIError {
            throw .invalidIdentity(error.description)
        } catch {
            // NIOSSL's errors carry no key material, only BoringSSL reason codes.
            throw .invalidIdentity(String(describing: error))
        }
    }

    func makeServerContext(_ configuration: TransportConfiguration) throws(TransportError) -> NIOSSLContext {
        var tls = TLSConfiguration.makeServerConfigurationWithMTLS(
            certificateChain: certificateChain.map { .certificate($0) },
            privateKey: .privateKey(privateKey),
            trustRoots: .certificates(trustedCAs)
        )
        restrict(&tls, configuration)
        return try makeContext(tls)
    }

    func makeClientContext(_ configuration: TransportConfiguration) throws(TransportError) -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateChain = certificateChain.map { .certificate($0) }
        tls.privateKey = .privateKey(privateKey)
        tls.trustRoots = .certificates(trustedCAs)
        tls.certificateVerification = .fullVerification
        restrict(&tls, configuration)
        return try makeContext(tls)
    }

    /// Only TLS 1.3 and only the trust bundle: no system roots, no fallback.
    private func restrict(_ tls: inout TLSConfiguration, _ configuration: TransportConfiguration) {
        tls.minimumTLSVersion = .tlsv13
        tls.maximumTLSVersion = .tlsv13
        tls.additionalTrustRoots = []
        tls.shutdownTimeout = .milliseconds(Int64(configuration.tlsShutdownTimeoutMilliseconds))
    }

    private func makeContext(_ tls: TLSConfiguration) throws(TransportError) -> NIOSSLContext {
        do {
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw .tlsSetupFailed(String(describing: error))
        }
    }
}
