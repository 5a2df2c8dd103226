/// A bounds-checked cursor over one frame; field names are autoclosures so the happy path builds no strings.
struct WireReader {
    private let bytes: [UInt8]
    private(set) var index: Int
    /// Offset of `bytes[0]` within the frame, so errors report frame offsets.
    private let baseOffset: Int

    init(_ bytes: [UInt8], baseOffset: Int) {
        self.bytes = bytes
        self.index = 0
        self.baseOffset = baseOffset
    }

    var offset: Int { baseOffset + index }
    var remaining: Int { bytes.count - index }

    mutating func u8(_ field: @autoclosure () -> String) throws(WireError) -> UInt8 {
        guard remaining >= 1 else { throw .truncated(field: field(), offset: offset) }
        defer { index += 1 }
        return bytes[index]
    }

    mutating func u32(_ field: @autoclosure () -> String) throws(WireError) -> UInt32 {
        guard remaining >= 4 else { throw .truncated(field: field(), offset: offset) }
        var value: UInt32 = 0
        for position in index..<(index + 4) { value = value << 8 | UInt32(bytes[position]) }
        index += 4
        return value
    }

    mutating func u64(_ field: @autoclosure () -> String) throws(WireError) -> UInt64 {
        guard remaining >= 8 else { throw .truncated(field: field(), offset: offset) }
        var value: UInt64 = 0
        for position in index..<(index + 8) { value = value << 8 | UInt64(bytes[position]) }
        index += 8
        return value
    }

    /// A bool is exactly 0 or 1 so that every message has a single encoding.
    mutating func bool(_ field: @autoclosure () -> String) throws(WireError) -> Bool {
        let start = offset
        switch try u8(field()) {
        case 0: return false
        case 1: return true
        case let other: throw .invalidValue(field: field(), offset: start, reason: "bool byte \(other) is neither 0 nor 1")
        }
    }

    /// A u32 element count (read as `<field>.count`) checked against `limit` and against the bytes left,
    /// before anything is allocated.
    mutating func count(_ field: @autoclosure () -> String, limit: Int, minimumElementBytes: Int) throws(WireError) -> Int {
        let start = offset
        let value = Int(try u32(field() + ".count"))
        guard value <= limit else { throw .limitExceeded(field: field() + ".count", offset: start, value: value, limit: limit) }
        guard value <= remaining / max(minimumElementBytes, 1) else { throw .truncated(field: field(), offset: offset) }
        return value
    }

    /// A u32 length followed by that many bytes.
    mutating func byteArray(_ field: @autoclosure () -> String, limit: Int) throws(WireError) -> [UInt8] {
        let start = offset
        let length = Int(try u32(field() + ".length"))
        guard length <= limit else { throw .limitExceeded(field: field() + ".length", offset: start, value: length, limit: limit) }
        guard length <= remaining else { throw .truncated(field: field(), offset: offset) }
        defer { index += length }
        return Array(bytes[index..<(index + length)])
    }
}
