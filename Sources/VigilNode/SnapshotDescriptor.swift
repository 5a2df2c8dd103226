import RaftCore

/// What the Raft core carries as a snapshot's data: the name, size and SHA-256 of the snapshot file that holds the
/// state, not the state itself. The core, the log store and every `installSnapshot` message stay small whatever
/// the state's size; the file travels beside them (`SnapshotSender`, `SnapshotReceiver`).
public struct SnapshotDescriptor: Sendable, Hashable, CustomStringConvertible {
    public static let magic = Array("VIGILSNF".utf8)
    public static let formatVersion: UInt8 = 1
    static let encodedBytes = 8 + 1 + 8 + 8 + 8 + 32

    public var index: LogIndex
    public var term: Term
    public var sizeBytes: UInt64
    /// SHA-256 of the whole file.
    public var checksum: [UInt8]

    public init(index: LogIndex, term: Term, sizeBytes: UInt64, checksum: [UInt8]) {
        precondition(checksum.count == 32, "a SHA-256 checksum has 32 bytes")
        self.index = index
        self.term = term
        self.sizeBytes = sizeBytes
        self.checksum = checksum
    }

    /// The file's name inside the snapshot directory; index and term name it uniquely within a cluster.
    public var fileName: String { "snap-\(index)-\(term).vsnap" }

    public var encoded: [UInt8] {
        var bytes = Self.magic
        bytes.append(Self.formatVersion)
        for value in [index, term, sizeBytes] {
            withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
        }
        bytes.append(contentsOf: checksum)
        return bytes
    }

    /// Nil for data that is not a descriptor (an inline snapshot written by an earlier version).
    public init?(decoding bytes: [UInt8]) {
        guard bytes.count == Self.encodedBytes, bytes.starts(with: Self.magic), bytes[8] == Self.formatVersion else { return nil }
        func u64(_ at: Int) -> UInt64 { bytes[at..<at + 8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
        self.init(index: u64(9), term: u64(17), sizeBytes: u64(25), checksum: Array(bytes[33..<65]))
    }

    /// Whether `data` looks like a descriptor of a newer format this build cannot read.
    static func isNewerFormat(_ data: [UInt8]) -> Bool {
        data.count > 8 && data.starts(with: magic) && data[8] > formatVersion
    }

    public var checksumHex: String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in checksum { text.append(digits[Int(byte >> 4)]); text.append(digits[Int(byte & 0xF)]) }
        return String(decoding: text, as: UTF8.self)
    }

    public var description: String { "\(fileName) (\(sizeBytes) bytes, sha256 \(checksumHex.prefix(12))…)" }
}
