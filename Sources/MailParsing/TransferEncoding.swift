/// Content-Transfer-Encoding decoders. Both are lenient: a message is evidence from a customer, so damage costs
/// the damaged bytes, never the message.
enum TransferEncoding {
    static func decode<Bytes: Collection<UInt8>>(_ body: Bytes, encoding: String) -> [UInt8] {
        switch encoding {
        case "base64": return base64(body)
        case "quoted-printable": return quotedPrintable(body)
        default: return Array(body)
        }
    }

    /// Whitespace and characters outside the alphabet are skipped. Padding ends a quantum, so chunks encoded
    /// separately and concatenated ("QQ==QkM=") still decode; missing padding only loses the incomplete bits.
    static func base64<Bytes: Collection<UInt8>>(_ input: Bytes) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(input.count / 4 * 3)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in input {
            let value: UInt32
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(byte - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(byte - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"), UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "/"), UInt8(ascii: "_"): value = 63
            case UInt8(ascii: "="):
                accumulator = 0
                bits = 0
                continue
            default:
                continue
            }
            accumulator = (accumulator << 6) | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        return output
    }

    /// Soft line breaks (`=` at the end of a line, trailing whitespace allowed) are removed, `=XX` in either case
    /// becomes the byte, and a malformed `=` stays as written. Whitespace before a hard break is transport padding
    /// (RFC 2045 6.7) and is dropped. Line ends are LF here: the parser has already normalised CRLF.
    static func quotedPrintable<Bytes: Collection<UInt8>>(_ input: Bytes) -> [UInt8] {
        let bytes = Array(input)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "=") {
                if index + 2 < bytes.count, let high = hexDigit(bytes[index + 1]), let low = hexDigit(bytes[index + 2]) {
                    output.append(high << 4 | low)
                    index += 3
                    continue
                }
                // A soft break: only spaces or tabs between the `=` and the end of the line.
                var look = index + 1
                while look < bytes.count, bytes[look] == UInt8(ascii: " ") || bytes[look] == UInt8(ascii: "\t") { look += 1 }
                if look == bytes.count {
                    index = look
                    continue
                }
                if bytes[look] == UInt8(ascii: "\n") {
                    index = look + 1
                    continue
                }
                if bytes[look] == UInt8(ascii: "\r"), look + 1 < bytes.count, bytes[look + 1] == UInt8(ascii: "\n") {
                    index = look + 2
                    continue
                }
                output.append(byte)
                index += 1
                continue
            }
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
                var look = index
                while look < bytes.count, bytes[look] == UInt8(ascii: " ") || bytes[look] == UInt8(ascii: "\t") { look += 1 }
                let atLineEnd = look == bytes.count || bytes[look] == UInt8(ascii: "\n")
                if !atLineEnd { output.append(contentsOf: bytes[index..<look]) }
                index = look
                continue
            }
            output.append(byte)
            index += 1
        }
        return output
    }
}
