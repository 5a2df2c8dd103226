/// Why a node could not start or had to stop; `description` is what the operator reads.
public enum NodeError: Error, Equatable, Sendable, CustomStringConvertible {
    case config(ConfigError)
    case storage(String)
    case tls(String)
    case transport(String)
    case http(String)
    case snapshotUndecodable(String)
    /// A persist failed: the node stops rather than acknowledge anything that may not be on disk.
    case persistFailed(String)

    public var description: String {
        switch self {
        case let .config(error): return error.description
        case let .storage(message): return "cannot open the Raft log: \(message)"
        case let .tls(message): return "cannot load the TLS identity: \(message)"
        case let .transport(message): return "cannot start the peer transport: \(message)"
        case let .http(message): return "cannot start the HTTP server: \(message)"
        case let .snapshotUndecodable(message): return "cannot restore the state machine: \(message)"
        case let .persistFailed(message): return "stopping: a write to the Raft log failed: \(message)"
        }
    }

    /// The process exit code: distinct per cause so scripts and tests can tell them apart.
    public var exitCode: Int32 {
        switch self {
        case .config: return 2
        case .storage: return 3
        case .tls: return 4
        case .transport, .http: return 5
        case .snapshotUndecodable, .persistFailed: return 6
        }
    }
}
