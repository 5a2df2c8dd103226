import RaftCore

/// Client writes a follower hands to its leader over the peer connection (one hop, no second HTTP request): each
/// an id the follower chose and the encoded command. The leader proposes them as entries that carry the id, and
/// the follower answers its client when it applies the entry with that id; a lost batch times out there.
public struct ForwardedProposals: Sendable, Equatable {
    /// One client write.
    public struct Proposal: Sendable, Equatable {
        public var id: UInt64
        public var command: [UInt8]

        public init(id: UInt64, command: [UInt8]) {
            self.id = id
            self.command = command
        }
    }

    public static let maximumProposals = 1_024

    public var from: NodeID
    public var to: NodeID
    /// The term in which the sender saw `to` lead: a leader of another term drops the batch.
    public var term: Term
    public var proposals: [Proposal]

    public init(from: NodeID, to: NodeID, term: Term, proposals: [Proposal]) {
        self.from = from
        self.to = to
        self.term = term
        self.proposals = proposals
    }
}

extension ControlKind {
    static let forwardedProposals: UInt8 = 14
}

extension WireCodec {
    /// Layout after version and kind: from, to and term (u64), the proposal count (u32), then each proposal's id
    /// (u64) and command (u32 length + bytes).
    func encode<Sink: WireSink>(_ frame: ForwardedProposals, into sink: inout Sink) throws(WireError) {
        sink.appendU32(0)
        sink.appendU8(Self.formatVersion)
        sink.appendU8(ControlKind.forwardedProposals)
        sink.appendU64(frame.from)
        sink.appendU64(frame.to)
        sink.appendU64(frame.term)
        guard (1...ForwardedProposals.maximumProposals).contains(frame.proposals.count) else {
            throw .limitExceeded(field: "proposals.count", offset: sink.writtenBytes, value: frame.proposals.count,
                                 limit: ForwardedProposals.maximumProposals)
        }
        sink.appendU32(UInt32(frame.proposals.count))
        for proposal in frame.proposals {
            sink.appendU64(proposal.id)
            sink.appendU32(UInt32(proposal.command.count))
            sink.appendBytes(proposal.command)
        }
        let bodyBytes = sink.writtenBytes - Self.lengthPrefixBytes
        guard bodyBytes <= limits.maximumFrameBytes else { throw .frameTooLarge(size: bodyBytes, limit: limits.maximumFrameBytes) }
        sink.patchU32(UInt32(bodyBytes), at: 0)
    }

    /// The whole frame as bytes (tests and tools).
    public func encode(_ frame: ForwardedProposals) throws(WireError) -> [UInt8] {
        var bytes: [UInt8] = []
        try encode(frame, into: &bytes)
        return bytes
    }

    func decodeForwardedProposals(_ reader: inout WireReader) throws(WireError) -> ForwardedProposals {
        let from = try reader.u64("from")
        let to = try reader.u64("to")
        let term = try reader.u64("term")
        let countOffset = reader.offset
        let count = Int(try reader.u32("proposals.count"))
        guard (1...ForwardedProposals.maximumProposals).contains(count) else {
            throw .limitExceeded(field: "proposals.count", offset: countOffset, value: count, limit: ForwardedProposals.maximumProposals)
        }
        var proposals: [ForwardedProposals.Proposal] = []
        proposals.reserveCapacity(count)
        for position in 0..<count {
            let id = try reader.u64("proposals[\(position)].id")
            let command = try reader.byteArray("proposals[\(position)].command", limit: limits.maximumFrameBytes)
            proposals.append(.init(id: id, command: command))
        }
        return ForwardedProposals(from: from, to: to, term: term, proposals: proposals)
    }
}
