import Foundation

/// Renderings of a page shared by channels: one-line summaries, dates, escaping.
public enum PageText {
    /// "[Vigil P1] #42 Database down (payments)": a subject line, chat fallback and SMS opening.
    static func summary(_ page: PageMessage) -> String {
        "[Vigil \(page.priority.rawValue)] #\(page.ticketID) \(singleLine(page.title)) (\(singleLine(page.service)))"
    }

    /// "level 1, step 1": people count from 1.
    static func escalation(_ page: PageMessage) -> String {
        "level \(page.escalationLevelIndex + 1), step \(page.escalationStepIndex + 1)"
    }

    /// Control characters (line breaks included) become spaces: titles come from alerts and must not
    /// break a header, a line-based protocol or a one-line SMS.
    static func singleLine(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map {
            $0.properties.generalCategory == .control || $0 == "\u{2028}" || $0 == "\u{2029}" ? " " : $0
        }))
    }

    static func iso8601(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    /// Escapes the five characters that matter in HTML text and attribute values.
    public static func html(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// Cuts to at most `maxCharacters`, marking the cut with an ellipsis.
    static func truncated(_ text: String, maxCharacters: Int) -> String {
        guard text.count > maxCharacters else { return text }
        guard maxCharacters > 1 else { return String(text.prefix(maxCharacters)) }
        return String(text.prefix(maxCharacters - 1)) + "…"
    }
}
