import DutyModel
import Foundation

/// On-call shifts as an RFC 5545 calendar: one VEVENT per final shift, instants in UTC (exact on every DST
/// night, whatever zone the reader's calendar is in), the schedule's zone named for display, lines folded at
/// 75 octets and ended with CRLF.
enum CalendarFeedRenderer {
    struct Event {
        let uid: String
        /// Also as `X-VIGIL-PERSON`, for programs that match shifts to people.
        let personID: String
        let start: Timestamp
        let end: Timestamp
        let summary: String
    }

    static func render(name: String, timeZone: String, events: [Event], stamp: Timestamp) -> String {
        var lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Vigil//On-call \(VigilVersion.current)//EN", "CALSCALE:GREGORIAN",
                     "METHOD:PUBLISH", "X-WR-CALNAME:" + text(name), "X-WR-TIMEZONE:" + text(timeZone)]
        for event in events {
            lines += ["BEGIN:VEVENT", "UID:" + text(event.uid), "DTSTAMP:" + utc(stamp), "DTSTART:" + utc(event.start),
                      "DTEND:" + utc(event.end), "SUMMARY:" + text(event.summary), "X-VIGIL-PERSON:" + text(event.personID), "TRANSP:OPAQUE", "END:VEVENT"]
        }
        lines.append("END:VCALENDAR")
        return lines.map(fold).joined(separator: "\r\n") + "\r\n"
    }

    /// `20270328T010000Z`.
    static func utc(_ millis: Timestamp) -> String {
        let seconds = Int64((Double(millis) / 1000).rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let date = LocalDate(daysSinceEpoch: days)
        let second = Int(seconds - days * 86_400)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let year = String(repeating: "0", count: max(0, 4 - String(date.year).count)) + String(date.year)
        return "\(year)\(two(date.month))\(two(date.day))T\(two(second / 3600))\(two(second % 3600 / 60))\(two(second % 60))Z"
    }

    /// TEXT values escape backslash, semicolon, comma and line breaks (RFC 5545 3.3.11).
    static func text(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case ";": out += "\\;"
            case ",": out += "\\,"
            case "\n", "\r\n", "\r": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    /// Lines longer than 75 octets continue on lines starting with a space, never inside a UTF-8 sequence (3.1).
    static func fold(_ line: String) -> String {
        guard line.utf8.count > 75 else { return line }
        var out = "", octets = 0
        for character in line {
            let size = String(character).utf8.count
            if octets + size > 75 {
                out += "\r\n "
                octets = 1
            }
            out.append(character)
            octets += size
        }
        return out
    }
}
