/// A structured header value such as Content-Type or Content-Disposition: the leading value and its parameters.
struct ParameterizedValue {
    /// Lowercased, e.g. `text/plain` or `attachment`.
    var value: String
    /// Names lowercased; values decoded (quotes, RFC 2231, and RFC 2047 in file names, which mailers still write).
    var parameters: [String: String]

    subscript(_ name: String) -> String? { parameters[name] }

    static func parse(_ header: String) -> ParameterizedValue {
        var pieces = splitOutsideQuotes(header)
        let value = pieces.isEmpty ? "" : pieces.removeFirst().trimmingASCIIWhitespace().lowercased()
        var plain: [String: String] = [:]
        var extended: [String: [(index: Int, encoded: Bool, value: String)]] = [:]
        for piece in pieces.prefix(maxParameters) {
            guard let equals = piece.firstIndex(of: "=") else { continue }
            let name = piece[..<equals].trimmingASCIIWhitespace().lowercased()
            let rawValue = unquote(piece[piece.index(after: equals)...].trimmingASCIIWhitespace())
            guard !name.isEmpty else { continue }
            if let star = name.firstIndex(of: "*") {
                let base = String(name[..<star])
                guard let segment = extendedSegment(String(name[star...])) else { continue }
                extended[base, default: []].append((segment.index, segment.encoded, rawValue))
            } else if plain[name] == nil {
                plain[name] = rawValue
            }
        }
        for name in ["filename", "name"] {
            if let value = plain[name], value.contains("=?") { plain[name] = EncodedWords.decode(value) }
        }
        for (name, segments) in extended {
            plain[name] = assemble(segments)
        }
        return ParameterizedValue(value: value, parameters: plain)
    }

    /// Bounds the work a header with thousands of parameters can cause.
    private static let maxParameters = 64
    private static let maxSegmentIndex = 999

    /// `*` (one encoded value), `*N` or `*N*` (RFC 2231 continuations, the latter encoded).
    private static func extendedSegment(_ suffix: String) -> (index: Int, encoded: Bool)? {
        if suffix == "*" { return (0, true) }
        var digits = suffix.dropFirst()
        let encoded = digits.hasSuffix("*")
        if encoded { digits = digits.dropLast() }
        guard !digits.isEmpty, digits.count <= 3, digits.allSatisfy(\.isASCII), let index = Int(digits), index <= maxSegmentIndex
        else { return nil }
        return (index, encoded)
    }

    private static func assemble(_ segments: [(index: Int, encoded: Bool, value: String)]) -> String {
        let ordered = segments.sorted { $0.index < $1.index }
        var bytes: [UInt8] = []
        var charset = "utf-8"
        for (position, segment) in ordered.enumerated() {
            guard segment.encoded else {
                bytes += Array(segment.value.utf8)
                continue
            }
            var data = Substring(segment.value)
            // Only the first segment carries `charset'language'`.
            if position == 0 {
                let parts = segment.value.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
                if parts.count == 3 {
                    if !parts[0].isEmpty { charset = String(parts[0]) }
                    data = parts[2]
                }
            }
            bytes += percentDecode(data)
        }
        return MailCharset.decodeOrUTF8(bytes, charset: charset)
    }

    private static func percentDecode(_ text: Substring) -> [UInt8] {
        let input = Array(text.utf8)
        var output: [UInt8] = []
        var index = 0
        while index < input.count {
            if input[index] == UInt8(ascii: "%"), index + 2 < input.count,
               let high = hexDigit(input[index + 1]), let low = hexDigit(input[index + 2]) {
                output.append(high << 4 | low)
                index += 3
            } else {
                output.append(input[index])
                index += 1
            }
        }
        return output
    }

    /// Splits at `;` outside quoted strings.
    private static func splitOutsideQuotes(_ header: String) -> [Substring] {
        var pieces: [Substring] = []
        var start = header.startIndex
        var index = header.startIndex
        var inQuote = false
        while index < header.endIndex {
            let character = header[index]
            if inQuote {
                if character == "\\" {
                    let next = header.index(after: index)
                    if next < header.endIndex, header[next] == "\"" || header[next] == "\\" { index = next }
                } else if character == "\"" {
                    inQuote = false
                }
            } else if character == "\"" {
                inQuote = true
            } else if character == ";" {
                pieces.append(header[start..<index])
                start = header.index(after: index)
            }
            index = header.index(after: index)
        }
        pieces.append(header[start...])
        return pieces
    }

    /// A quoted string loses its quotes and escapes; a backslash before anything but `"` or `\` is kept, since it is
    /// far more often a Windows path in a file name than an escape.
    private static func unquote(_ text: String) -> String {
        guard text.hasPrefix("\"") else { return text }
        var result = ""
        var index = text.index(after: text.startIndex)
        while index < text.endIndex {
            let character = text[index]
            if character == "\"" { break }
            if character == "\\" {
                let next = text.index(after: index)
                if next < text.endIndex, text[next] == "\"" || text[next] == "\\" {
                    result.append(text[next])
                    index = text.index(after: next)
                    continue
                }
            }
            result.append(character)
            index = text.index(after: index)
        }
        return result
    }
}
