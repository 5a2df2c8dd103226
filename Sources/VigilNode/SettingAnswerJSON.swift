import NIOCore

extension SettingsPayloads.SettingAnswer {
    /// The answer as JSON with sorted keys, as `JSONResponse` would write it, built straight into a buffer: every
    /// settings write answers with one, and Foundation's encoder made about ten allocations for it.
    func writeJSON(into buffer: inout ByteBuffer) {
        buffer.writeStaticString("{")
        if let created { buffer.writeStaticString(created ? "\"created\":true," : "\"created\":false,") }
        if let deleted { buffer.writeStaticString(deleted ? "\"deleted\":true," : "\"deleted\":false,") }
        buffer.writeStaticString("\"key\":")
        Self.writeJSONString(key, into: &buffer)
        buffer.writeStaticString(",\"revision\":")
        buffer.writeString(String(revision))
        if let value {
            buffer.writeStaticString(",\"value\":")
            Self.writeJSONString(value, into: &buffer)
        }
        buffer.writeStaticString("}\n")
    }

    /// A JSON string literal (RFC 8259 §7): quote, backslash and control characters escaped, the rest as UTF-8.
    static func writeJSONString(_ text: String, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "\""))
        var plainFrom = text.utf8.startIndex
        for index in text.utf8.indices {
            let byte = text.utf8[index]
            guard byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 else { continue }
            buffer.writeBytes(text.utf8[plainFrom..<index])
            switch byte {
            case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
            case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
            case 0x0A: buffer.writeStaticString("\\n")
            case 0x0D: buffer.writeStaticString("\\r")
            case 0x09: buffer.writeStaticString("\\t")
            default:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                buffer.writeBytes([UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            }
            plainFrom = text.utf8.index(after: index)
        }
        buffer.writeBytes(text.utf8[plainFrom...])
        buffer.writeInteger(UInt8(ascii: "\""))
    }
}
