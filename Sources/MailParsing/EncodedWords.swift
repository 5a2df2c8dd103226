/// Decodes RFC 2047 encoded words in a header value (adjacent encoded words separated only by whitespace are joined without the space).
public enum EncodedWords {
    public static func decode(_ value: String) -> String {
        let bytes = Array(value.utf8)
        guard bytes.count >= 2, containsEncodedWordStart(bytes) else { return value }
        var output = ""
        // Adjacent words in one charset are decoded together: encoders split between the bytes of one character.
        var pending: (charset: String, bytes: [UInt8])?
        var literalStart = 0
        var index = 0

        func flushPending() {
            if let word = pending {
                output += MailCharset.decodeOrUTF8(word.bytes, charset: word.charset)
                pending = nil
            }
        }

        while index + 1 < bytes.count {
            guard bytes[index] == UInt8(ascii: "="), bytes[index + 1] == UInt8(ascii: "?"), let word = parseWord(bytes, at: index) else {
                index += 1
                continue
            }
            let literal = bytes[literalStart..<index]
            if pending == nil || !literal.allSatisfy(isWhitespace) {
                flushPending()
                output += String(decoding: literal, as: UTF8.self)
            }
            if let current = pending, current.charset.lowercased() == word.charset.lowercased() {
                pending?.bytes.append(contentsOf: word.bytes)
            } else {
                flushPending()
                pending = (word.charset, word.bytes)
            }
            index = word.end
            literalStart = index
        }
        flushPending()
        output += String(decoding: bytes[literalStart...], as: UTF8.self)
        return output
    }

    private static func containsEncodedWordStart(_ bytes: [UInt8]) -> Bool {
        for index in 0..<(bytes.count - 1) where bytes[index] == UInt8(ascii: "=") && bytes[index + 1] == UInt8(ascii: "?") {
            return true
        }
        return false
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n")
    }

    /// `=?charset?B|Q?text?=` starting at `start`; the text runs to the next `?`, which neither encoding may contain
    /// unencoded, so the scan is bounded by the next word's start.
    private static func parseWord(_ bytes: [UInt8], at start: Int) -> (charset: String, bytes: [UInt8], end: Int)? {
        var index = start + 2
        let charsetStart = index
        while index < bytes.count, bytes[index] != UInt8(ascii: "?") {
            let byte = bytes[index]
            if isWhitespace(byte) || byte == UInt8(ascii: "=") || index - charsetStart > 64 { return nil }
            index += 1
        }
        guard index > charsetStart, index + 2 < bytes.count, bytes[index + 2] == UInt8(ascii: "?") else { return nil }
        let charset = String(decoding: bytes[charsetStart..<index], as: UTF8.self)
        let encoding = bytes[index + 1] | 0x20
        guard encoding == UInt8(ascii: "b") || encoding == UInt8(ascii: "q") else { return nil }
        let textStart = index + 3
        var textEnd = textStart
        while textEnd < bytes.count, bytes[textEnd] != UInt8(ascii: "?") { textEnd += 1 }
        guard textEnd + 1 < bytes.count, bytes[textEnd + 1] == UInt8(ascii: "=") else { return nil }
        let text = bytes[textStart..<textEnd]
        let decoded = encoding == UInt8(ascii: "b") ? TransferEncoding.base64(text) : qDecode(text)
        return (charset, decoded, textEnd + 2)
    }

    /// RFC 2047 "Q": quoted-printable where `_` stands for a space; a malformed `=` stays as written.
    private static func qDecode(_ text: ArraySlice<UInt8>) -> [UInt8] {
        let bytes = Array(text)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "_") {
                output.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "="), index + 2 < bytes.count,
                      let high = hexDigit(bytes[index + 1]), let low = hexDigit(bytes[index + 2]) {
                output.append(high << 4 | low)
                index += 2
            } else {
                output.append(byte)
            }
            index += 1
        }
        return output
    }
}

func hexDigit(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
    default: return nil
    }
}
