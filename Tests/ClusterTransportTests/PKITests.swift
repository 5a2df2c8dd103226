import ClusterPKI
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import X509

@Suite("Cluster PKI")
struct PKITests {
    static func permissions(_ path: String) -> mode_t? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return info.st_mode & 0o777
    }

    @Test("node names are strict", arguments: [
        ("node1", UInt64(1) as UInt64?), ("node42", 42), ("node18446744073709551615", .max),
        ("node0", nil), ("node01", nil), ("Node1", nil), ("node", nil), ("node1x", nil), ("node-1", nil),
        ("node18446744073709551616", nil), ("xnode1", nil), ("node１", nil),
    ])
    func nodeNames(name: String, id: UInt64?) {
        #expect(NodeName.parse(name) == id)
        if let id { #expect(NodeName.make(id) == name) }
    }

    @Test("a node certificate verifies under its CA and names its node")
    func verifyOwnCA() async throws {
        let ca = try ClusterCA.create(clusterName: "test")
        let node = try ca.issueNodeCredentials(nodeID: 3, ipAddresses: ["127.0.0.1", "::1"])
        #expect(try await CertificateChecker.verify(nodeCertificate: node.certificate, ca: ca.certificate) == 3)
        let names = try #require(try node.certificate.extensions.subjectAlternativeNames)
        #expect(names.contains(.dnsName("node3")))
        #expect(names.contains(.ipAddress(.init(contentBytes: [127, 0, 0, 1]))))
        let usage = try #require(try node.certificate.extensions.extendedKeyUsage)
        #expect(usage.contains(.serverAuth) && usage.contains(.clientAuth))
        let days = node.certificate.notValidAfter.timeIntervalSince(node.certificate.notValidBefore) / 86_400
        #expect(days > 729 && days < 732)
    }

    @Test("a certificate from another CA, an expired one and one naming no node are refused")
    func verifyFailures() async throws {
        let ca = try ClusterCA.create(clusterName: "test")
        let other = try ClusterCA.create(clusterName: "other")
        let foreign = try other.issueNodeCredentials(nodeID: 1)
        await #expect(throws: PKIError.self) {
            try await CertificateChecker.verify(nodeCertificate: foreign.certificate, ca: ca.certificate)
        }
        let expired = try ca.issueNodeCredentials(nodeID: 1, now: Date().addingTimeInterval(-3 * 365 * 86_400))
        await #expect(throws: PKIError.self) {
            try await CertificateChecker.verify(nodeCertificate: expired.certificate, ca: ca.certificate)
        }
        let node = try ca.issueNodeCredentials(nodeID: 1)
        let unnamed = try ca.issueCredentials(forName: "gateway.example", nodeID: 0)
        await #expect(throws: PKIError.missingNodeName) {
            try await CertificateChecker.verify(nodeCertificate: unnamed.certificate, ca: ca.certificate)
        }
        #expect(throws: PKIError.notACertificateAuthority) {
            try ClusterCA(certificate: node.certificate, privateKey: node.privateKey)
        }
        #expect(throws: PKIError.invalidNodeID(0)) { try ca.issueNodeCredentials(nodeID: 0) }
        #expect(throws: PKIError.invalidIPAddress("300.1.1.1")) { try ca.issueNodeCredentials(nodeID: 1, ipAddresses: ["300.1.1.1"]) }
        #expect(throws: PKIError.keyDoesNotMatchCertificate) {
            try NodeCredentials(nodeID: 1, certificate: node.certificate, privateKey: foreign.privateKey)
        }
    }

    @Test("PEM files: keys are 0600, nothing is overwritten, loading round-trips")
    func files() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-pki-\(UInt64.random(in: 0 ... .max))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ca = try ClusterCA.create(clusterName: "test")
        try ca.write(certificatePath: "\(directory)/ca.pem", privateKeyPath: "\(directory)/ca-key.pem")
        let node = try ca.issueNodeCredentials(nodeID: 2)
        try node.write(certificatePath: "\(directory)/node2.pem", privateKeyPath: "\(directory)/node2-key.pem")

        #expect(Self.permissions("\(directory)/node2-key.pem") == 0o600)
        #expect(Self.permissions("\(directory)/ca-key.pem") == 0o600)
        #expect(Self.permissions("\(directory)/node2.pem") == 0o644)
        #expect(throws: PKIError.fileExists(path: "\(directory)/ca.pem")) {
            try ca.write(certificatePath: "\(directory)/ca.pem", privateKeyPath: "\(directory)/other-key.pem")
        }

        let loadedCA = try ClusterCA.load(certificatePath: "\(directory)/ca.pem", privateKeyPath: "\(directory)/ca-key.pem")
        #expect(loadedCA.certificate == ca.certificate)
        let loadedNode = try NodeCredentials.load(certificatePath: "\(directory)/node2.pem", privateKeyPath: "\(directory)/node2-key.pem")
        #expect(loadedNode.nodeID == 2)
        #expect(try await CertificateChecker.verify(nodeCertificate: loadedNode.certificate, ca: loadedCA.certificate) == 2)
        // A mismatched pair is refused when loaded.
        #expect(throws: PKIError.keyDoesNotMatchCertificate) {
            try NodeCredentials.load(certificatePath: "\(directory)/node2.pem", privateKeyPath: "\(directory)/ca-key.pem")
        }
        _ = FileManager.default.createFile(atPath: "\(directory)/garbage.pem", contents: Data("not pem".utf8))
        #expect(throws: PKIError.self) { try PEMFile.readCertificate(at: "\(directory)/garbage.pem") }
        #expect(throws: PKIError.self) { try PEMFile.readCertificate(at: "\(directory)/missing.pem") }
    }
}
