/// HTML reduced to the text a person would read in it. Not an HTML parser: mail HTML is too often broken for a
/// strict one, and a ticket needs the words and the line structure, not the layout. Every scan moves forward, so
/// the cost is linear in the input whatever its shape.
enum HTMLText {
    static func reduce(_ html: String) -> String {
        var reducer = Reducer(Array(html.unicodeScalars))
        reducer.run()
        return tidy(reducer.output)
    }

    /// Elements whose content is never read as text.
    private static let hiddenElements: Set<String> = ["script", "style", "head", "title", "template"]
    /// Elements that start on a line of their own.
    private static let blockElements: Set<String> = [
        "p", "div", "tr", "table", "ul", "ol", "blockquote", "pre", "section", "article", "header", "footer",
        "h1", "h2", "h3", "h4", "h5", "h6", "dl", "dt", "dd", "form", "address",
    ]

    private struct Reducer {
        let input: [Unicode.Scalar]
        /// An array rather than a string: appending to `String.UnicodeScalarView` costs several times more.
        var output: [Unicode.Scalar] = []
        var index = 0
        var preDepth = 0
        /// Set once a search for `>` failed: every later `<` is text too, and the search is not repeated.
        var noTagEndAhead = false
        /// Closing tags a search found nowhere ahead; searching again from a later point cannot find them either.
        var absentClosers: Set<String> = []

        init(_ input: [Unicode.Scalar]) {
            self.input = input
        }

        mutating func run() {
            while index < input.count {
                let scalar = input[index]
                if scalar == "<", readMarkup() { continue }
                if scalar == "&" {
                    readEntity()
                    continue
                }
                if scalar == "\r" {
                    // Only ever half of a line break here; the LF that follows (in <pre>) is enough.
                    if preDepth == 0 { output.append(" ") }
                } else if preDepth == 0, scalar == "\n" || scalar == "\t" || scalar == "\u{0C}" {
                    output.append(" ")
                } else {
                    output.append(scalar)
                }
                index += 1
            }
        }

        /// Consumes a tag, comment or declaration at `index`; false when the `<` is text.
        private mutating func readMarkup() -> Bool {
            if matches("<!--", at: index) {
                index = find("-->", from: index + 4).map { $0 + 3 } ?? input.count
                return true
            }
            guard index + 1 < input.count, !noTagEndAhead else { return false }
            let next = input[index + 1]
            guard next.properties.isAlphabetic || next == "/" || next == "!" || next == "?" else { return false }
            guard let end = input[(index + 1)...].firstIndex(of: ">") else {
                noTagEndAhead = true
                return false
            }
            var nameStart = index + 1
            let closing = input[nameStart] == "/"
            if closing { nameStart += 1 }
            var nameEnd = nameStart
            // No element this reducer knows has a longer name; the bound keeps a hostile name from being copied.
            while nameEnd < end, nameEnd - nameStart < 16,
                  input[nameEnd].properties.isAlphabetic || ("0"..."9").contains(input[nameEnd]) { nameEnd += 1 }
            let name = String(String.UnicodeScalarView(input[nameStart..<nameEnd])).lowercased()
            index = end + 1
            apply(name: name, closing: closing)
            return true
        }

        private mutating func apply(name: String, closing: Bool) {
            if !closing, HTMLText.hiddenElements.contains(name) {
                skipContent(of: name)
                return
            }
            switch name {
            case "br":
                output.append("\n")
            case "hr":
                newlineUnlessAtLineStart()
                if !closing { output.append("\n") }
            case "li":
                if !closing {
                    newlineUnlessAtLineStart()
                    append("- ")
                } else {
                    output.append("\n")
                }
            case "td", "th":
                if closing { output.append(" ") }
            case "pre":
                preDepth = closing ? max(0, preDepth - 1) : preDepth + 1
                blockBoundary(closing: closing)
            default:
                if HTMLText.blockElements.contains(name) { blockBoundary(closing: closing) }
            }
        }

        /// Skips to after `</name>`. An unclosed `<head>` ends where the body begins; an unclosed script or style
        /// runs to the end, as it does in a browser.
        private mutating func skipContent(of name: String) {
            let closer = "</" + name
            if !absentClosers.contains(closer), let close = findIgnoringCase(closer, from: index) {
                index = input[close...].firstIndex(of: ">").map { $0 + 1 } ?? input.count
                return
            }
            absentClosers.insert(closer)
            if name == "head", !absentClosers.contains("<body"), let body = findIgnoringCase("<body", from: index) {
                index = body
                return
            }
            if name == "head" { absentClosers.insert("<body") }
            index = input.count
        }

        private mutating func append(_ text: String) {
            output.append(contentsOf: text.unicodeScalars)
        }

        private mutating func blockBoundary(closing: Bool) {
            if closing {
                output.append("\n")
            } else {
                newlineUnlessAtLineStart()
            }
        }

        private mutating func newlineUnlessAtLineStart() {
            for scalar in output.reversed() {
                if scalar == "\n" { return }
                if scalar != " " { break }
            }
            if !output.isEmpty { output.append("\n") }
        }

        /// `&name;`, `&#NNN;` or `&#xHH;`; anything else leaves the `&` as text.
        private mutating func readEntity() {
            let limit = min(input.count, index + 34)
            var end = index + 1
            while end < limit, input[end] != ";", input[end] != "&", input[end] != "<", !isASCIIWhitespace(input[end]) { end += 1 }
            guard end < limit, input[end] == ";" else {
                output.append("&")
                index += 1
                return
            }
            let body = String(String.UnicodeScalarView(input[(index + 1)..<end]))
            guard let decoded = HTMLText.entity(body) else {
                output.append("&")
                index += 1
                return
            }
            append(decoded)
            index = end + 1
        }

        private func matches(_ pattern: String, at position: Int) -> Bool {
            var offset = position
            for scalar in pattern.unicodeScalars {
                guard offset < input.count, input[offset] == scalar else { return false }
                offset += 1
            }
            return true
        }

        private func find(_ pattern: String, from start: Int) -> Int? {
            var position = start
            while position < input.count {
                if matches(pattern, at: position) { return position }
                position += 1
            }
            return nil
        }

        private func findIgnoringCase(_ pattern: String, from start: Int) -> Int? {
            let scalars = Array(pattern.lowercased().unicodeScalars)
            var position = start
            while position + scalars.count <= input.count {
                var offset = 0
                while offset < scalars.count, lowercased(input[position + offset]) == scalars[offset] { offset += 1 }
                if offset == scalars.count { return position }
                position += 1
            }
            return nil
        }

        private func lowercased(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
            ("A"..."Z").contains(scalar) ? Unicode.Scalar(scalar.value + 32)! : scalar
        }
    }

    private static let namedEntities: [String: String] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": " ", "copy": "©", "reg": "®",
        "trade": "™", "hellip": "…", "mdash": "—", "ndash": "–", "lsquo": "‘", "rsquo": "’", "ldquo": "“",
        "rdquo": "”", "laquo": "«", "raquo": "»", "bull": "•", "middot": "·", "euro": "€", "pound": "£",
        "yen": "¥", "cent": "¢", "deg": "°", "times": "×", "divide": "÷", "shy": "", "zwnj": "", "zwj": "",
        "ensp": " ", "emsp": " ", "thinsp": " ",
    ]

    static func entity(_ body: String) -> String? {
        if body.hasPrefix("#") {
            let digits = body.dropFirst()
            let value: UInt32?
            if digits.hasPrefix("x") || digits.hasPrefix("X") {
                value = digits.count > 1 && digits.count <= 7 ? UInt32(digits.dropFirst(), radix: 16) : nil
            } else {
                value = !digits.isEmpty && digits.count <= 8 ? UInt32(digits, radix: 10) : nil
            }
            guard let value else { return nil }
            // No-break space reads as a space; NUL, surrogates and out-of-range values as the replacement character.
            if value == 0xA0 { return " " }
            guard value != 0, let scalar = Unicode.Scalar(value) else { return "\u{FFFD}" }
            return String(Character(scalar))
        }
        return namedEntities[body] ?? namedEntities[body.lowercased()]
    }

    /// Runs of spaces and tabs become one space, lines lose their edge spaces, at most one blank line in a row.
    static func tidy(_ scalars: [Unicode.Scalar]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(scalars.count)
        var pendingNewlines = 0
        var pendingSpace = false
        var lineHasText = false
        for scalar in scalars {
            switch scalar {
            case "\n":
                pendingNewlines += 1
                pendingSpace = false
                lineHasText = false
            case " ", "\t", "\r", "\u{A0}":
                if lineHasText { pendingSpace = true }
            default:
                if pendingNewlines > 0, !output.isEmpty {
                    for _ in 0..<min(pendingNewlines, 2) { output.append(UInt8(ascii: "\n")) }
                } else if pendingSpace {
                    output.append(UInt8(ascii: " "))
                }
                pendingNewlines = 0
                pendingSpace = false
                lineHasText = true
                UTF8.encode(scalar) { output.append($0) }
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}
