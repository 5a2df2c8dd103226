/// Why a frame was rejected; every case says what was wrong and where (byte offsets count from the frame's
/// first length byte).
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The length prefix announces more bytes than the configured maximum frame size.
    case frameTooLarge(size: Int, limit: Int)
    /// The length prefix announces fewer bytes than the version and kind header.
    case frameTooShort(size: Int)
    case unknownVersion(UInt8)
    case unknownKind(UInt8, offset: Int)
    /// The frame ended inside `field`.
    case truncated(field: String, offset: Int)
    /// `field` holds a value the format does not allow (a bool that is not 0/1, an unsorted member list, ...).
    case invalidValue(field: String, offset: Int, reason: String)
    /// A count or length in `field` is above its configured limit.
    case limitExceeded(field: String, offset: Int, value: Int, limit: Int)
    /// The message ended `count` bytes before the frame did.
    case trailingBytes(count: Int, offset: Int)

    public var description: String {
        switch self {
        case let .frameTooLarge(size, limit):
            return "frame of \(size) bytes exceeds the limit of \(limit) bytes"
        case let .frameTooShort(size):
            return "frame of \(size) bytes is shorter than its 2-byte header"
        case let .unknownVersion(version):
            return "unknown wire format version \(version) at offset 4 (this node speaks version \(WireCodec.formatVersion))"
        case let .unknownKind(kind, offset):
            return "unknown message kind \(kind) at offset \(offset)"
        case let .truncated(field, offset):
            return "frame ends inside \(field) at offset \(offset)"
        case let .invalidValue(field, offset, reason):
            return "invalid \(field) at offset \(offset): \(reason)"
        case let .limitExceeded(field, offset, value, limit):
            return "\(field) at offset \(offset) is \(value), above the limit of \(limit)"
        case let .trailingBytes(count, offset):
            return "\(count) unexpected bytes after the message at offset \(offset)"
        }
    }
}
