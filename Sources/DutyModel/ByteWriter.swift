/// Appends fields in the snapshot's binary layout.
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    init(reservingCapacity capacity: Int = 0) { bytes.reserveCapacity(capacity) }

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

    mutating func enumCase<E: SnapshotEnum>(_ value: E) {
        bytes.append(UInt8(E.snapshotCases.firstIndex(of: value)!))
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
        // String(validating:) on a slice goes through unspecialised generic code; decoding a buffer
        // is the fast path, and equal bytes afterwards prove nothing needed repairing.
        let string = slice.withUnsafeBufferPointer { buffer -> String? in
            let decoded = String(decoding: buffer, as: UTF8.self)
            return decoded.utf8.elementsEqual(buffer) ? decoded : nil
        }
        guard let string else { throw DutyError(.invalid, field: "snapshot", "invalid UTF-8 before byte \(offset)") }
        return string
    }

    /// Checks a string like `string()` without building it.
    mutating func skipString() throws(DutyError) {
        let slice = try raw(try count(limit: Int(Int32.max)))
        guard slice.withUnsafeBufferPointer(UTF8Check.isValid) else {
            throw DutyError(.invalid, field: "snapshot", "invalid UTF-8 before byte \(offset)")
        }
    }

    mutating func skipOptionalString() throws(DutyError) { if try bool() { try skipString() } }
    mutating func skipOptionalInt64() throws(DutyError) { if try bool() { _ = try int64() } }

    /// Checks an enum case index like `enumCase()` without building the value.
    mutating func skipEnumCase<E: SnapshotEnum>(_: E.Type) throws(DutyError) {
        let index = Int(try tag())
        guard index < E.snapshotCases.count else {
            throw DutyError(.invalid, field: "snapshot", "unknown \(E.self) case \(index) at byte \(offset - 1)")
        }
    }

    mutating func optionalInt64() throws(DutyError) -> Int64? { try bool() ? try int64() : nil }
    mutating func optionalInt() throws(DutyError) -> Int? { try bool() ? try int() : nil }
    mutating func optionalString() throws(DutyError) -> String? { try bool() ? try string() : nil }

    mutating func enumCase<E: SnapshotEnum>() throws(DutyError) -> E {
        let index = Int(try tag())
        guard index < E.snapshotCases.count else {
            throw DutyError(.invalid, field: "snapshot", "unknown \(E.self) case \(index) at byte \(offset - 1)")
        }
        return E.snapshotCases[index]
    }
}

/// An enum written as its case index. `allCases` builds a new array on every call, which showed
/// in restore profiles; this keeps one per type. New cases go at the end.
protocol SnapshotEnum: CaseIterable, Equatable {
    static var snapshotCases: [Self] { get }
}

extension TicketKind: SnapshotEnum { static let snapshotCases = allCases }
extension Priority: SnapshotEnum { static let snapshotCases = allCases }
extension TicketStage: SnapshotEnum { static let snapshotCases = allCases }
extension SLATarget: SnapshotEnum { static let snapshotCases = allCases }
extension ClockMode: SnapshotEnum { static let snapshotCases = allCases }
extension ContactMethod.Kind: SnapshotEnum { static let snapshotCases = allCases }
extension PageOutcome.Result: SnapshotEnum { static let snapshotCases = allCases }
extension CustomerMail.Purpose: SnapshotEnum { static let snapshotCases = allCases }

/// UTF-8 validation without building a String (restore checks a million archived records).
enum UTF8Check {
    /// Same verdict as `String(validating:as: UTF8.self)`: no overlong forms, no surrogates, nothing above U+10FFFF.
    static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        let count = bytes.count
        while index < count {
            let lead = bytes[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            let length: Int
            var lower: UInt8 = 0x80, upper: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; lower = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; upper = 0x9F
            case 0xF0: length = 4; lower = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; upper = 0x8F
            default: return false
            }
            guard index + length <= count else { return false }
            // Only the first continuation byte has a narrowed range; the others are 0x80…0xBF.
            guard (lower...upper).contains(bytes[index + 1]) else { return false }
            for offset in 2..<length where !(0x80...0xBF).contains(bytes[index + offset]) { return false }
            index += length
        }
        return true
    }
}
