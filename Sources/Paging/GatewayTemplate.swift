import Foundation

/// An operator's template with `{{placeholder}}`s, parsed once; rendering escapes each value for where
/// the template is used (URL, form, JSON, header), so a title cannot break out of its slot.
struct GatewayTemplate: Sendable, Equatable {
    /// Longest template accepted.
    static let maxTemplateBytes = 16 * 1024

    /// The values a template may use.
    enum Placeholder: String, CaseIterable, Sendable {
        case to, text, key, priority, title, service, level
        case ackURL = "ack_url", resolveURL = "resolve_url", ticketID = "ticket_id"
    }

    enum Piece: Sendable, Equatable {
        case literal(String)
        case placeholder(Placeholder)
    }

    let pieces: [Piece]

    init(_ text: String, setting: String, allowed: Set<Placeholder> = Set(Placeholder.allCases)) throws(PagingConfigurationError) {
        guard text.utf8.count <= Self.maxTemplateBytes else {
            throw PagingConfigurationError(setting, "template longer than \(Self.maxTemplateBytes) bytes")
        }
        var pieces: [Piece] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { pieces.append(.literal(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw PagingConfigurationError(setting, "'{{' without a closing '}}'")
            }
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            guard let placeholder = Placeholder(rawValue: name), allowed.contains(placeholder) else {
                let names = Placeholder.allCases.filter { allowed.contains($0) }.map { "{{\($0.rawValue)}}" }.joined(separator: ", ")
                throw PagingConfigurationError(setting, "unknown placeholder {{\(name)}}; known: \(names)")
            }
            pieces.append(.placeholder(placeholder))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { pieces.append(.literal(String(rest))) }
        self.pieces = pieces
    }

    func uses(_ placeholder: Placeholder) -> Bool { pieces.contains(.placeholder(placeholder)) }

    func render(_ values: [Placeholder: String], escape: (String) -> String) -> String {
        var out = ""
        for piece in pieces {
            switch piece {
            case let .literal(text): out += text
            case let .placeholder(name): out += escape(values[name] ?? "")
            }
        }
        return out
    }

    // MARK: escapers

    /// RFC 3986 unreserved characters stay; everything else is percent-encoded (for URL templates).
    static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            if isUnreserved(byte) { out.unicodeScalars.append(Unicode.Scalar(byte)) } else { out += String(format: "%%%02X", byte) }
        }
        return out
    }

    /// application/x-www-form-urlencoded as browsers write it: space as '+', the rest percent-encoded.
    static func formEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            if isUnreserved(byte) { out.unicodeScalars.append(Unicode.Scalar(byte)) }
            else if byte == UInt8(ascii: " ") { out += "+" }
            else { out += String(format: "%%%02X", byte) }
        }
        return out
    }

    /// The inside of a JSON string literal (the template supplies the quotes).
    static func jsonEscaped(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}
