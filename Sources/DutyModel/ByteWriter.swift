/// Appends fields in the snapshot's binary layout.
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    mutating func append(_ raw: [UInt8]) { bytes.append(contentsOf: raw) }
    mutating func append(_ raw: UnsafeRawBufferPointer) { bytes.append(contentsOf: raw) }
    var count: Int { bytes.count }

    /// Hands the bytes so far to a streaming consumer and starts over with the same capacity.
    mutating func drain() -> [UInt8] {
        defer { bytes.removeAll(keepingCapacity: true) }
        return bytes
    }
    mutating func tag(_ value: UInt8) { bytes.append(value) }
    mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    /// Zig-zag LEB128: small magnitudes of either sign take one or two bytes.
    mutating func int64(_ value: Int64) {
        var zigzag = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        repeat {
            var byte = UInt8(zigzag & 0x7F)
            zigzag >>= 7
            if zigzag != 0 { byte |= 0x80 }
            bytes.append(byte)
        } while zigzag != 0
    }

    mutating func int(_ value: Int) { int64(Int64(value)) }

    mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            int(utf8.count)
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func optionalInt64(_ value: Int64?) {
        bool(value != nil)
        if let value { int64(value) }
    }

    mutating func optionalInt(_ value: Int?) { optionalInt64(value.map(Int64.init)) }

    mutating func optionalString(_ value: String?) {
        bool(value != nil)
        if let value { string(value) }
    }

    mutating func enumCase<E: CaseIterable & Equatable>(_ value: E) {
        bytes.append(UInt8(E.allCases.firstIndex(of: value).map { E.allCases.distance(from: E.allCases.startIndex, to: $0) }!))
    }
}

/// Reads the snapshot's binary layout; every read is bounds-checked and fails with a typed error.
struct ByteReader {
    let bytes: [UInt8]
    private(set) var offset: Int

    init(bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var isAtEnd: Bool { offset == bytes.count }

    private func truncated() -> DutyError {
        DutyError(.invalid, field: "snapshot", "truncated or corrupt at byte \(offset)")
    }

    mutating func tag() throws(DutyError) -> UInt8 {
        guard offset < bytes.count else { throw truncated() }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func bool() throws(DutyError) -> Bool {
        switch try tag() {
        case 0: return false
        case 1: return true
        default: throw DutyError(.invalid, field: "snapshot", "bad boolean at byte \(offset - 1)")
        }
    }

    mutating func int64() throws(DutyError) -> Int64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try tag()
            guard shift < 64 else { throw truncated() }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
        }
        return Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1)
    }

    mutating func int() throws(DutyError) -> Int {
        let value = try int64()
        guard let result = Int(exactly: value) else { throw truncated() }
        return result
    }

    /// A collection size, checked against a limit and against the bytes left.
    mutating func count(limit: Int) throws(DutyError) -> Int {
        let value = try int()
        guard value >= 0, value <= limit, value <= bytes.count - offset else {
            throw DutyError(.invalid, field: "snapshot", "implausible count \(value) at byte \(offset)")
        }
        return value
    }

    mutating func raw(_ length: Int) throws(DutyError) -> ArraySlice<UInt8> {
        guard length >= 0, length <= bytes.count - offset else { throw truncated() }
        defer { offset += length }
        return bytes[offset..<(offset + length)]
    }

    mutating func string() throws(DutyError) -> String {
        let slice = try raw(try count(limit: Int(Int32.max)))
        guard let string = String(validating: slice, as: UTF8.self) else {
            throw DutyError(.invalid, field: "snapshot", "invalid UTF-8 before byte \(offset)")
        }
        return string
    }

    mutating func optionalInt64() throws(DutyError) -> Int64? { try bool() ? try int64() : nil }
    mutating func optionalInt() throws(DutyError) -> Int? { try bool() ? try int() : nil }
    mutating func optionalString() throws(DutyError) -> String? { try bool() ? try string() : nil }

    mutating func enumCase<E: CaseIterable>() throws(DutyError) -> E {
        let index = Int(try tag())
        guard index < E.allCases.count else {
            throw DutyError(.invalid, field: "snapshot", "unknown \(E.self) case \(index) at byte \(offset - 1)")
        }
        return E.allCases[E.allCases.index(E.allCases.startIndex, offsetBy: index)]
    }
}
