import X509

/// A node's certificate and private key, as issued by the cluster CA.
public struct NodeCredentials: Sendable {
    public var nodeID: UInt64
    public var certificate: Certificate
    public var privateKey: Certificate.PrivateKey

    public init(nodeID: UInt64, certificate: Certificate, privateKey: Certificate.PrivateKey) throws(PKIError) {
        guard certificate.publicKey == privateKey.publicKey else { throw .keyDoesNotMatchCertificate }
        self.nodeID = nodeID
        self.certificate = certificate
        self.privateKey = privateKey
    }

    /// Loads `cert.pem`/`key.pem`-style files and checks that the key belongs to the certificate.
    public static func load(certificatePath: String, privateKeyPath: String) throws(PKIError) -> NodeCredentials {
        let certificate = try PEMFile.readCertificate(at: certificatePath)
        let privateKey = try PEMFile.readPrivateKey(at: privateKeyPath)
        let nodeID = try CertificateChecker.nodeID(of: certificate)
        return try NodeCredentials(nodeID: nodeID, certificate: certificate, privateKey: privateKey)
    }

    /// Writes the certificate (0644) and the key (0600); refuses to overwrite either file unless `replacing`
    /// (a re-issue: the key first, then the certificate, so a node that reloads in between fails its key check
    /// and keeps its old pair rather than pairing the old certificate with the new key silently).
    public func write(certificatePath: String, privateKeyPath: String, replacing: Bool = false) throws(PKIError) {
        if replacing {
            try PEMFile.writePrivateKey(privateKey, replacing: privateKeyPath)
            try PEMFile.writeCertificate(certificate, replacing: certificatePath)
        } else {
            try PEMFile.writeCertificate(certificate, to: certificatePath)
            try PEMFile.writePrivateKey(privateKey, to: privateKeyPath)
        }
    }
}
