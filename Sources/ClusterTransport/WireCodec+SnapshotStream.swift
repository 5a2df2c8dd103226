import NIOCore
import RaftCore

/// Kind bytes of the snapshot stream, beside `MessageKind`'s; never reused.
enum SnapshotStreamKind: UInt8 {
    case chunk = 11
    case ack = 12
}

extension WireCodec {
    /// SHA-256 digests are exactly this long.
    public static let snapshotChecksumBytes = 32

    /// The largest chunk payload that still fits a frame with its header.
    public var maximumSnapshotChunkDataBytes: Int { limits.maximumFrameBytes - 128 }

    /// Appends the whole frame (length prefix included) to `buffer`; on error `buffer` is left as it was.
    ///
    /// Layout after version and kind: from, to, snapshot index and term (u64); a chunk then has the total size (u64),
    /// the checksum (32 bytes), the offset (u64) and the data (u32 length + bytes); an ack has the received size (u64)
    /// and its status byte.
    public func encode(_ frame: SnapshotStreamFrame, into buffer: inout ByteBuffer) throws(WireError) {
        let originalWriterIndex = buffer.writerIndex
        var sink = ByteBufferSink(buffer)
        buffer = ByteBuffer()
        do {
            try encode(frame, into: &sink)
            buffer = sink.buffer
        } catch {
            buffer = sink.buffer
            buffer.moveWriterIndex(to: originalWriterIndex)
            throw error
        }
    }

    /// The whole frame as bytes (tests and tools).
    public func encode(_ frame: SnapshotStreamFrame) throws(WireError) -> [UInt8] {
        var bytes: [UInt8] = []
        try encode(frame, into: &bytes)
        return bytes
    }

    func encode<Sink: WireSink>(_ frame: SnapshotStreamFrame, into sink: inout Sink) throws(WireError) {
        sink.appendU32(0)
        sink.appendU8(Self.formatVersion)
        switch frame {
        case let .chunk(chunk):
            sink.appendU8(SnapshotStreamKind.chunk.rawValue)
            sink.appendU64(chunk.from)
            sink.appendU64(chunk.to)
            sink.appendU64(chunk.snapshotIndex)
            sink.appendU64(chunk.snapshotTerm)
            sink.appendU64(chunk.totalBytes)
            guard chunk.checksum.count == Self.snapshotChecksumBytes else {
                throw .invalidValue(field: "checksum", offset: sink.writtenBytes,
                                    reason: "a SHA-256 checksum has 32 bytes, not \(chunk.checksum.count)")
            }
            sink.appendBytes(chunk.checksum)
            sink.appendU64(chunk.offset)
            guard chunk.data.count <= maximumSnapshotChunkDataBytes else {
                throw .limitExceeded(field: "data.length", offset: sink.writtenBytes, value: chunk.data.count,
                                     limit: maximumSnapshotChunkDataBytes)
            }
            guard chunk.offset <= chunk.totalBytes, UInt64(chunk.data.count) <= chunk.totalBytes - chunk.offset else {
                throw .invalidValue(field: "data", offset: sink.writtenBytes,
                                    reason: "bytes \(chunk.offset)..<\(chunk.offset + UInt64(chunk.data.count)) run past the file's \(chunk.totalBytes)")
            }
            sink.appendU32(UInt32(chunk.data.count))
            sink.appendBytes(chunk.data)
        case let .ack(ack):
            sink.appendU8(SnapshotStreamKind.ack.rawValue)
            sink.appendU64(ack.from)
            sink.appendU64(ack.to)
            sink.appendU64(ack.snapshotIndex)
            sink.appendU64(ack.snapshotTerm)
            sink.appendU64(ack.receivedBytes)
            sink.appendU8(ack.status.rawValue)
        }
        let bodyBytes = sink.writtenBytes - Self.lengthPrefixBytes
        guard bodyBytes <= limits.maximumFrameBytes else { throw .frameTooLarge(size: bodyBytes, limit: limits.maximumFrameBytes) }
        sink.patchU32(UInt32(bodyBytes), at: 0)
    }

    /// Decodes the bytes after the length prefix: a Raft message, a snapshot-stream frame or a hello, nothing
    /// after it. A kind this release does not know is reported as `.unknownKind`, not an error: a newer minor
    /// release may send it, and skipping it is what lets the two run side by side during a rolling upgrade.
    func decodeInbound(_ body: [UInt8]) throws(WireError) -> InboundFrame {
        // Another wire format, or a Raft message kind: decodeBody names the problem or decodes it.
        guard body.count >= 2, body[0] == Self.formatVersion, MessageKind(rawValue: body[1]) == nil else {
            return .raft(try decodeBody(body))
        }
        var reader = WireReader(body, baseOffset: Self.lengthPrefixBytes)
        _ = try reader.u8("version")
        _ = try reader.u8("kind")
        guard let kind = SnapshotStreamKind(rawValue: body[1]) else {
            let control: InboundFrame
            switch body[1] {
            case ControlKind.hello.rawValue: control = .hello(try decodeHello(&reader))
            case ControlKind.forwardedProposals: control = .forwarded(try decodeForwardedProposals(&reader))
            default: return .unknownKind(body[1])
            }
            if reader.remaining > 0 { throw .trailingBytes(count: reader.remaining, offset: reader.offset) }
            return control
        }
        let from = try reader.u64("from")
        let to = try reader.u64("to")
        let index = try reader.u64("snapshotIndex")
        let term = try reader.u64("snapshotTerm")
        let frame: SnapshotStreamFrame
        switch kind {
        case .chunk:
            let total = try reader.u64("totalBytes")
            var checksum: [UInt8] = []
            checksum.reserveCapacity(Self.snapshotChecksumBytes)
            for _ in 0..<Self.snapshotChecksumBytes { checksum.append(try reader.u8("checksum")) }
            let offsetField = reader.offset
            let offset = try reader.u64("offset")
            let data = try reader.byteArray("data", limit: maximumSnapshotChunkDataBytes)
            guard offset <= total, UInt64(data.count) <= total - offset else {
                throw .invalidValue(field: "offset", offset: offsetField,
                                    reason: "bytes \(offset)..<\(offset &+ UInt64(data.count)) run past the file's \(total)")
            }
            frame = .chunk(SnapshotChunk(from: from, to: to, snapshotIndex: index, snapshotTerm: term, totalBytes: total,
                                         checksum: checksum, offset: offset, data: data))
        case .ack:
            let received = try reader.u64("receivedBytes")
            let statusOffset = reader.offset
            let statusByte = try reader.u8("status")
            guard let status = SnapshotChunkAck.Status(rawValue: statusByte) else {
                throw .invalidValue(field: "status", offset: statusOffset, reason: "unknown acknowledgement status \(statusByte)")
            }
            frame = .ack(SnapshotChunkAck(from: from, to: to, snapshotIndex: index, snapshotTerm: term,
                                          receivedBytes: received, status: status))
        }
        if reader.remaining > 0 { throw .trailingBytes(count: reader.remaining, offset: reader.offset) }
        return .snapshotStream(frame)
    }

    /// Decodes one complete frame of either family, length prefix included (tests and tools).
    public func decodeInbound(frame bytes: [UInt8]) throws(WireError) -> InboundFrame {
        guard bytes.count >= Self.lengthPrefixBytes else { throw .truncated(field: "length", offset: 0) }
        var length = 0
        for byte in bytes[0..<Self.lengthPrefixBytes] { length = length << 8 | Int(byte) }
        try checkAnnouncedLength(length)
        guard bytes.count - Self.lengthPrefixBytes == length else {
            if bytes.count - Self.lengthPrefixBytes < length { throw .truncated(field: "message body", offset: bytes.count) }
            throw .trailingBytes(count: bytes.count - Self.lengthPrefixBytes - length, offset: Self.lengthPrefixBytes + length)
        }
        return try decodeInbound(Array(bytes[Self.lengthPrefixBytes...]))
    }
}
