import RaftCore

/// The kind byte of each payload case; values are part of the wire format and never reused.
enum MessageKind: UInt8 {
    case appendEntries = 1
    case appendResponse = 2
    case requestVote = 3
    case voteResponse = 4
    case heartbeat = 5
    case heartbeatResponse = 6
    case installSnapshot = 7
    case timeoutNow = 8
    case readIndexRequest = 9
    case readIndexResponse = 10

    init(_ payload: Message.Payload) {
        switch payload {
        case .appendEntries: self = .appendEntries
        case .appendResponse: self = .appendResponse
        case .requestVote: self = .requestVote
        case .voteResponse: self = .voteResponse
        case .heartbeat: self = .heartbeat
        case .heartbeatResponse: self = .heartbeatResponse
        case .installSnapshot: self = .installSnapshot
        case .timeoutNow: self = .timeoutNow
        case .readIndexRequest: self = .readIndexRequest
        case .readIndexResponse: self = .readIndexResponse
        }
    }
}
