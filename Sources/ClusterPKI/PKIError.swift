/// Why a PKI operation failed; `description` is meant for an operator's terminal.
public enum PKIError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidNodeID(UInt64)
    case invalidIPAddress(String)
    case invalidValidity(days: Int)
    case certificateCreationFailed(reason: String)
    case fileExists(path: String)
    case fileReadFailed(path: String, reason: String)
    case fileWriteFailed(path: String, reason: String)
    case invalidPEM(what: String, reason: String)
    case notSignedByClusterCA(reason: String)
    case notACertificateAuthority
    case missingNodeName
    case ambiguousNodeName([String])
    case missingExtendedKeyUsage(String)
    case keyDoesNotMatchCertificate

    public var description: String {
        switch self {
        case let .invalidNodeID(id):
            return "invalid node id \(id): node ids start at 1"
        case let .invalidIPAddress(text):
            return "'\(text)' is not an IPv4 or IPv6 address"
        case let .invalidValidity(days):
            return "certificate validity of \(days) days is not positive"
        case let .certificateCreationFailed(reason):
            return "could not create the certificate: \(reason)"
        case let .fileExists(path):
            return "\(path) already exists; refusing to overwrite it"
        case let .fileReadFailed(path, reason):
            return "could not read \(path): \(reason)"
        case let .fileWriteFailed(path, reason):
            return "could not write \(path): \(reason)"
        case let .invalidPEM(what, reason):
            return "\(what) is not valid PEM: \(reason)"
        case let .notSignedByClusterCA(reason):
            return "the certificate is not valid under the cluster CA: \(reason)"
        case .notACertificateAuthority:
            return "the CA certificate lacks the CA basic constraint or the keyCertSign key usage"
        case .missingNodeName:
            return "the certificate names no node: it needs a subject alternative DNS name of the form node<ID>"
        case let .ambiguousNodeName(names):
            return "the certificate names several nodes (\(names.joined(separator: ", "))); exactly one is allowed"
        case let .missingExtendedKeyUsage(usage):
            return "the certificate's extended key usage lacks \(usage)"
        case .keyDoesNotMatchCertificate:
            return "the private key does not belong to the certificate"
        }
    }
}
