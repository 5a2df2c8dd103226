import NIOCore
import RaftCore
import Testing
@testable import ClusterTransport

@Suite("Wire codec")
struct WireCodecTests {
    let codec = WireCodec()

    @Test("every payload case round-trips", arguments: MessageSamples.everyCase)
    func roundTrip(_ message: Message) throws {
        let frame = try codec.encode(message)
        #expect(try codec.decode(frame: frame) == message)
        var buffer = ByteBuffer()
        buffer.writeString("prefix")
        try codec.encode(message, into: &buffer)
        #expect(buffer.readString(length: 6) == "prefix")
        #expect(buffer.readBytes(length: buffer.readableBytes) == frame)
    }

    @Test("frame header layout")
    func headerLayout() throws {
        let frame = try codec.encode(Message(from: 1, to: 2, term: 3, payload: .timeoutNow))
        #expect(frame == [0, 0, 0, 26, 1, 8] + [0, 0, 0, 0, 0, 0, 0, 1] + [0, 0, 0, 0, 0, 0, 0, 2] + [0, 0, 0, 0, 0, 0, 0, 3])
    }

    /// The three-entry append (137 bytes): entries start at 58; entry 0 is 28 bytes, entry 1 is 30, entry 2 is 21.
    var appendFrame: [UInt8] { try! codec.encode(MessageSamples.everyCase[1]) }
    /// Header only: 30 bytes.
    var timeoutNowFrame: [UInt8] { try! codec.encode(Message(from: 1, to: 2, term: 3, payload: .timeoutNow)) }
    /// One entry with 100 data bytes at 79.
    var oneEntryFrame: [UInt8] {
        try! codec.encode(Message(from: 1, to: 2, term: 3, payload: .appendEntries(
            prevIndex: 0, prevTerm: 0, entries: [Entry(term: 3, index: 1, data: [UInt8](repeating: 9, count: 100))], commit: 0)))
    }
    /// The snapshot with voters 1,2,3 (at 50, 58, 66) and learner 4 (at 78); data length at 86.
    var snapshotFrame: [UInt8] { try! codec.encode(MessageSamples.everyCase[10]) }

    static func patched(_ frame: [UInt8], at offset: Int, u64 value: UInt64) -> [UInt8] {
        var bytes = frame
        for byte in 0..<8 { bytes[offset + byte] = UInt8(truncatingIfNeeded: value >> UInt64(56 - 8 * byte)) }
        return bytes
    }

    static func patched(_ frame: [UInt8], at offset: Int, byte value: UInt8) -> [UInt8] {
        var bytes = frame
        bytes[offset] = value
        return bytes
    }

    @Test("errors name the field and the offset")
    func errorsSayWhatAndWhere() throws {
        #expect(appendFrame.count == 137)
        let cases: [([UInt8], WireError)] = [
            ([], .truncated(field: "length", offset: 0)),
            ([0, 0, 0], .truncated(field: "length", offset: 0)),
            ([0, 0, 0, 1, 1], .frameTooShort(size: 1)),
            (Array(appendFrame.prefix(5)), .truncated(field: "kind", offset: 5)),
            (Array(appendFrame.prefix(20)), .truncated(field: "to", offset: 14)),
            (Array(appendFrame.prefix(56)), .truncated(field: "entries.count", offset: 54)),
            (Array(appendFrame.prefix(100)), .truncated(field: "entries", offset: 58)),
            (Array(appendFrame.prefix(130)), .truncated(field: "entries[2].index", offset: 124)),
            (Array(appendFrame.prefix(82)), .truncated(field: "entries", offset: 58)),
            (Array(oneEntryFrame.prefix(120)), .truncated(field: "entries[0].data", offset: 79)),
            (Self.patched(appendFrame, at: 4, byte: 9), .unknownVersion(9)),
            (Self.patched(appendFrame, at: 5, byte: 99), .unknownKind(99, offset: 5)),
            (Self.patched(appendFrame, at: 74, byte: 5),
             .invalidValue(field: "entries[0].kind", offset: 74, reason: "unknown entry kind 5")),
            (appendFrame + [0xAA, 0xBB], .trailingBytes(count: 2, offset: 137)),
            ([0, 0, 0, 40] + timeoutNowFrame.dropFirst(4), .truncated(field: "message body", offset: 30)),
            ([0, 0, 0, 40] + timeoutNowFrame.dropFirst(4) + [1, 2], .truncated(field: "message body", offset: 32)),
            (Self.patched(snapshotFrame, at: 58, u64: 1),
             .invalidValue(field: "snapshot.conf.voters[1]", offset: 58,
                           reason: "members must be strictly increasing (1 after 1)")),
            (Self.patched(snapshotFrame, at: 50, u64: 0),
             .invalidValue(field: "snapshot.conf.voters[0]", offset: 50, reason: "node id 0 is reserved")),
            (Self.patched(snapshotFrame, at: 78, u64: 2),
             .invalidValue(field: "snapshot.conf.learners", offset: 86, reason: "a node is listed as both voter and learner")),
        ]
        for (frame, expected) in cases {
            #expect(throws: expected) { try codec.decode(frame: frame) }
        }
    }

    @Test("a bool that is neither 0 nor 1 is refused")
    func strictBool() throws {
        let frame = try codec.encode(MessageSamples.everyCase[2])
        #expect(throws: WireError.invalidValue(field: "success", offset: 30, reason: "bool byte 2 is neither 0 nor 1")) {
            try codec.decode(frame: Self.patched(frame, at: 30, byte: 2))
        }
    }

    @Test("a length prefix that hides trailing bytes is refused")
    func trailingInsideFrame() throws {
        var frame = try codec.encode(Message(from: 1, to: 2, term: 3, payload: .timeoutNow)) + [7]
        frame[3] += 1
        #expect(throws: WireError.trailingBytes(count: 1, offset: 30)) { try codec.decode(frame: frame) }
    }

    @Test("limits apply to decoding and encoding")
    func limits() throws {
        let small = WireCodec(limits: WireLimits(maximumFrameBytes: 100, maximumEntryCount: 2, maximumEntryDataBytes: 4,
                                                 maximumSnapshotDataBytes: 8, maximumMemberCount: 3))
        #expect(throws: WireError.frameTooLarge(size: 133, limit: 100)) { try small.decode(frame: appendFrame) }
        #expect(throws: WireError.limitExceeded(field: "entries.count", offset: 54, value: 3, limit: 2)) {
            try WireCodec(limits: WireLimits(maximumEntryCount: 2)).decode(frame: appendFrame)
        }
        #expect(throws: WireError.limitExceeded(field: "entries[0].data.length", offset: 75, value: 7, limit: 4)) {
            try WireCodec(limits: WireLimits(maximumEntryDataBytes: 4)).decode(frame: appendFrame)
        }
        #expect(throws: WireError.limitExceeded(field: "snapshot.conf.learners.count", offset: 74, value: 1, limit: 0)) {
            try WireCodec(limits: WireLimits(maximumMemberCount: 3)).decode(frame: snapshotFrame)
        }
        #expect(throws: WireError.limitExceeded(field: "entries.count", offset: 54, value: 3, limit: 2)) {
            try small.encode(MessageSamples.everyCase[1])
        }
        #expect(throws: WireError.limitExceeded(field: "snapshot.conf.members", offset: 46, value: 4, limit: 3)) {
            try small.encode(MessageSamples.everyCase[10])
        }
        #expect(throws: WireError.limitExceeded(field: "snapshot.data.length", offset: 86, value: 256, limit: 8)) {
            try WireCodec(limits: WireLimits(maximumSnapshotDataBytes: 8)).encode(MessageSamples.everyCase[10])
        }
        let big = Message(from: 1, to: 2, term: 1, payload: .appendEntries(
            prevIndex: 0, prevTerm: 0, entries: [Entry(term: 1, index: 1, data: [UInt8](repeating: 1, count: 90))], commit: 0))
        #expect(throws: WireError.frameTooLarge(size: 165, limit: 100)) {
            try WireCodec(limits: WireLimits(maximumFrameBytes: 100)).encode(big)
        }
        var buffer = ByteBuffer(string: "keep")
        #expect(throws: WireError.self) { try small.encode(big, into: &buffer) }
        #expect(buffer.readableBytes == 4, "a failed encode leaves the buffer as it was")
    }

    @Test("error messages are for humans")
    func descriptions() {
        #expect(WireError.truncated(field: "entries[3].data", offset: 120).description
            == "frame ends inside entries[3].data at offset 120")
        #expect(WireError.frameTooLarge(size: 10, limit: 5).description == "frame of 10 bytes exceeds the limit of 5 bytes")
        #expect(WireError.unknownVersion(9).description.contains("version 9"))
    }
}
