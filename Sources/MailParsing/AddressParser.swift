/// Address headers (RFC 5322 3.4), read leniently: what matters is who wrote, not whether their mailer is
/// conformant.
enum AddressParser {
    /// One mailbox as written, before validation: the addr-spec and the undecoded display name.
    struct Candidate: Equatable {
        var addressSpec: String
        var displayName: String

        var localPart: String {
            guard let at = addressSpec.lastIndex(of: "@") else { return addressSpec }
            return String(addressSpec[..<at])
        }

        /// nil unless it is `local@domain` with both sides present.
        var mailbox: MailAddress? {
            guard let at = addressSpec.lastIndex(of: "@") else { return nil }
            let local = addressSpec[..<at]
            let domain = addressSpec[addressSpec.index(after: at)...]
            guard !local.isEmpty, !domain.isEmpty,
                  !domain.unicodeScalars.contains(where: { isASCIIWhitespace($0) || $0 == "<" || $0 == ">" || $0 == "\"" })
            else { return nil }
            let name = EncodedWords.decode(displayName).trimmingASCIIWhitespace()
            return MailAddress(address: "\(local)@\(domain.lowercased())", displayName: name)
        }
    }

    private enum Token: Equatable {
        case atom(String)
        case quoted(String)
        case comment(String)
        case angle(String)
        case comma
        case colon
        case semicolon
        case space
    }

    /// The mailboxes of an address list in order; group names are dropped and group members kept.
    static func candidates(_ value: String) -> [Candidate] {
        var groups: [[Token]] = [[]]
        for token in tokenize(value) {
            switch token {
            case .comma, .semicolon:
                groups.append([])
            case .colon:
                // `Group name: a@b, c@d;` — what came before the colon names the group, unless it sits inside an
                // angle address, which the tokenizer has already taken whole.
                groups[groups.count - 1] = []
            default:
                groups[groups.count - 1].append(token)
            }
        }
        var candidates: [Candidate] = []
        var carried: [Token] = []
        for group in groups {
            guard group.contains(where: { $0 != .space }) else { continue }
            // `Doe, John <j@x>` without quotes: a piece with no address belongs to the display name that follows.
            // Only the new piece is searched, so a long list of such pieces stays linear.
            let hasAngle = group.contains { if case .angle = $0 { return true } else { return false } }
            let hasAt = group.contains { if case let .atom(text) = $0 { return text.contains("@") } else { return false } }
            if hasAngle {
                if !carried.isEmpty { carried += [.atom(","), .space] }
                carried += group
                candidates.append(candidate(carried))
                carried = []
            } else if hasAt {
                if !carried.isEmpty { candidates.append(candidate(carried)) }
                candidates.append(candidate(group))
                carried = []
            } else {
                if !carried.isEmpty { carried += [.atom(","), .space] }
                carried += group
            }
        }
        if !carried.isEmpty { candidates.append(candidate(carried)) }
        return candidates
    }

    private static func candidate(_ tokens: [Token]) -> Candidate {
        var comment: String?
        if let angleIndex = tokens.firstIndex(where: { if case .angle = $0 { return true } else { return false } }),
           case let .angle(inside) = tokens[angleIndex] {
            var display = ""
            for token in tokens[..<angleIndex] {
                switch token {
                case let .atom(text), let .quoted(text): display += text
                case .space: if !display.isEmpty, !display.hasSuffix(" ") { display += " " }
                case let .comment(text): if comment == nil { comment = text }
                default: break
                }
            }
            display = display.trimmingASCIIWhitespace()
            if display.isEmpty, let comment = comment ?? firstComment(tokens[angleIndex...]) { display = comment }
            return Candidate(addressSpec: stripRoute(inside), displayName: display)
        }
        var spec = ""
        for token in tokens {
            switch token {
            case let .atom(text): spec += text
            case let .quoted(text): spec += "\"\(text)\""
            case let .comment(text): if comment == nil { comment = text }
            default: break
            }
        }
        return Candidate(addressSpec: spec, displayName: (comment ?? "").trimmingASCIIWhitespace())
    }

    private static func firstComment(_ tokens: ArraySlice<Token>) -> String? {
        for token in tokens { if case let .comment(text) = token { return text } }
        return nil
    }

    /// `<@relay.example:user@host>` (obsolete source route) is `user@host`.
    private static func stripRoute(_ spec: String) -> String {
        let trimmed = spec.unicodeScalars.filter { !isASCIIWhitespace($0) }
        var text = String(String.UnicodeScalarView(trimmed))
        if text.hasPrefix("@"), let colon = text.lastIndex(of: ":") { text = String(text[text.index(after: colon)...]) }
        return text
    }

    private static func tokenize(_ value: String) -> [Token] {
        let scalars = Array(value.unicodeScalars)
        var tokens: [Token] = []
        var index = 0
        var atom = String.UnicodeScalarView()

        func endAtom() {
            if !atom.isEmpty {
                tokens.append(.atom(String(atom)))
                atom = String.UnicodeScalarView()
            }
        }

        while index < scalars.count {
            let scalar = scalars[index]
            switch scalar {
            case " ", "\t", "\r", "\n":
                endAtom()
                if tokens.last != .space { tokens.append(.space) }
                index += 1
            case "\"":
                endAtom()
                var text = String.UnicodeScalarView()
                index += 1
                while index < scalars.count, scalars[index] != "\"" {
                    if scalars[index] == "\\", index + 1 < scalars.count { index += 1 }
                    text.append(scalars[index])
                    index += 1
                }
                index += 1
                tokens.append(.quoted(String(text)))
            case "(":
                endAtom()
                var text = String.UnicodeScalarView()
                var depth = 1
                index += 1
                while index < scalars.count {
                    let inner = scalars[index]
                    if inner == "\\", index + 1 < scalars.count {
                        text.append(scalars[index + 1])
                        index += 2
                        continue
                    }
                    if inner == "(" { depth += 1 }
                    if inner == ")" {
                        depth -= 1
                        if depth == 0 { break }
                    }
                    text.append(inner)
                    index += 1
                }
                index += 1
                tokens.append(.comment(String(text)))
            case "<":
                endAtom()
                var text = String.UnicodeScalarView()
                index += 1
                while index < scalars.count, scalars[index] != ">" {
                    text.append(scalars[index])
                    index += 1
                }
                index += 1
                tokens.append(.angle(String(text)))
            case ",":
                endAtom()
                tokens.append(.comma)
                index += 1
            case ":":
                endAtom()
                tokens.append(.colon)
                index += 1
            case ";":
                endAtom()
                tokens.append(.semicolon)
                index += 1
            default:
                atom.append(scalar)
                index += 1
            }
        }
        endAtom()
        return tokens
    }
}
