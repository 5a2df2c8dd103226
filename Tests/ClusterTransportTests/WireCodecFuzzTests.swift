import NIOCore
import NIOEmbedded
import RaftCore
import Testing
@testable import ClusterTransport

@Suite("Wire codec fuzz")
struct WireCodecFuzzTests {
    static let framesPerSeed = 3_000
    static let seeds: [UInt64] = [1, 2, 3, 4, 5, 6, 0xC0FFEE, 0xDEAD_BEEF]

    /// Mutates a valid frame so decoding hits every path: flipped bytes, truncation, extension, a forged
    /// length, splices and pure noise.
    static func mutate(_ frame: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var bytes = frame
        switch rng.next() % 8 {
        case 0:
            for _ in 0...(rng.next() % 4) where !bytes.isEmpty {
                bytes[Int(rng.next() % UInt64(bytes.count))] ^= UInt8(truncatingIfNeeded: 1 &+ rng.next() % 255)
            }
        case 1:
            bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count + 1))))
        case 2:
            bytes += (0..<(1 + rng.next() % 16)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        case 3:
            bytes = (0..<(rng.next() % 80)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        case 4:
            let length = UInt32(truncatingIfNeeded: rng.next() % 3 == 0 ? rng.next() : rng.next() % UInt64(bytes.count + 8))
            for byte in 0..<4 { bytes[byte] = UInt8(truncatingIfNeeded: length >> UInt32(24 - 8 * byte)) }
        case 5:
            // Keep the header, replace one field's byte with an edge value (0, 1, 2, 0xFF).
            if bytes.count > 6 {
                bytes[6 + Int(rng.next() % UInt64(bytes.count - 6))] = [0, 1, 2, 0xFF][Int(rng.next() % 4)]
            }
        case 6:
            bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count + 1))))
            let length = UInt32(max(bytes.count - 4, 0))
            if bytes.count >= 4 {
                for byte in 0..<4 { bytes[byte] = UInt8(truncatingIfNeeded: length >> UInt32(24 - 8 * byte)) }
            }
        default:
            break  // unmutated: must decode to the original
        }
        return bytes
    }

    @Test("mutated, truncated and random frames never crash and fail only with typed errors", arguments: seeds)
    func fuzz(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let codecs = [
            WireCodec(),
            WireCodec(limits: WireLimits(maximumFrameBytes: 160, maximumEntryCount: 3, maximumEntryDataBytes: 16,
                                         maximumSnapshotDataBytes: 24, maximumMemberCount: 4)),
        ]
        var accepted = 0
        var rejected = 0
        for _ in 0..<Self.framesPerSeed {
            let codec = codecs[Int(rng.next() % 2)]
            let original = MessageSamples.random(using: &rng)
            guard let frame = try? WireCodec().encode(original) else {
                Issue.record("a generated message failed to encode")
                continue
            }
            let input = Self.mutate(frame, &rng)
            switch Result(catching: { () throws(WireError) -> Message in try codec.decode(frame: input) }) {
            case let .success(decoded):
                accepted += 1
                // Canonical encoding: whatever is accepted re-encodes to exactly the same bytes.
                let reencoded = try codec.encode(decoded)
                #expect(reencoded == input, "seed \(seed): accepted frame does not re-encode identically")
                #expect(try codec.decode(frame: reencoded) == decoded)
                if input == frame { #expect(decoded == original) }
            case let .failure(error):
                rejected += 1
                #expect(!error.description.isEmpty)
                switch error {
                case let .truncated(_, offset), let .unknownKind(_, offset), let .invalidValue(_, offset, _),
                     let .limitExceeded(_, offset, _, _), let .trailingBytes(_, offset):
                    #expect(offset >= 0 && offset <= input.count, "seed \(seed): offset \(offset) outside a \(input.count)-byte frame: \(error)")
                case .frameTooLarge, .frameTooShort, .unknownVersion:
                    break
                }
            }
        }
        #expect(accepted + rejected == Self.framesPerSeed)
        #expect(accepted > Self.framesPerSeed / 40, "too few frames survived mutation to test re-encoding")
        #expect(rejected > Self.framesPerSeed / 4, "too few mutations were rejected to test the error paths")
    }

    @Test("the stream decoder reassembles frames split at random points", arguments: [11 as UInt64, 12, 13])
    func streamReassembly(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let codec = WireCodec()
        let messages = (0..<300).map { _ in MessageSamples.random(using: &rng) }
        var stream: [UInt8] = []
        for message in messages { stream += try codec.encode(message) }
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(codec: codec)))
        var position = 0
        while position < stream.count {
            let chunk = min(stream.count - position, 1 + Int(rng.next() % 64))
            try channel.writeInbound(ByteBuffer(bytes: stream[position..<(position + chunk)]))
            position += chunk
        }
        var received: [Message] = []
        while let frame = try channel.readInbound(as: DecodedFrame.self) { if let message = frame.message { received.append(message) } }
        #expect(received == messages)
        _ = try channel.finish()
    }

    @Test("the stream decoder refuses an oversized length before the body arrives")
    func oversizedLengthRefusedAtOnce() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(
            FrameDecoder(codec: WireCodec(limits: WireLimits(maximumFrameBytes: 1024)))))
        #expect(throws: WireError.frameTooLarge(size: 1025, limit: 1024)) {
            try channel.writeInbound(ByteBuffer(bytes: [0, 0, 4, 1]))
        }
        _ = try? channel.finish()
    }
}
