import Crypto
import Foundation

/// Builds the page's e-mail: multipart/alternative with a plain-text and an HTML part, both carrying the
/// acknowledgement link, and a Message-ID derived from the idempotency key, so a resend after failover
/// is recognisably the same message (mail systems and clients de-duplicate on it).
struct EmailComposer: Sendable {
    /// The From header's address and display name.
    let fromAddress: String
    let fromName: String
    /// Right-hand side of Message-IDs: the sender's domain by default.
    let messageIDDomain: String

    func compose(_ page: PageMessage, to recipient: String, date: Date) -> EmailMessage {
        let digest = SHA256.hash(data: Array(page.idempotencyKey.utf8))
        let digestHex = WebhookSignature.hex(Array(digest))
        // "=_" cannot occur in quoted-printable output, so the boundary cannot collide with the parts.
        let boundary = "=_vigil_\(digestHex.prefix(32))"
        let subject = PageText.summary(page)
        var headers: [String] = [
            "Date: \(Self.rfc5322Date(date))",
            "From: \(Self.encodedWord(fromName, alwaysQuote: true)) <\(fromAddress)>",
            "To: <\(recipient)>",
            Self.folded("Subject: " + Self.encodedWord(subject, alwaysQuote: false)),
            "Message-ID: \(Self.messageID(idempotencyKey: page.idempotencyKey, domain: messageIDDomain))",
            "MIME-Version: 1.0",
            "Content-Type: multipart/alternative;\r\n boundary=\"\(boundary)\"",
            // RFC 3834: no vacation auto-replies to a pager.
            "Auto-Submitted: auto-generated",
            "X-Vigil-Ticket: \(page.ticketID)",
            "X-Vigil-Idempotency-Key: \(page.headerSafeIdempotencyKey.prefix(900))",
        ]
        if page.priority == .p1 { headers.append("Importance: high") }
        var lines = headers
        lines.append("")
        lines.append("This is a multi-part message in MIME format.")
        for (type, body) in [("text/plain", plainText(page)), ("text/html", html(page))] {
            lines.append("--\(boundary)")
            lines.append("Content-Type: \(type); charset=utf-8")
            lines.append("Content-Transfer-Encoding: quoted-printable")
            lines.append("")
            lines.append(QuotedPrintable.encode(body))
        }
        lines.append("--\(boundary)--")
        lines.append("")
        return EmailMessage(envelopeFrom: fromAddress, recipient: recipient, content: Array(lines.joined(separator: "\r\n").utf8))
    }

    /// `<vigil.<first 32 hex digits of SHA-256(key)>@domain>`: stable, and free of whatever the key holds.
    static func messageID(idempotencyKey: String, domain: String) -> String {
        let digest = WebhookSignature.hex(Array(SHA256.hash(data: Array(idempotencyKey.utf8))))
        return "<vigil.\(digest.prefix(32))@\(domain)>"
    }

    func plainText(_ page: PageMessage) -> String {
        var lines = [
            PageText.singleLine(page.title),
            "",
            "Priority:   \(page.priority.rawValue)",
            "Service:    \(PageText.singleLine(page.service))",
            "Ticket:     #\(page.ticketID)",
            "Escalation: \(PageText.escalation(page))",
            "Raised:     \(PageText.iso8601(page.createdAt))",
            "",
            "Acknowledge: \(page.ackURL)",
        ]
        if let resolveURL = page.resolveURL { lines.append("Resolve:     \(resolveURL)") }
        lines += ["", "-- ", "Vigil page \(page.headerSafeIdempotencyKey)"]
        return lines.joined(separator: "\n")
    }

    func html(_ page: PageMessage) -> String {
        let e = PageText.html
        var actions = "<a href=\"\(e(page.ackURL))\" style=\"background:#c0392b;color:#fff;padding:8px 16px;text-decoration:none\">Acknowledge</a>"
        if let resolveURL = page.resolveURL {
            actions += " <a href=\"\(e(resolveURL))\" style=\"background:#27ae60;color:#fff;padding:8px 16px;text-decoration:none\">Resolve</a>"
        }
        return """
        <!DOCTYPE html>
        <html><body style="font-family:sans-serif">
        <h2>\(e(page.priority.rawValue)) \(e(PageText.singleLine(page.title)))</h2>
        <table>
        <tr><th align="left">Priority</th><td>\(e(page.priority.rawValue))</td></tr>
        <tr><th align="left">Service</th><td>\(e(PageText.singleLine(page.service)))</td></tr>
        <tr><th align="left">Ticket</th><td>#\(page.ticketID)</td></tr>
        <tr><th align="left">Escalation</th><td>\(e(PageText.escalation(page)))</td></tr>
        <tr><th align="left">Raised</th><td>\(e(PageText.iso8601(page.createdAt)))</td></tr>
        </table>
        <p>\(actions)</p>
        <p style="color:#888;font-size:small">Vigil page \(e(page.headerSafeIdempotencyKey))</p>
        </body></html>
        """
    }

    /// Folds a header line longer than 78 characters before spaces (RFC 5322 §2.2.3), so readers unfold
    /// it to the same text; a word longer than a line stays whole (the hard limit is 998).
    static func folded(_ line: String) -> String {
        guard line.utf8.count > 78, !line.contains("\r\n") else { return line }
        var lines: [String] = []
        var current = ""
        for word in line.split(separator: " ", omittingEmptySubsequences: false) {
            if current.isEmpty {
                current = String(word)
            } else if current.utf8.count + 1 + word.utf8.count > 78 {
                lines.append(current)
                current = " " + word
            } else {
                current += " " + word
            }
        }
        lines.append(current)
        return lines.joined(separator: "\r\n")
    }

    /// RFC 5322 date in UTC: "Fri, 20 Nov 2026 20:30:00 +0000".
    static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }

    /// A header text: as is when short printable ASCII, else RFC 2047 B-encoded words of at most 75
    /// characters, folded onto continuation lines. Control characters never reach a header.
    static func encodedWord(_ text: String, alwaysQuote: Bool) -> String {
        let clean = PageText.singleLine(text)
        let plain = clean.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
        if plain, clean.utf8.count <= 900, !clean.contains("=?") {
            if !alwaysQuote { return clean }
            // A display name in quotes; quotes and backslashes inside are escaped.
            return "\"" + clean.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        // 39 bytes of UTF-8 → 52 base64 characters + "=?utf-8?B?" + "?=" = 64, so even the first word after
        // "Subject: " fits in 78 characters; never split a character.
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in clean {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 39, !chunk.isEmpty {
                words.append("=?utf-8?B?\(Data(chunk).base64EncodedString())?=")
                chunk = []
            }
            chunk += bytes.prefix(39)
        }
        if !chunk.isEmpty { words.append("=?utf-8?B?\(Data(chunk).base64EncodedString())?=") }
        return words.joined(separator: "\r\n ")
    }
}
