/// Reduces a raw RFC 5322 message, as the SMTP intake receives it, to what a support ticket records.
public enum MailParser {
    public static func parse(_ bytes: [UInt8], limits: MailLimits = MailLimits()) throws(MailParseError) -> ParsedMail {
        // One line-end convention from here on, so a message gives the same result however it was relayed.
        let normalized = normalizingLineEnds(bytes)
        let message = try HeaderSection.split(normalized[...], limits: limits, strict: true, location: "")
        var walker = BodyWalker(limits: limits)
        let body = try walker.content(of: message, path: "", depth: 0, defaultType: "text/plain")
        let headers = message.headers
        let senders = AddressParser.candidates(headers.first("from") ?? "")
        let reason = automaticReason(headers, senders: senders)
        return ParsedMail(
            messageID: messageID(headers.first("message-id")),
            references: references(inReplyTo: headers.first("in-reply-to"), references: headers.first("references")),
            from: senders.lazy.compactMap(\.mailbox).first,
            subject: EncodedWords.decode(headers.first("subject") ?? "").trimmingASCIIWhitespace(),
            text: finalText(body.text, limit: limits.maxTextCharacters),
            attachments: walker.attachments,
            isAutomatic: reason != nil,
            automaticReason: reason)
    }

    static func normalizingLineEnds(_ bytes: [UInt8]) -> [UInt8] {
        let cr = UInt8(ascii: "\r")
        let lf = UInt8(ascii: "\n")
        guard bytes.contains(cr) else { return bytes }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == cr, index + 1 < bytes.count, bytes[index + 1] == lf {
                index += 1
                continue
            }
            output.append(bytes[index])
            index += 1
        }
        return output
    }

    static func messageID(_ value: String?) -> String? {
        guard let value else { return nil }
        let ids = messageIDs(value)
        return ids.first
    }

    /// Bracketed ids when there are any; otherwise the words, since some mailers drop the brackets.
    static func messageIDs(_ value: String) -> [String] {
        var ids: [String] = []
        if value.contains("<") {
            var rest = Substring(value)
            while let open = rest.firstIndex(of: "<") {
                let afterOpen = rest.index(after: open)
                guard let close = rest[afterOpen...].firstIndex(of: ">") else {
                    let id = rest[afterOpen...].trimmingASCIIWhitespace()
                    if !id.isEmpty { ids.append(id) }
                    break
                }
                let id = rest[afterOpen..<close].trimmingASCIIWhitespace()
                if !id.isEmpty { ids.append(id) }
                rest = rest[rest.index(after: close)...]
            }
        } else {
            ids = value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," || $0 == "\r" || $0 == "\n" }).map(String.init)
        }
        return ids
    }

    /// In-Reply-To names the message answered, so it comes first; of a long References chain the last ids are the
    /// nearest ancestors, so those are the ones kept.
    static func references(inReplyTo: String?, references: String?) -> [String] {
        var seen: Set<String> = []
        var direct: [String] = []
        for id in messageIDs(inReplyTo ?? "") where direct.count < MailLimits.maxReferences && seen.insert(id).inserted {
            direct.append(id)
        }
        var chain: [String] = []
        for id in messageIDs(references ?? "") where seen.insert(id).inserted {
            chain.append(id)
        }
        return direct + chain.suffix(MailLimits.maxReferences - direct.count)
    }

    /// The first sign that a program, not a person, sent the message (RFC 3834 and the conventions before it).
    static func automaticReason(_ headers: HeaderFields, senders: [AddressParser.Candidate]) -> String? {
        for value in headers.all("auto-submitted") {
            let keyword = value.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first.map {
                withoutComments(String($0)).trimmingASCIIWhitespace()
            } ?? ""
            if keyword.lowercased() != "no" { return "Auto-Submitted: \(keyword)".trimmingASCIIWhitespace() }
        }
        if let value = headers.first("precedence") {
            let precedence = withoutComments(value).trimmingASCIIWhitespace().lowercased()
            if ["bulk", "junk", "list", "auto_reply"].contains(precedence) { return "Precedence: \(precedence)" }
        }
        for name in ["X-Autoreply", "X-Autorespond"] {
            if let value = headers.first(name.lowercased()) {
                return value.isEmpty ? name : "\(name): \(value)"
            }
        }
        if let header = headers.first("content-type") {
            let contentType = ParameterizedValue.parse(header)
            if contentType.value == "multipart/report" {
                guard let reportType = contentType["report-type"]?.trimmingASCIIWhitespace().lowercased(), !reportType.isEmpty
                else { return "multipart/report" }
                return "multipart/report (\(String(reportType.map { $0 == "-" ? " " : $0 })))"
            }
        }
        if let sender = senders.first {
            let local = sender.localPart.trimmingASCIIWhitespace().lowercased()
            if local == "mailer-daemon" || local == "postmaster" {
                return "From: \(sender.mailbox?.address ?? sender.addressSpec)"
            }
        }
        return nil
    }

    private static func withoutComments(_ value: String) -> String {
        var result = ""
        var depth = 0
        for character in value {
            if character == "(" {
                depth += 1
            } else if character == ")", depth > 0 {
                depth -= 1
            } else if depth == 0 {
                result.append(character)
            }
        }
        return result
    }

    /// LF line ends, no trailing whitespace, at most `limit` characters including the truncation mark. Works on
    /// bytes and counts only as far as the limit, since a body may be megabytes of which ten thousand characters are kept.
    static func finalText(_ text: String, limit: Int) -> String {
        let cr = UInt8(ascii: "\r")
        let lf = UInt8(ascii: "\n")
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var previousWasCR = false
        for byte in text.utf8 {
            if byte == lf, previousWasCR {
                previousWasCR = false
                continue
            }
            previousWasCR = byte == cr
            bytes.append(previousWasCR ? lf : byte)
        }
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }  // a byte-order mark is not text
        let result = String(decoding: bytes, as: UTF8.self).trimmingTrailingWhitespace()
        let limit = max(0, limit)
        guard let cut = result.index(result.startIndex, offsetBy: limit, limitedBy: result.endIndex), cut < result.endIndex
        else { return result }
        let mark = "\n[truncated]"
        guard limit > mark.count else { return String(result[..<cut]) }
        let kept = result.index(result.startIndex, offsetBy: limit - mark.count)
        return String(result[..<kept]).trimmingTrailingWhitespace() + mark
    }
}

extension String {
    func trimmingTrailingWhitespace() -> String {
        let scalars = unicodeScalars
        var end = scalars.endIndex
        while end > scalars.startIndex {
            let before = scalars.index(before: end)
            guard scalars[before].properties.isWhitespace else { break }
            end = before
        }
        return end == scalars.endIndex ? self : String(scalars[..<end])
    }
}

/// Walks the MIME tree, choosing the text a person would read and listing the attachments.
struct BodyWalker {
    let limits: MailLimits
    var attachments: [MailAttachment] = []
    private var partCount = 0

    init(limits: MailLimits) {
        self.limits = limits
    }

    /// Plain text beats HTML when a multipart/alternative offers both.
    enum Kind: Comparable {
        case none, html, plain
    }

    struct Content {
        var text: String
        var kind: Kind
        static let none = Content(text: "", kind: .none)
    }

    mutating func content(of entity: Entity, path: String, depth: Int, defaultType: String) throws(MailParseError) -> Content {
        let contentType = entity.headers.first("content-type").map(ParameterizedValue.parse)
        var type = contentType?.value ?? defaultType
        if !Self.isMediaType(type) { type = "text/plain" }  // RFC 2045 5.2: an unreadable Content-Type means the default
        let location = path.isEmpty ? "message" : "part \(path)"

        if type.hasPrefix("multipart/") {
            let level = depth + 1
            guard level <= limits.maxDepth else {
                throw MailParseError("\(location): multipart nesting is deeper than \(limits.maxDepth) levels")
            }
            guard let boundary = contentType?["boundary"], !boundary.isEmpty else {
                throw MailParseError("\(location): Content-Type \(type) has no boundary parameter")
            }
            let childDefault = type == "multipart/digest" ? "message/rfc822" : "text/plain"
            var children: [Content] = []
            for (offset, body) in try split(entity.body, boundary: boundary).enumerated() {
                let childPath = path.isEmpty ? "\(offset + 1)" : "\(path).\(offset + 1)"
                let child = try HeaderSection.split(body, limits: limits, strict: false, location: "part \(childPath): ")
                children.append(try content(of: child, path: childPath, depth: level, defaultType: childDefault))
            }
            return type == "multipart/alternative" ? Self.preferred(children) : Self.combined(children)
        }

        let disposition = entity.headers.first("content-disposition").map(ParameterizedValue.parse)
        let fileName = disposition?["filename"] ?? contentType?["name"]
        let encoding = Self.transferEncoding(entity.headers.first("content-transfer-encoding"))
        let isText = type == "text/plain" || type == "text/html"
        if disposition?.value == "attachment" || fileName != nil || !isText {
            // Other text types (calendar, csv) are listed too: their content is data rather than the customer's words.
            record(fileName: fileName, type: type, body: entity.body, encoding: encoding)
            return .none
        }
        let bytes = TransferEncoding.decode(entity.body, encoding: encoding)
        let text = MailCharset.decodeOrUTF8(bytes, charset: contentType?["charset"] ?? "us-ascii")
        return type == "text/html" ? Content(text: HTMLText.reduce(text), kind: .html) : Content(text: text, kind: .plain)
    }

    private mutating func record(fileName: String?, type: String, body: ArraySlice<UInt8>, encoding: String) {
        guard attachments.count < limits.maxAttachments else { return }
        let byteCount = TransferEncoding.decode(body, encoding: encoding).count
        var name = String(String.UnicodeScalarView((fileName ?? "").unicodeScalars.filter {
            !($0.value < 0x20 || $0.value == 0x7F)
        })).trimmingASCIIWhitespace()
        if name.isEmpty {
            name = type == "message/rfc822" || type == "message/global" ? "message.eml" : "attachment-\(attachments.count + 1)"
        }
        attachments.append(MailAttachment(fileName: name, contentType: type, byteCount: byteCount))
    }

    /// The bodies between the delimiter lines; preamble and epilogue are dropped, a missing close delimiter ends
    /// the last part at the end of the body. The line break before a delimiter belongs to it (RFC 2046 5.1.1).
    private mutating func split(_ body: ArraySlice<UInt8>, boundary: String) throws(MailParseError) -> [ArraySlice<UInt8>] {
        let lf = UInt8(ascii: "\n")
        let dash = UInt8(ascii: "-")
        let delimiter = Array("--\(boundary)".utf8)
        var parts: [ArraySlice<UInt8>] = []
        var partStart: Int?
        var lineStart = body.startIndex

        func add(_ part: ArraySlice<UInt8>) throws(MailParseError) {
            partCount += 1
            guard partCount <= limits.maxParts else {
                throw MailParseError("message has more than \(limits.maxParts) MIME parts")
            }
            parts.append(part)
        }

        while lineStart < body.endIndex {
            let lineEnd = body[lineStart...].firstIndex(of: lf) ?? body.endIndex
            let line = body[lineStart..<lineEnd]
            if line.starts(with: delimiter) {
                var rest = line.dropFirst(delimiter.count)
                let closes = rest.count >= 2 && rest[rest.startIndex] == dash && rest[rest.startIndex + 1] == dash
                if closes { rest = rest.dropFirst(2) }
                // Only transport padding may follow; anything else is a longer boundary or text that looks like one.
                if rest.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") }) {
                    if let start = partStart { try add(body[start..<max(start, lineStart - 1)]) }
                    if closes { return parts }
                    partStart = min(lineEnd + 1, body.endIndex)
                }
            }
            lineStart = lineEnd + 1
        }
        if let start = partStart { try add(body[start...]) }
        return parts
    }

    private static func preferred(_ alternatives: [Content]) -> Content {
        let readable = alternatives.filter { !$0.text.trimmingASCIIWhitespace().isEmpty }
        // RFC 2046 5.1.4 orders alternatives from plainest to richest, so the last of the preferred kind is the best.
        return readable.last { $0.kind == .plain } ?? readable.last { $0.kind == .html } ?? .none
    }

    private static func combined(_ parts: [Content]) -> Content {
        var pieces: [String] = []
        for part in parts where part.kind != .none {
            let piece = part.text.trimmingTrailingWhitespace()
            if !piece.trimmingASCIIWhitespace().isEmpty { pieces.append(piece) }
        }
        return Content(text: pieces.joined(separator: "\n\n"), kind: parts.map(\.kind).max() ?? .none)
    }

    /// The mechanism alone: `7bit`, `base64`; comments and case are ignored.
    private static func transferEncoding(_ header: String?) -> String {
        guard let header else { return "7bit" }
        let word = header.split(whereSeparator: { $0 == ";" || $0 == "(" || $0 == " " || $0 == "\t" }).first ?? ""
        return word.lowercased()
    }

    /// `type/subtype`, both non-empty and without spaces.
    private static func isMediaType(_ value: String) -> Bool {
        let halves = value.split(separator: "/", omittingEmptySubsequences: false)
        return halves.count == 2 && halves.allSatisfy { !$0.isEmpty && !$0.contains(where: { $0 == " " || $0 == "\t" }) }
    }
}
