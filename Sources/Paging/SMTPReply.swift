/// One SMTP reply: a three-digit code and its text lines (RFC 5321 §4.2).
struct SMTPReply: Sendable, Equatable {
    let code: Int
    /// The text after the code on each line; kept for EHLO keywords, never logged (it may name addresses).
    let lines: [String]

    /// The RFC 3463 enhanced status ("5.1.1") at the start of the first line, if the server sends one.
    var enhancedCode: String? {
        guard let first = lines.first?.split(separator: " ", maxSplits: 1).first else { return nil }
        let parts = first.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, ["2", "4", "5"].contains(parts[0]),
              parts.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }) else {
            return nil
        }
        return String(first)
    }

    var isPositive: Bool { (200..<300).contains(code) }
}

/// What the server said it supports in its EHLO reply.
struct SMTPExtensions: Sendable, Equatable {
    var startTLS = false
    var authMechanisms: Set<String> = []
    /// The SIZE limit in bytes, if announced and not 0 (0 means "no fixed limit").
    var maxMessageBytes: Int?
    var smtpUTF8 = false

    init() {}

    /// Keywords are case-insensitive; "AUTH=PLAIN LOGIN" is the pre-standard spelling some servers still send.
    init(ehloLines: [String]) {
        for line in ehloLines.dropFirst() {
            let words = line.uppercased().split(whereSeparator: { $0 == " " || $0 == "=" }).map(String.init)
            guard let keyword = words.first else { continue }
            switch keyword {
            case "STARTTLS": startTLS = true
            case "AUTH": authMechanisms.formUnion(words.dropFirst())
            case "SIZE":
                if words.count > 1, let size = Int(words[1]), size > 0 { maxMessageBytes = size }
            case "SMTPUTF8": smtpUTF8 = true
            default: continue
            }
        }
    }
}

/// Accumulates reply lines into replies; separate from the channel handler so it can be tested alone.
struct SMTPReplyParser {
    static let maxLineBytes = 2_048
    static let maxLinesPerReply = 100

    private var code: Int?
    private var lines: [String] = []

    /// Feeds one line without its line break. Returns a reply when `line` completes one.
    mutating func feed(_ line: [UInt8]) throws(SMTPReplyParseError) -> SMTPReply? {
        guard line.count <= Self.maxLineBytes else { throw .lineTooLong }
        guard line.count >= 3, line[0] >= UInt8(ascii: "2"), line[0] <= UInt8(ascii: "5"),
              line[1...2].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            throw .notAReplyLine
        }
        let lineCode = Int(line[0] - 48) * 100 + Int(line[1] - 48) * 10 + Int(line[2] - 48)
        if let code, code != lineCode { throw .codeChanged }
        let isLast: Bool
        if line.count == 3 {
            isLast = true
        } else if line[3] == UInt8(ascii: " ") {
            isLast = true
        } else if line[3] == UInt8(ascii: "-") {
            isLast = false
        } else {
            throw .notAReplyLine
        }
        lines.append(line.count > 4 ? String(decoding: line[4...], as: UTF8.self) : "")
        guard lines.count <= Self.maxLinesPerReply else { throw .tooManyLines }
        code = lineCode
        guard isLast else { return nil }
        defer {
            code = nil
            lines = []
        }
        return SMTPReply(code: lineCode, lines: lines)
    }
}

/// Why bytes from the server were not an SMTP reply.
enum SMTPReplyParseError: Error, Equatable, CustomStringConvertible {
    case lineTooLong, notAReplyLine, codeChanged, tooManyLines

    var description: String {
        switch self {
        case .lineTooLong: return "a line longer than \(SMTPReplyParser.maxLineBytes) bytes"
        case .notAReplyLine: return "a line that does not start with a reply code"
        case .codeChanged: return "a multi-line reply whose code changes"
        case .tooManyLines: return "more than \(SMTPReplyParser.maxLinesPerReply) lines in one reply"
        }
    }
}
