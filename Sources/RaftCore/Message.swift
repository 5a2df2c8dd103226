/// A message between two Raft peers; `term` is the sender's term (for pre-votes, the term it would campaign in).
public struct Message: Sendable, Hashable {
    public var from: NodeID
    public var to: NodeID
    public var term: Term
    public var payload: Payload

    public init(from: NodeID, to: NodeID, term: Term, payload: Payload) {
        self.from = from
        self.to = to
        self.term = term
        self.payload = payload
    }

    /// Every kind of message the core sends or accepts.
    public enum Payload: Sendable, Hashable {
        /// Leader → follower: entries after (prevIndex, prevTerm) and the leader's commit index (paper §5.3).
        case appendEntries(prevIndex: LogIndex, prevTerm: Term, entries: [Entry], commit: LogIndex)
        /// Follower → leader. On success `index` is the follower's last matching index; on rejection it is the
        /// rejected `prevIndex`, with the follower's conflicting term and the first index of that term as hints.
        case appendResponse(success: Bool, index: LogIndex, conflictTerm: Term, conflictIndex: LogIndex)
        /// Candidate → voter (paper §5.2; pre-vote per thesis §9.6; `transfer` marks a TimeoutNow campaign, §3.10).
        case requestVote(lastIndex: LogIndex, lastTerm: Term, preVote: Bool, transfer: Bool)
        case voteResponse(granted: Bool, preVote: Bool)
        /// Leader → follower: keeps followers from campaigning; `readSeq` confirms leadership for ReadIndex (§6.4).
        case heartbeat(commit: LogIndex, readSeq: UInt64)
        case heartbeatResponse(readSeq: UInt64)
        /// Leader → a follower whose next entry was compacted away (paper §7).
        case installSnapshot(Snapshot)
        /// Leader → chosen successor: campaign now, skipping pre-vote and the leader lease (thesis §3.10).
        case timeoutNow
        /// Follower → leader: please confirm a read index for `context`.
        case readIndexRequest(context: UInt64)
        /// Leader → follower: the read index for `context`.
        case readIndexResponse(context: UInt64, index: LogIndex)
    }

    /// Whether the message may leave before the sender's state in the same `Ready` is durable.
    /// A leader's outgoing replication acknowledges nothing, so it may overlap the leader's own disk write
    /// (thesis §10.2.1); anything that answers or asks for a vote must wait for the disk.
    public var maySendBeforePersist: Bool {
        switch payload {
        case .appendEntries, .heartbeat, .installSnapshot, .timeoutNow, .readIndexResponse: return true
        case .appendResponse, .requestVote, .voteResponse, .heartbeatResponse, .readIndexRequest: return false
        }
    }

    var isAppendResponse: Bool {
        if case .appendResponse = payload { return true } else { return false }
    }

    /// A short name for traces and metrics.
    public var kindName: String {
        switch payload {
        case .appendEntries: return "append"
        case .appendResponse: return "appendResp"
        case .requestVote(_, _, let pre, _): return pre ? "preVote" : "vote"
        case .voteResponse(_, let pre): return pre ? "preVoteResp" : "voteResp"
        case .heartbeat: return "heartbeat"
        case .heartbeatResponse: return "heartbeatResp"
        case .installSnapshot: return "snapshot"
        case .timeoutNow: return "timeoutNow"
        case .readIndexRequest: return "readIndex"
        case .readIndexResponse: return "readIndexResp"
        }
    }
}

extension Message: CustomStringConvertible {
    public var description: String {
        var text = "\(from)→\(to) t\(term) \(kindName)"
        switch payload {
        case let .appendEntries(prevIndex, prevTerm, entries, commit):
            text += " prev=\(prevIndex)/t\(prevTerm) n=\(entries.count) commit=\(commit)"
        case let .appendResponse(success, index, conflictTerm, conflictIndex):
            text += success ? " ok index=\(index)" : " reject index=\(index) hint=\(conflictIndex)/t\(conflictTerm)"
        case let .requestVote(lastIndex, lastTerm, _, transfer):
            text += " last=\(lastIndex)/t\(lastTerm)" + (transfer ? " transfer" : "")
        case let .voteResponse(granted, _):
            text += granted ? " granted" : " rejected"
        case let .heartbeat(commit, readSeq):
            text += " commit=\(commit) read=\(readSeq)"
        case let .heartbeatResponse(readSeq):
            text += " read=\(readSeq)"
        case let .installSnapshot(snapshot):
            text += " index=\(snapshot.index)/t\(snapshot.term)"
        case .timeoutNow:
            break
        case let .readIndexRequest(context):
            text += " ctx=\(context)"
        case let .readIndexResponse(context, index):
            text += " ctx=\(context) index=\(index)"
        }
        return text
    }
}
