/// Quoted-printable (RFC 2045 §6.7) for the e-mail's text parts: readable in the raw message, 7-bit
/// safe, lines of at most 76 characters.
enum QuotedPrintable {
    static let maxLineCharacters = 76

    /// Encodes UTF-8 text; any line break in `text` becomes a hard CRLF.
    static func encode(_ text: String) -> String {
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        return normalized.split(separator: "\n", omittingEmptySubsequences: false)
            .map { encodeLine(Array($0.utf8)) }
            .joined(separator: "\r\n")
    }

    private static func encodeLine(_ bytes: [UInt8]) -> String {
        var out = ""
        var current = ""
        for (index, byte) in bytes.enumerated() {
            let isLast = index == bytes.count - 1
            let literal = (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "="))
                || ((byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")) && !isLast) // trailing blanks get lost in transit
            let piece = literal ? String(UnicodeScalar(byte)) : hex(byte)
            // Room for the piece plus a soft break "=" (unless this is the last byte of the line).
            let limit = isLast ? maxLineCharacters : maxLineCharacters - 1
            if current.utf8.count + piece.utf8.count > limit {
                out += current + "=\r\n"
                current = ""
            }
            current += piece
        }
        return out + current
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return "=" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0x0F)])
    }
}
