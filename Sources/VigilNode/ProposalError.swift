import RaftCore

/// Why a write or a linearizable read was not served; the HTTP layer maps each to a status code.
public enum ProposalError: Error, Sendable, Equatable, CustomStringConvertible {
    case notLeader(leaderHint: NodeID)
    /// The core refused the request (back-pressure, a transfer in progress).
    case refused(String)
    /// Another leader's entry took the proposal's place in the log: it was not applied.
    case superseded
    /// No answer before the deadline; a write may still be applied later.
    case timedOut
    case stopping

    public var description: String {
        switch self {
        case let .notLeader(hint): return hint == noNode ? "no leader is known" : "this node is not the leader; node \(hint) is"
        case let .refused(reason): return "the leader refused the request: \(reason)"
        case .superseded: return "leadership changed before the write committed; it was not applied, retry"
        case .timedOut: return "no answer in time; the write may or may not be applied"
        case .stopping: return "the node is stopping"
        }
    }

    init(_ error: RaftError) {
        switch error {
        case let .notLeader(hint): self = .notLeader(leaderHint: hint)
        default: self = .refused(error.description)
        }
    }
}
