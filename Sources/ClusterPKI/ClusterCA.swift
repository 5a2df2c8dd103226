import Crypto
import Foundation
import SwiftASN1
import X509

/// The cluster's certificate authority: the only trust root of peer TLS, it signs every node certificate.
public struct ClusterCA: Sendable {
    public var certificate: Certificate
    public var privateKey: Certificate.PrivateKey

    public static let defaultValidityDays = 3650
    public static let defaultNodeValidityDays = 730
    /// Back-dating tolerates clocks between machines that disagree by a few minutes.
    static let clockSkewAllowanceSeconds: TimeInterval = 300

    public init(certificate: Certificate, privateKey: Certificate.PrivateKey) throws(PKIError) {
        guard certificate.publicKey == privateKey.publicKey else { throw .keyDoesNotMatchCertificate }
        try CertificateChecker.requireCertificateAuthority(certificate)
        self.certificate = certificate
        self.privateKey = privateKey
    }

    /// Makes a new self-signed P-256 CA for the cluster named `clusterName`.
    public static func create(
        clusterName: String,
        validityDays: Int = defaultValidityDays,
        now: Date = Date()
    ) throws(PKIError) -> ClusterCA {
        guard validityDays > 0 else { throw .invalidValidity(days: validityDays) }
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        do {
            let name = try DistinguishedName {
                OrganizationName("Vigil")
                CommonName("Vigil cluster CA \(clusterName)")
            }
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: key.publicKey)
            }
            let certificate = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: key.publicKey,
                notValidBefore: now.addingTimeInterval(-clockSkewAllowanceSeconds),
                notValidAfter: now.addingTimeInterval(TimeInterval(validityDays) * 86_400),
                issuer: name,
                subject: name,
                extensions: extensions,
                issuerPrivateKey: key
            )
            return try ClusterCA(certificate: certificate, privateKey: key)
        } catch let error as PKIError {
            throw error
        } catch {
            throw .certificateCreationFailed(reason: String(describing: error))
        }
    }

    /// Issues a node certificate whose identity is the DNS name `node<ID>`, usable as TLS server and client;
    /// `ipAddresses` and `dnsNames` are the hosts clients and peers reach it at (more SANs).
    public func issueNodeCredentials(
        nodeID: UInt64,
        ipAddresses: [String] = [],
        dnsNames: [String] = [],
        validityDays: Int = defaultNodeValidityDays,
        now: Date = Date()
    ) throws(PKIError) -> NodeCredentials {
        try issueCredentials(forName: try canonicalName(nodeID), nodeID: nodeID, ipAddresses: ipAddresses, dnsNames: dnsNames,
                             validityDays: validityDays, now: now)
    }

    /// Issues a certificate for an arbitrary DNS name; tests use it to make certificates that name no member.
    public func issueCredentials(
        forName dnsName: String,
        nodeID: UInt64,
        ipAddresses: [String] = [],
        dnsNames: [String] = [],
        validityDays: Int = defaultNodeValidityDays,
        now: Date = Date()
    ) throws(PKIError) -> NodeCredentials {
        guard validityDays > 0 else { throw .invalidValidity(days: validityDays) }
        var names: [GeneralName] = [.dnsName(dnsName)] + dnsNames.map { .dnsName($0) }
        for address in ipAddresses {
            names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(try IPAddressBytes.parse(address)))))
        }
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        do {
            let subject = try DistinguishedName {
                OrganizationName("Vigil")
                CommonName(dnsName)
            }
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
                SubjectAlternativeNames(names)
                SubjectKeyIdentifier(hash: key.publicKey)
                AuthorityKeyIdentifier(keyIdentifier: SubjectKeyIdentifier(hash: privateKey.publicKey).keyIdentifier)
            }
            let certificate = try Certificate(
                version: .v3,
                serialNumber: Certificate.SerialNumber(),
                publicKey: key.publicKey,
                notValidBefore: now.addingTimeInterval(-Self.clockSkewAllowanceSeconds),
                notValidAfter: now.addingTimeInterval(TimeInterval(validityDays) * 86_400),
                issuer: self.certificate.subject,
                subject: subject,
                extensions: extensions,
                issuerPrivateKey: privateKey
            )
            return try NodeCredentials(nodeID: nodeID, certificate: certificate, privateKey: key)
        } catch let error as PKIError {
            throw error
        } catch {
            throw .certificateCreationFailed(reason: String(describing: error))
        }
    }

    /// Loads a CA certificate and key written by `write(certificatePath:privateKeyPath:)`.
    public static func load(certificatePath: String, privateKeyPath: String) throws(PKIError) -> ClusterCA {
        let certificate = try PEMFile.readCertificate(at: certificatePath)
        let key = try PEMFile.readPrivateKey(at: privateKeyPath)
        return try ClusterCA(certificate: certificate, privateKey: key)
    }

    /// Writes the certificate (0644) and the key (0600); refuses to overwrite either file.
    public func write(certificatePath: String, privateKeyPath: String) throws(PKIError) {
        try PEMFile.writeCertificate(certificate, to: certificatePath)
        try PEMFile.writePrivateKey(privateKey, to: privateKeyPath)
    }

    private func canonicalName(_ nodeID: UInt64) throws(PKIError) -> String {
        guard nodeID != 0 else { throw .invalidNodeID(nodeID) }
        return NodeName.make(nodeID)
    }
}
