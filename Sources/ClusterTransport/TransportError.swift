/// Why the transport could not be set up or started.
public enum TransportError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidConfiguration(String)
    case invalidIdentity(String)
    case tlsSetupFailed(String)
    case bindFailed(host: String, port: Int, reason: String)
    case alreadyStarted
    case shutDown

    public var description: String {
        switch self {
        case let .invalidConfiguration(reason): return "invalid transport configuration: \(reason)"
        case let .invalidIdentity(reason): return "invalid TLS identity: \(reason)"
        case let .tlsSetupFailed(reason): return "could not set up TLS: \(reason)"
        case let .bindFailed(host, port, reason): return "could not listen on \(host):\(port): \(reason)"
        case .alreadyStarted: return "the transport is already started"
        case .shutDown: return "the transport has been shut down"
        }
    }
}
