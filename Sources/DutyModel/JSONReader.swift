/// A cursor over JSON bytes for the hand-written readers of hot data (log entries, the snapshot's audit trail);
/// every method answers nil (or false) at the first byte it does not expect, and the caller then falls back to
/// `JSONDecoder`, so its rules stay the only ones for anything these readers do not take completely.
package struct JSONReader {
    @usableFromInline let bytes: UnsafeBufferPointer<UInt8>
    @usableFromInline var at = 0

    @inlinable package init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    @inlinable package var atEnd: Bool { at == bytes.count }

    @inlinable package mutating func skipSpace() {
        while at < bytes.count, bytes[at] == 0x20 || bytes[at] == 0x0A || bytes[at] == 0x0D || bytes[at] == 0x09 { at += 1 }
    }

    /// Consumes `byte` after any space.
    @inlinable package mutating func take(_ byte: UInt8) -> Bool {
        skipSpace()
        guard at < bytes.count, bytes[at] == byte else { return false }
        at += 1
        return true
    }

    /// Calls `member` with each key of an object, in the order written; a repeated key is refused.
    @inlinable package mutating func object(_ member: (inout JSONReader, String) -> Bool) -> Bool {
        guard take(UInt8(ascii: "{")) else { return false }
        if take(UInt8(ascii: "}")) { return true }
        var seen: [String] = []
        repeat {
            guard let key = string(), !seen.contains(key), take(UInt8(ascii: ":")), member(&self, key) else { return false }
            seen.append(key)
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "}"))
    }

    /// An object whose one member is `key`.
    @inlinable package mutating func only<T>(_ key: String, _ read: (inout JSONReader) -> T?) -> T? {
        var value: T?
        guard object({ reader, name in
            guard name == key, value == nil else { return false }
            value = read(&reader)
            return value != nil
        }) else { return nil }
        return value
    }

    @inlinable package mutating func array<T>(_ element: (inout JSONReader) -> T?) -> [T]? {
        guard take(UInt8(ascii: "[")) else { return nil }
        var values: [T] = []
        if take(UInt8(ascii: "]")) { return values }
        repeat {
            guard let value = element(&self) else { return nil }
            values.append(value)
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "]")) ? values : nil
    }

    /// An integer written as JSON digits only (no fraction, exponent or leading zero).
    @inlinable package mutating func unsigned() -> UInt64? {
        skipSpace()
        let start = at
        var value: UInt64 = 0
        while at < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[at]) {
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (plus, overflow2) = times.addingReportingOverflow(UInt64(bytes[at] - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            value = plus
            at += 1
        }
        guard at > start, !(bytes[start] == UInt8(ascii: "0") && at - start > 1) else { return nil }
        if at < bytes.count, bytes[at] == UInt8(ascii: ".") || bytes[at] == UInt8(ascii: "e") || bytes[at] == UInt8(ascii: "E") {
            return nil
        }
        return value
    }

    @inlinable package mutating func integer() -> Int64? {
        let negative = take(UInt8(ascii: "-"))
        if negative, at < bytes.count, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[at]) { return nil }
        guard let magnitude = unsigned() else { return nil }
        if negative { return magnitude <= UInt64(Int64.max) + 1 ? Int64(truncatingIfNeeded: 0 &- magnitude) : nil }
        return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
    }

    @inlinable package mutating func int() -> Int? { integer().flatMap { Int(exactly: $0) } }

    @inlinable package mutating func bool() -> Bool? {
        if literal("true") { return true }
        if literal("false") { return false }
        return nil
    }

    @inlinable package mutating func literal(_ word: StaticString) -> Bool {
        skipSpace()
        let count = word.utf8CodeUnitCount
        guard bytes.count - at >= count else { return false }
        for offset in 0..<count where bytes[at + offset] != word.utf8Start[offset] { return false }
        at += count
        return true
    }

    /// A string with the escapes JSON defines; raw control characters and invalid UTF-8 are refused.
    @inlinable package mutating func string() -> String? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = at
        while at < bytes.count, bytes[at] != UInt8(ascii: "\""), bytes[at] != UInt8(ascii: "\\"), bytes[at] >= 0x20 { at += 1 }
        guard at < bytes.count else { return nil }
        if bytes[at] == UInt8(ascii: "\"") {
            at += 1
            return Self.validated(UnsafeBufferPointer(rebasing: bytes[start..<at - 1]))
        }
        var raw = Array(bytes[start..<at])
        while at < bytes.count {
            let byte = bytes[at]
            at += 1
            switch byte {
            case UInt8(ascii: "\""):
                return raw.withUnsafeBufferPointer { Self.validated($0) }
            case UInt8(ascii: "\\"):
                guard at < bytes.count else { return nil }
                let escape = bytes[at]
                at += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): raw.append(escape)
                case UInt8(ascii: "b"): raw.append(0x08)
                case UInt8(ascii: "f"): raw.append(0x0C)
                case UInt8(ascii: "n"): raw.append(0x0A)
                case UInt8(ascii: "r"): raw.append(0x0D)
                case UInt8(ascii: "t"): raw.append(0x09)
                case UInt8(ascii: "u"):
                    guard var scalar = hex4() else { return nil }
                    if (0xD800..<0xDC00).contains(scalar) {
                        // The low half follows at once: space inside a string is part of it.
                        guard bytes.count - at >= 2, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") else { return nil }
                        at += 2
                        guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { return nil }
                    raw.append(contentsOf: String(Character(unicode)).utf8)
                default:
                    return nil
                }
            case 0..<0x20:
                return nil
            default:
                raw.append(byte)
            }
        }
        return nil
    }

    @usableFromInline mutating func hex4() -> UInt32? {
        guard bytes.count - at >= 4 else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[at]
            at += 1
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// The string of `utf8`, or nil when it is not valid UTF-8. ASCII needs no validation, and most of what these
    /// readers see is ASCII: `String(validating:as:)` is generic and costs several times more.
    @inlinable static func validated(_ utf8: UnsafeBufferPointer<UInt8>) -> String? {
        if utf8.allSatisfy({ $0 < 0x80 }) { return String(decoding: utf8, as: UTF8.self) }
        return String(validating: utf8, as: UTF8.self)
    }
}
