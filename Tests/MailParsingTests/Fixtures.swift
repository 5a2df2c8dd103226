import Foundation
@testable import MailParsing

/// Messages are written here with LF and sent with CRLF, as SMTP delivers them; `lineEnds: .lf` checks the other form.
enum LineEnds: Sendable, CaseIterable {
    case crlf, lf
}

func bytes(_ text: String, _ lineEnds: LineEnds = .crlf) -> [UInt8] {
    let lf = Array(text.utf8)
    guard lineEnds == .crlf else { return lf }
    var out: [UInt8] = []
    for byte in lf {
        if byte == UInt8(ascii: "\n") { out.append(UInt8(ascii: "\r")) }
        out.append(byte)
    }
    return out
}

func parse(_ text: String, _ lineEnds: LineEnds = .crlf, limits: MailLimits = MailLimits()) throws -> ParsedMail {
    try MailParser.parse(bytes(text, lineEnds), limits: limits)
}

/// Bytes from hex as printed by Python (`"…".encode("gbk").hex()`).
func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.utf8).filter { $0 != UInt8(ascii: " ") }
    return stride(from: 0, to: digits.count - 1, by: 2).map { UInt8(String(decoding: digits[$0...($0 + 1)], as: UTF8.self), radix: 16)! }
}

/// The error `body` throws, for checking its message.
func parseError(_ body: () throws(MailParseError) -> ParsedMail) -> MailParseError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}
