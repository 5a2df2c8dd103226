import Foundation
import X509

/// Checks that a certificate is a valid node certificate of this cluster and extracts the node id it names.
public enum CertificateChecker {
    /// Verifies `nodeCertificate` against `ca` (signature, validity now, CA constraints, RFC 5280 policy) and that it
    /// is usable for both ends of peer TLS; returns the node id its DNS name designates.
    public static func verify(
        nodeCertificate: Certificate,
        ca: Certificate
    ) async throws(PKIError) -> UInt64 {
        try requireCertificateAuthority(ca)
        var verifier = Verifier(rootCertificates: CertificateStore([ca])) {
            RFC5280Policy()
        }
        let result = await verifier.validate(leaf: nodeCertificate, intermediates: CertificateStore())
        switch result {
        case .validCertificate:
            break
        case let .couldNotValidate(failures):
            let reasons = failures.map { String(describing: $0.policyFailureReason) }
            throw .notSignedByClusterCA(reason: reasons.isEmpty ? "no chain to the CA" : reasons.joined(separator: "; "))
        }
        try requirePeerUsages(nodeCertificate)
        return try nodeID(of: nodeCertificate)
    }

    /// The node id named by the certificate's subject alternative DNS names; exactly one must be a node name.
    public static func nodeID(of certificate: Certificate) throws(PKIError) -> UInt64 {
        let dnsNames: [String]
        do {
            guard let names = try certificate.extensions.subjectAlternativeNames else { throw PKIError.missingNodeName }
            dnsNames = names.compactMap { name in
                if case let .dnsName(text) = name { return text }
                return nil
            }
        } catch let error as PKIError {
            throw error
        } catch {
            throw .notSignedByClusterCA(reason: "unreadable subject alternative names: \(error)")
        }
        let nodeNames = dnsNames.filter { NodeName.parse($0) != nil }
        guard let only = nodeNames.first else { throw .missingNodeName }
        guard nodeNames.count == 1 else { throw .ambiguousNodeName(nodeNames) }
        return NodeName.parse(only)!
    }

    /// Throws unless `certificate` may sign node certificates (a CA basic constraint and the keyCertSign usage).
    public static func requireCertificateAuthority(_ certificate: Certificate) throws(PKIError) {
        do {
            guard case .isCertificateAuthority? = try certificate.extensions.basicConstraints,
                  let usage = try certificate.extensions.keyUsage, usage.keyCertSign
            else { throw PKIError.notACertificateAuthority }
        } catch {
            throw .notACertificateAuthority
        }
    }

    static func requirePeerUsages(_ certificate: Certificate) throws(PKIError) {
        let usage: ExtendedKeyUsage?
        do {
            usage = try certificate.extensions.extendedKeyUsage
        } catch {
            throw .missingExtendedKeyUsage("serverAuth and clientAuth (unreadable: \(error))")
        }
        guard let usage else { throw .missingExtendedKeyUsage("serverAuth and clientAuth") }
        guard usage.contains(.serverAuth) else { throw .missingExtendedKeyUsage("serverAuth") }
        guard usage.contains(.clientAuth) else { throw .missingExtendedKeyUsage("clientAuth") }
    }
}
