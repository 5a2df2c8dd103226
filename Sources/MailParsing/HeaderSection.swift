/// One header field, unfolded; the value is undecoded apart from UTF-8 (RFC 6532).
struct HeaderField: Equatable {
    /// Lowercased: field names are case-insensitive.
    var name: String
    var value: String
}

/// The header fields of a message or body part, in order.
struct HeaderFields {
    var fields: [HeaderField] = []

    func first(_ name: String) -> String? {
        fields.first { $0.name == name }?.value
    }

    func all(_ name: String) -> [String] {
        fields.filter { $0.name == name }.map(\.value)
    }
}

/// A message or body part: its header fields and the undecoded body after them.
struct Entity {
    var headers: HeaderFields
    var body: ArraySlice<UInt8>
}

enum HeaderSection {
    /// Splits `bytes` (LF line ends) at the blank line that ends the header section; with no blank line it is all
    /// headers. `strict` is for the message itself, where a line that is neither a field nor a continuation is
    /// refused. A body part is read the way other mail software reads it: such a line starts the body, since
    /// mailers that omit a part's blank line are far commoner than customers who should be refused for it.
    static func split(_ bytes: ArraySlice<UInt8>, limits: MailLimits, strict: Bool, location: String) throws(MailParseError) -> Entity {
        let lf = UInt8(ascii: "\n")
        var fields: [(name: String, value: [UInt8])] = []
        var lineStart = bytes.startIndex
        var lineNumber = 0
        let scanLimit = bytes.count > limits.maxHeaderBytes ? bytes.startIndex + max(0, limits.maxHeaderBytes) + 1 : bytes.endIndex

        func entity(bodyFrom start: Int) -> Entity {
            let headerFields = fields.map { field in
                HeaderField(name: field.name, value: String(decoding: field.value, as: UTF8.self).trimmingASCIIWhitespace())
            }
            return Entity(headers: HeaderFields(fields: headerFields), body: bytes[start...])
        }

        while lineStart < bytes.endIndex {
            lineNumber += 1
            let lineEnd = bytes[lineStart..<scanLimit].firstIndex(of: lf) ?? scanLimit
            if lineEnd - bytes.startIndex > limits.maxHeaderBytes {
                throw MailParseError("\(location)header section is longer than \(limits.maxHeaderBytes) bytes")
            }
            let line = bytes[lineStart..<lineEnd]
            let next = min(lineEnd + 1, bytes.endIndex)
            if line.isEmpty {
                return entity(bodyFrom: next)
            }
            let first = line[line.startIndex]
            if first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") {
                guard !fields.isEmpty else {
                    guard strict else { return entity(bodyFrom: lineStart) }
                    throw MailParseError("\(location)header line \(lineNumber) is a continuation with no field before it")
                }
                // Unfolding removes only the line break; the leading whitespace stays (RFC 5322 2.2.3).
                fields[fields.count - 1].value.append(contentsOf: line)
            } else if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
                // Obsolete syntax allows whitespace before the colon (RFC 5322 4.5).
                let name = String(decoding: bytes[lineStart..<colon], as: UTF8.self).trimmingASCIIWhitespace().lowercased()
                guard !name.isEmpty else {
                    guard strict else { return entity(bodyFrom: lineStart) }
                    throw MailParseError("\(location)header line \(lineNumber) has no field name before its colon")
                }
                fields.append((name, Array(bytes[(colon + 1)..<lineEnd])))
            } else {
                guard strict else { return entity(bodyFrom: lineStart) }
                throw MailParseError("\(location)header line \(lineNumber) has no colon")
            }
            lineStart = next
            if lineEnd == bytes.endIndex { break }
        }
        return entity(bodyFrom: bytes.endIndex)
    }
}
