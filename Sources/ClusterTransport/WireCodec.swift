import NIOCore
import RaftCore

/// The versioned binary encoding of `RaftCore.Message` on peer connections.
///
/// A frame is a 4-byte big-endian length (of what follows), a format version byte, a message-kind byte, the
/// common header (from, to, term as u64) and the kind's fields: integers big-endian, bools as exactly 0 or 1,
/// byte arrays and lists as a u32 count followed by their elements. The encoding is canonical (every message has
/// exactly one), which is what lets the fuzz test demand that any accepted frame re-encodes to the same bytes.
public struct WireCodec: Sendable {
    public static let formatVersion: UInt8 = 1
    /// Length prefix, version and kind.
    public static let frameHeaderBytes = 6
    /// Bytes of the length prefix alone.
    public static let lengthPrefixBytes = 4

    public var limits: WireLimits

    public init(limits: WireLimits = WireLimits()) {
        self.limits = limits
    }

    // MARK: Encoding

    /// The whole frame, length prefix included. Throws when the message exceeds a limit, because the receiver
    /// would reject it and close the connection: better to drop one message here than every queued one there.
    public func encode(_ message: Message) throws(WireError) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.estimatedFrameBytes(message))
        try encode(message, into: &bytes)
        return bytes
    }

    /// Appends the whole frame to `buffer`; on error `buffer` is left as it was.
    public func encode(_ message: Message, into buffer: inout ByteBuffer) throws(WireError) {
        let originalWriterIndex = buffer.writerIndex
        buffer.reserveCapacity(minimumWritableBytes: Self.estimatedFrameBytes(message))
        var sink = ByteBufferSink(buffer)
        buffer = ByteBuffer()  // keep a single reference so the sink writes without copying
        do {
            try encode(message, into: &sink)
            buffer = sink.buffer
        } catch {
            buffer = sink.buffer
            buffer.moveWriterIndex(to: originalWriterIndex)
            throw error
        }
    }

    func encode<Sink: WireSink>(_ message: Message, into sink: inout Sink) throws(WireError) {
        sink.appendU32(0)  // patched below once the size is known
        sink.appendU8(Self.formatVersion)
        sink.appendU8(MessageKind(message.payload).rawValue)
        sink.appendU64(message.from)
        sink.appendU64(message.to)
        sink.appendU64(message.term)
        switch message.payload {
        case let .appendEntries(prevIndex, prevTerm, entries, commit):
            sink.appendU64(prevIndex)
            sink.appendU64(prevTerm)
            sink.appendU64(commit)
            try checkLimit("entries.count", at: sink.writtenBytes, value: entries.count, limit: limits.maximumEntryCount)
            sink.appendU32(UInt32(entries.count))
            for (position, entry) in entries.enumerated() {
                sink.appendU64(entry.term)
                sink.appendU64(entry.index)
                sink.appendU8(entry.kind.rawValue)
                try checkLimit("entries[\(position)].data.length", at: sink.writtenBytes,
                               value: entry.data.count, limit: limits.maximumEntryDataBytes)
                sink.appendU32(UInt32(entry.data.count))
                sink.appendBytes(entry.data)
                try checkFrameSize(sink.writtenBytes)
            }
        case let .appendResponse(success, index, conflictTerm, conflictIndex):
            sink.appendU8(success ? 1 : 0)
            sink.appendU64(index)
            sink.appendU64(conflictTerm)
            sink.appendU64(conflictIndex)
        case let .requestVote(lastIndex, lastTerm, preVote, transfer):
            sink.appendU64(lastIndex)
            sink.appendU64(lastTerm)
            sink.appendU8(preVote ? 1 : 0)
            sink.appendU8(transfer ? 1 : 0)
        case let .voteResponse(granted, preVote):
            sink.appendU8(granted ? 1 : 0)
            sink.appendU8(preVote ? 1 : 0)
        case let .heartbeat(commit, readSeq):
            sink.appendU64(commit)
            sink.appendU64(readSeq)
        case let .heartbeatResponse(readSeq):
            sink.appendU64(readSeq)
        case let .installSnapshot(snapshot):
            sink.appendU64(snapshot.index)
            sink.appendU64(snapshot.term)
            try checkLimit("snapshot.conf.members", at: sink.writtenBytes,
                           value: snapshot.conf.voters.count + snapshot.conf.learners.count,
                           limit: limits.maximumMemberCount)
            sink.appendU32(UInt32(snapshot.conf.voters.count))
            for voter in snapshot.conf.voters { sink.appendU64(voter) }
            sink.appendU32(UInt32(snapshot.conf.learners.count))
            for learner in snapshot.conf.learners { sink.appendU64(learner) }
            try checkLimit("snapshot.data.length", at: sink.writtenBytes,
                           value: snapshot.data.count, limit: limits.maximumSnapshotDataBytes)
            sink.appendU32(UInt32(snapshot.data.count))
            sink.appendBytes(snapshot.data)
        case .timeoutNow:
            break
        case let .readIndexRequest(context):
            sink.appendU64(context)
        case let .readIndexResponse(context, index):
            sink.appendU64(context)
            sink.appendU64(index)
        }
        let bodyBytes = sink.writtenBytes - Self.lengthPrefixBytes
        try checkFrameSize(sink.writtenBytes)
        sink.patchU32(UInt32(bodyBytes), at: 0)
    }

    /// `field` is built only for the error: naming each entry cost an allocation per entry encoded.
    private func checkLimit(_ field: @autoclosure () -> String, at offset: Int, value: Int, limit: Int) throws(WireError) {
        guard value <= limit else { throw .limitExceeded(field: field(), offset: offset, value: value, limit: limit) }
    }

    private func checkFrameSize(_ writtenBytes: Int) throws(WireError) {
        let bodyBytes = writtenBytes - Self.lengthPrefixBytes
        guard bodyBytes <= limits.maximumFrameBytes else {
            throw .frameTooLarge(size: bodyBytes, limit: limits.maximumFrameBytes)
        }
    }

    static func estimatedFrameBytes(_ message: Message) -> Int {
        switch message.payload {
        case let .appendEntries(_, _, entries, _):
            return 64 + entries.reduce(0) { $0 + 21 + $1.data.count }
        case let .installSnapshot(snapshot):
            return 64 + 8 * (snapshot.conf.voters.count + snapshot.conf.learners.count) + snapshot.data.count
        default:
            return 64
        }
    }

    // MARK: Decoding

    /// Decodes one complete frame, length prefix included; the bytes must hold exactly that frame.
    public func decode(frame bytes: [UInt8]) throws(WireError) -> Message {
        guard bytes.count >= Self.lengthPrefixBytes else { throw .truncated(field: "length", offset: 0) }
        var length = 0
        for byte in bytes[0..<Self.lengthPrefixBytes] { length = length << 8 | Int(byte) }
        try checkAnnouncedLength(length)
        let available = bytes.count - Self.lengthPrefixBytes
        let body = Array(bytes[Self.lengthPrefixBytes...])
        if available < length {
            // Decode what is there so the error names the field that is cut off; if the message looks complete,
            // the frame is still shorter than its length prefix says.
            do {
                _ = try decodeBody(body)
            } catch {
                if case .trailingBytes = error {} else { throw error }
            }
            throw .truncated(field: "message body", offset: bytes.count)
        }
        guard available == length else {
            throw .trailingBytes(count: available - length, offset: Self.lengthPrefixBytes + length)
        }
        return try decodeBody(body)
    }

    /// Validates a length prefix before anything is buffered, so an oversized frame is refused on sight.
    public func checkAnnouncedLength(_ length: Int) throws(WireError) {
        guard length <= limits.maximumFrameBytes else { throw .frameTooLarge(size: length, limit: limits.maximumFrameBytes) }
        guard length >= 2 else { throw .frameTooShort(size: length) }
    }

    /// Decodes the bytes after the length prefix: exactly one message, nothing after it.
    func decodeBody(_ body: [UInt8]) throws(WireError) -> Message {
        var reader = WireReader(body, baseOffset: Self.lengthPrefixBytes)
        let version = try reader.u8("version")
        guard version == Self.formatVersion else { throw .unknownVersion(version) }
        let kindOffset = reader.offset
        let kindByte = try reader.u8("kind")
        guard let kind = MessageKind(rawValue: kindByte) else { throw .unknownKind(kindByte, offset: kindOffset) }
        let from = try reader.u64("from")
        let to = try reader.u64("to")
        let term = try reader.u64("term")
        let payload = try decodePayload(kind, &reader)
        if reader.remaining > 0 {
            throw .trailingBytes(count: reader.remaining, offset: reader.offset)
        }
        return Message(from: from, to: to, term: term, payload: payload)
    }

    private func decodePayload(_ kind: MessageKind, _ reader: inout WireReader) throws(WireError) -> Message.Payload {
        switch kind {
        case .appendEntries:
            let prevIndex = try reader.u64("prevIndex")
            let prevTerm = try reader.u64("prevTerm")
            let commit = try reader.u64("commit")
            let count = try reader.count("entries", limit: limits.maximumEntryCount, minimumElementBytes: 21)
            var entries: [Entry] = []
            entries.reserveCapacity(count)
            for position in 0..<count {
                let entryTerm = try reader.u64("entries[\(position)].term")
                let index = try reader.u64("entries[\(position)].index")
                let kindOffset = reader.offset
                let kindByte = try reader.u8("entries[\(position)].kind")
                guard let entryKind = EntryKind(rawValue: kindByte) else {
                    throw .invalidValue(field: "entries[\(position)].kind", offset: kindOffset,
                                        reason: "unknown entry kind \(kindByte)")
                }
                let data = try reader.byteArray("entries[\(position)].data", limit: limits.maximumEntryDataBytes)
                entries.append(Entry(term: entryTerm, index: index, kind: entryKind, data: data))
            }
            return .appendEntries(prevIndex: prevIndex, prevTerm: prevTerm, entries: entries, commit: commit)
        case .appendResponse:
            let success = try reader.bool("success")
            let index = try reader.u64("index")
            let conflictTerm = try reader.u64("conflictTerm")
            let conflictIndex = try reader.u64("conflictIndex")
            return .appendResponse(success: success, index: index, conflictTerm: conflictTerm, conflictIndex: conflictIndex)
        case .requestVote:
            let lastIndex = try reader.u64("lastIndex")
            let lastTerm = try reader.u64("lastTerm")
            let preVote = try reader.bool("preVote")
            let transfer = try reader.bool("transfer")
            return .requestVote(lastIndex: lastIndex, lastTerm: lastTerm, preVote: preVote, transfer: transfer)
        case .voteResponse:
            let granted = try reader.bool("granted")
            let preVote = try reader.bool("preVote")
            return .voteResponse(granted: granted, preVote: preVote)
        case .heartbeat:
            let commit = try reader.u64("commit")
            let readSeq = try reader.u64("readSeq")
            return .heartbeat(commit: commit, readSeq: readSeq)
        case .heartbeatResponse:
            return .heartbeatResponse(readSeq: try reader.u64("readSeq"))
        case .installSnapshot:
            let index = try reader.u64("snapshot.index")
            let snapshotTerm = try reader.u64("snapshot.term")
            let voters = try decodeMembers("snapshot.conf.voters", limit: limits.maximumMemberCount, &reader)
            let learners = try decodeMembers("snapshot.conf.learners",
                                             limit: limits.maximumMemberCount - voters.count, &reader)
            let learnersEnd = reader.offset
            guard Set(voters).isDisjoint(with: learners) else {
                throw .invalidValue(field: "snapshot.conf.learners", offset: learnersEnd,
                                    reason: "a node is listed as both voter and learner")
            }
            let data = try reader.byteArray("snapshot.data", limit: limits.maximumSnapshotDataBytes)
            let conf = ConfState(voters: voters, learners: learners)
            return .installSnapshot(Snapshot(index: index, term: snapshotTerm, conf: conf, data: data))
        case .timeoutNow:
            return .timeoutNow
        case .readIndexRequest:
            return .readIndexRequest(context: try reader.u64("context"))
        case .readIndexResponse:
            let context = try reader.u64("context")
            let index = try reader.u64("index")
            return .readIndexResponse(context: context, index: index)
        }
    }

    /// Members are strictly increasing and never 0, the form `ConfState` keeps them in.
    private func decodeMembers(_ field: String, limit: Int, _ reader: inout WireReader) throws(WireError) -> [NodeID] {
        let count = try reader.count(field, limit: limit, minimumElementBytes: 8)
        var members: [NodeID] = []
        members.reserveCapacity(count)
        for position in 0..<count {
            let offset = reader.offset
            let member = try reader.u64("\(field)[\(position)]")
            guard member != noNode else {
                throw .invalidValue(field: "\(field)[\(position)]", offset: offset, reason: "node id 0 is reserved")
            }
            if let previous = members.last, member <= previous {
                throw .invalidValue(field: "\(field)[\(position)]", offset: offset,
                                    reason: "members must be strictly increasing (\(member) after \(previous))")
            }
            members.append(member)
        }
        return members
    }
}
