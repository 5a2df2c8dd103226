import RaftCore

/// The first frame a node sends on a connection it dialed: who it is and which release it runs, so that the
/// receiver can refuse a peer it cannot read before any Raft message crosses.
public struct PeerHello: Sendable, Equatable {
    public let from: NodeID
    public let to: NodeID
    public let version: SoftwareVersion

    public init(from: NodeID, to: NodeID, version: SoftwareVersion) {
        self.from = from
        self.to = to
        self.version = version
    }
}

/// Kind bytes of connection-control frames, beside `MessageKind` and `SnapshotStreamKind`; never reused.
enum ControlKind: UInt8 {
    case hello = 13
}

extension WireCodec {
    /// Layout after version and kind: from and to (u64), then the release as major, minor and patch (u16 each).
    func encode<Sink: WireSink>(_ hello: PeerHello, into sink: inout Sink) {
        sink.appendU32(0)
        sink.appendU8(Self.formatVersion)
        sink.appendU8(ControlKind.hello.rawValue)
        sink.appendU64(hello.from)
        sink.appendU64(hello.to)
        for part in [hello.version.major, hello.version.minor, hello.version.patch] {
            sink.appendU8(UInt8(part >> 8))
            sink.appendU8(UInt8(part & 0xFF))
        }
        sink.patchU32(UInt32(sink.writtenBytes - Self.lengthPrefixBytes), at: 0)
    }

    /// The whole hello frame, length prefix included.
    public func encode(_ hello: PeerHello) -> [UInt8] {
        var bytes: [UInt8] = []
        encode(hello, into: &bytes)
        return bytes
    }

    func decodeHello(_ reader: inout WireReader) throws(WireError) -> PeerHello {
        let from = try reader.u64("from")
        let to = try reader.u64("to")
        func u16(_ field: String) throws(WireError) -> UInt16 {
            UInt16(try reader.u8(field)) << 8 | UInt16(try reader.u8(field))
        }
        let version = SoftwareVersion(major: try u16("version.major"), minor: try u16("version.minor"), patch: try u16("version.patch"))
        return PeerHello(from: from, to: to, version: version)
    }
}
