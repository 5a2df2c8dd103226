/// Why `vigil init` wrote nothing (or stopped part-way, which it names).
public enum InitError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidArgument(String, String)
    case clusterExists(path: String)
    case pki(String)
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidArgument(option, reason): return "\(option): \(reason)"
        case let .clusterExists(path): return "\(path) already exists; refusing to overwrite an existing cluster"
        case let .pki(reason): return "could not create certificates: \(reason)"
        case let .writeFailed(path, reason): return "could not write \(path): \(reason)"
        }
    }
}
