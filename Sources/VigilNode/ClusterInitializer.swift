import ClusterPKI
import X509
import Foundation
import RaftCore

/// Writes a new cluster to disk: the CA, one key and certificate per node, one `vigil.yaml` per node.
///
/// Layout: `DIR/ca/{ca.pem,ca-key.pem}` (the CA key stays here, no node needs it) and for each node
/// `DIR/nodeN/{vigil.yaml,tls/ca.pem,tls/node.pem,tls/node-key.pem,data/}`, so a node directory can be
/// copied to its machine as it is. Peer ports are `basePort + N`, HTTP ports `basePort + 100 + N`, unless every
/// member's address is given (nodes on separate hosts); each certificate names its node's hosts as SANs.
public struct ClusterInitializer: Sendable {
    public var nodeCount: Int
    public var directory: String
    public var host: String
    public var basePort: Int
    public var timing: NodeConfig.RaftTiming
    /// Serve the client API over plain HTTP instead of HTTPS (only when asked for explicitly).
    public var plainHTTP: Bool
    /// One address per node (`--member`), for nodes on separate hosts; empty: `nodeCount` nodes on `host`.
    public var explicitMembers: [NodeConfig.Member]
    /// The cluster id to write instead of a new one (a restore that keeps the backup's).
    public var clusterIDOverride: String?
    /// Where the bootstrap admin token is written (mode 0600).
    public var adminTokenPath: String { directory + "/admin.token" }

    public init(nodeCount: Int, directory: String, host: String = "127.0.0.1", basePort: Int = 7000,
                timing: NodeConfig.RaftTiming = NodeConfig.RaftTiming(), plainHTTP: Bool = false,
                members: [NodeConfig.Member] = []) {
        self.nodeCount = members.isEmpty ? nodeCount : members.count
        self.explicitMembers = members
        self.directory = directory
        self.host = host
        self.basePort = basePort
        self.timing = timing
        self.plainHTTP = plainHTTP
    }

    /// The members this initializer writes, with their addresses.
    public var members: [NodeConfig.Member] {
        if !explicitMembers.isEmpty { return explicitMembers }
        return (1...max(nodeCount, 1)).map { index in
            NodeConfig.Member(id: NodeID(index), peer: HostPort(host: host, port: basePort + index),
                              http: HostPort(host: host, port: basePort + 100 + index))
        }
    }

    /// Creates everything; returns the config paths. Refuses when any of the files already exists.
    public func run() throws(InitError) -> [String] {
        if explicitMembers.isEmpty {
            guard (1...7).contains(nodeCount) else { throw .invalidArgument("--nodes", "\(nodeCount) is not in 1...7") }
            guard basePort >= 1, basePort + 100 + nodeCount <= 65_535 else {
                throw .invalidArgument("--base-port", "\(basePort) leaves ports outside 1...65535")
            }
        } else {
            try MemberSpec.validate(explicitMembers)
        }
        let fileManager = FileManager.default
        let caDirectory = directory + "/ca"
        for path in [caDirectory, adminTokenPath] + members.map({ "\(directory)/node\($0.id)" }) where fileManager.fileExists(atPath: path) {
            throw .clusterExists(path: path)
        }
        let clusterID = clusterIDOverride ?? Self.newClusterID()
        var written: [String] = []
        do {
            try makeDirectory(caDirectory)
            let ca = try ClusterCA.create(clusterName: clusterID)
            try ca.write(certificatePath: caDirectory + "/ca.pem", privateKeyPath: caDirectory + "/ca-key.pem")
            let adminToken = APIToken.generate()
            // Created with 0600 so the secret is never readable by others, not even for a moment.
            guard fileManager.createFile(atPath: adminTokenPath, contents: Data((adminToken + "\n").utf8),
                                         attributes: [.posixPermissions: 0o600]) else {
                throw InitError.writeFailed(path: adminTokenPath, reason: "could not create the file")
            }
            let api = NodeConfig.APISettings(tls: !plainHTTP, bootstrapTokenSHA256: APIToken.sha256Hex(adminToken))
            // One pair of paging secrets for the whole cluster: an ack link signed by one node works on all.
            let ackSecret = Self.randomHex(bytes: 32)
            let webhookSecret = Self.randomHex(bytes: 32)
            let paging = PagingSettings(ackSecretFile: "paging/ack.secret", webhookSecretFile: "paging/webhook.secret")
            for member in members {
                let nodeDirectory = "\(directory)/node\(member.id)"
                try makeDirectory(nodeDirectory + "/tls")
                try makeDirectory(nodeDirectory + "/data")
                try makeDirectory(nodeDirectory + "/paging")
                for (name, secret) in [("ack.secret", ackSecret), ("webhook.secret", webhookSecret)] {
                    let path = nodeDirectory + "/paging/" + name
                    guard fileManager.createFile(atPath: path, contents: Data((secret + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
                        throw InitError.writeFailed(path: path, reason: "could not create the file")
                    }
                }
                let names = MemberSpec.subjectAlternativeNames(member)
                let credentials = try ca.issueNodeCredentials(nodeID: member.id, ipAddresses: names.ipAddresses, dnsNames: names.dnsNames)
                try credentials.write(certificatePath: nodeDirectory + "/tls/node.pem", privateKeyPath: nodeDirectory + "/tls/node-key.pem")
                try PEMFile.writeCertificate(ca.certificate, to: nodeDirectory + "/tls/ca.pem")
                let config = NodeConfig(
                    clusterID: clusterID, nodeID: member.id, dataDir: "data",
                    peerListen: member.peer, httpListen: member.http,
                    tls: .init(caCert: "tls/ca.pem", cert: "tls/node.pem", key: "tls/node-key.pem"),
                    raft: timing, api: api, paging: paging, members: members)
                let path = nodeDirectory + "/vigil.yaml"
                let text = "# Vigil node \(member.id) of cluster \(clusterID), written by `vigil init`.\n"
                    + "# Relative paths are relative to this file's directory.\n" + (try config.yaml())
                guard fileManager.createFile(atPath: path, contents: Data(text.utf8)) else {
                    throw InitError.writeFailed(path: path, reason: "could not create the file")
                }
                written.append(path)
            }
        } catch let error as InitError {
            throw error
        } catch let error as PKIError {
            throw .pki(error.description)
        } catch let error as ConfigError {
            throw .writeFailed(path: directory, reason: error.description)
        } catch {
            throw .writeFailed(path: directory, reason: "\(error)")
        }
        return written
    }

    /// `vigil cert issue`: a key and certificate for `member` signed by the CA in `caDirectory` (as `vigil init`
    /// wrote it), with the CA certificate, into `outDirectory/tls/`. Refuses to overwrite any of the three files.
    ///
    /// With `configFrom` (a member's `vigil.yaml`), also writes `outDirectory/vigil.yaml` for the new node — the same
    /// cluster, timing, API and paging settings, `join: true`, the source's members plus this one — and copies the
    /// cluster's paging secrets, so the folder is complete to copy to the new machine.
    public static func issueNodeBundle(caDirectory: String, member: NodeConfig.Member, outDirectory: String,
                                       configFrom: String? = nil, validityDays: Int = ClusterCA.defaultNodeValidityDays) throws(InitError) -> [String] {
        guard (1...3_650).contains(validityDays) else { throw .invalidArgument("--days", "\(validityDays) is not in 1...3650") }
        let tls = outDirectory + "/tls"
        var paths = [tls + "/node.pem", tls + "/node-key.pem", tls + "/ca.pem"]
        var joining: NodeConfig?
        var secrets: [(from: String, to: String)] = []
        if let configFrom {
            var config: NodeConfig
            do { config = try NodeConfig.load(path: configFrom) } catch { throw .invalidArgument("--config-from", error.description) }
            let sourceDirectory = URL(fileURLWithPath: configFrom).deletingLastPathComponent().path
            for file in [config.paging.ackSecretFile, config.paging.webhookSecretFile].compactMap({ $0 }) {
                secrets.append((NodeConfig.resolve(file, against: sourceDirectory), NodeConfig.resolve(file, against: outDirectory)))
            }
            config.members.removeAll { $0.id == member.id }
            config.members.append(member)
            config.members.sort { $0.id < $1.id }
            config.nodeID = member.id
            config.peerListen = member.peer
            config.httpListen = member.http
            config.dataDir = "data"
            config.tls = .init(caCert: "tls/ca.pem", cert: "tls/node.pem", key: "tls/node-key.pem")
            config.join = true
            joining = config
            paths.append(outDirectory + "/vigil.yaml")
            paths += secrets.map(\.to)
        }
        for path in paths where FileManager.default.fileExists(atPath: path) {
            throw .invalidArgument("--out", "\(path) already exists; refusing to overwrite a node's files")
        }
        do {
            if let joining {
                try FileManager.default.createDirectory(atPath: outDirectory + "/data", withIntermediateDirectories: true)
                for secret in secrets {
                    try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: secret.to).deletingLastPathComponent().path,
                                                            withIntermediateDirectories: true)
                    let contents = try Data(contentsOf: URL(fileURLWithPath: secret.from))
                    guard FileManager.default.createFile(atPath: secret.to, contents: contents, attributes: [.posixPermissions: 0o600]) else {
                        throw InitError.writeFailed(path: secret.to, reason: "could not create the file")
                    }
                }
                let text = "# Vigil node \(member.id) of cluster \(joining.clusterID), joining a running cluster; written by `vigil cert issue`.\n"
                    + "# Relative paths are relative to this file's directory.\n" + (try joining.yaml())
                guard FileManager.default.createFile(atPath: outDirectory + "/vigil.yaml", contents: Data(text.utf8)) else {
                    throw InitError.writeFailed(path: outDirectory + "/vigil.yaml", reason: "could not create the file")
                }
            }
            let ca = try ClusterCA.load(certificatePath: caDirectory + "/ca.pem", privateKeyPath: caDirectory + "/ca-key.pem")
            let names = MemberSpec.subjectAlternativeNames(member)
            let credentials = try ca.issueNodeCredentials(nodeID: member.id, ipAddresses: names.ipAddresses, dnsNames: names.dnsNames,
                                                          validityDays: validityDays)
            try FileManager.default.createDirectory(atPath: tls, withIntermediateDirectories: true)
            try credentials.write(certificatePath: paths[0], privateKeyPath: paths[1])
            try PEMFile.writeCertificate(ca.certificate, to: paths[2])
        } catch let error as InitError {
            throw error
        } catch let error as PKIError {
            throw .pki("\(caDirectory): \(error.description)")
        } catch {
            throw .writeFailed(path: outDirectory, reason: "\(error)")
        }
        return paths
    }

    /// `vigil cert issue --replace`: a new key and certificate for `member` in place of the node's current pair
    /// (both must exist), for a rotation; the trust bundle `tls/ca.pem` is left alone. The node picks them up
    /// on `vigil cert reload` or SIGHUP.
    public static func reissueNodeCertificate(caDirectory: String, member: NodeConfig.Member, nodeDirectory: String,
                                              validityDays: Int = ClusterCA.defaultNodeValidityDays) throws(InitError) -> [String] {
        guard (1...3_650).contains(validityDays) else { throw .invalidArgument("--days", "\(validityDays) is not in 1...3650") }
        let paths = [nodeDirectory + "/tls/node.pem", nodeDirectory + "/tls/node-key.pem"]
        for path in paths where !FileManager.default.fileExists(atPath: path) {
            throw .invalidArgument("--out", "\(path) does not exist; --replace re-issues a node's existing certificate")
        }
        do {
            let ca = try ClusterCA.load(certificatePath: caDirectory + "/ca.pem", privateKeyPath: caDirectory + "/ca-key.pem")
            let names = MemberSpec.subjectAlternativeNames(member)
            let credentials = try ca.issueNodeCredentials(nodeID: member.id, ipAddresses: names.ipAddresses, dnsNames: names.dnsNames,
                                                          validityDays: validityDays)
            try credentials.write(certificatePath: paths[0], privateKeyPath: paths[1], replacing: true)
        } catch {
            throw .pki("\(caDirectory): \(error.description)")
        }
        return paths
    }

    /// `vigil cert ca`: a new cluster CA in `directory` (`ca.pem`, `ca-key.pem`), for a CA rotation.
    public static func createCA(directory: String, name: String, validityDays: Int) throws(InitError) -> [String] {
        guard (1...36_500).contains(validityDays) else { throw .invalidArgument("--days", "\(validityDays) is not in 1...36500") }
        let paths = [directory + "/ca.pem", directory + "/ca-key.pem"]
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let ca = try ClusterCA.create(clusterName: name, validityDays: validityDays)
            try ca.write(certificatePath: paths[0], privateKeyPath: paths[1])
        } catch let error as PKIError {
            throw .pki(error.description)
        } catch {
            throw .writeFailed(path: directory, reason: (error as NSError).localizedDescription)
        }
        return paths
    }

    /// `vigil cert bundle`: the CA certificates of `sources` (each file may hold several), duplicates dropped, as
    /// one trust bundle in place of `output`. Every certificate must be a CA; otherwise nothing is written.
    public static func writeTrustBundle(sources: [String], output: String) throws(InitError) -> Int {
        guard !sources.isEmpty else { throw .invalidArgument("SOURCES", "name at least one CA certificate file") }
        var bundle: [Certificate] = []
        do {
            for source in sources {
                for (position, certificate) in try PEMFile.readCertificates(at: source).enumerated() {
                    do {
                        try CertificateChecker.requireCertificateAuthority(certificate)
                    } catch {
                        throw InitError.invalidArgument(source, "certificate \(position + 1) (\(certificate.subject)) is not a CA certificate")
                    }
                    if !bundle.contains(certificate) { bundle.append(certificate) }
                }
            }
            try PEMFile.writeCertificates(bundle, replacing: output)
        } catch let error as InitError {
            throw error
        } catch let error as PKIError {
            throw .pki(error.description)
        } catch {
            throw .writeFailed(path: output, reason: "\(error)")
        }
        return bundle.count
    }

    public static func newClusterID() -> String { "vigil-" + randomHex(bytes: 8) }

    static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    private func makeDirectory(_ path: String) throws(InitError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw .writeFailed(path: path, reason: (error as NSError).localizedDescription)
        }
    }
}

/// Tells IP literals (which go into certificates as IP SANs) from DNS names.
enum IPAddressCheck {
    static func isIPLiteral(_ host: String) -> Bool {
        if host.contains(":") { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { UInt8($0) != nil }
    }
}
