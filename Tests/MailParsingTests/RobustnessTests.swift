import Foundation
import Testing
@testable import MailParsing

/// The intake parses whatever a stranger sends, so damaged and oversized input must end in a result or a
/// MailParseError, within the limits, never in a crash or a hang.
@Suite struct RobustnessTests {
    struct SplitMix64 {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    }

    static let seeds: [String] = [
        BodyTests.plain,
        """
        From: =?GBK?B?1cXI/Q==?= <zhang@example.cn>
        Subject: =?GBK?B?t/7O8cb35bS7+g==?= =?utf-8?q?caf=C3=A9?=
        In-Reply-To: <a@b>
        References: <c@d> <a@b>
        Content-Type: multipart/mixed; boundary="o"

        --o
        Content-Type: multipart/alternative; boundary=a

        --a
        Content-Type: text/plain; charset=gbk
        Content-Transfer-Encoding: base64

        t/7O8cb35bS7+sHL
        --a
        Content-Type: text/html; charset=utf-8
        Content-Transfer-Encoding: quoted-printable

        <p>x &amp; y<br>=E2=80=94</p><script>no</script>
        --a--
        --o
        Content-Type: application/pdf
        Content-Disposition: attachment; filename*0*=utf-8''a%C3%A9; filename*1=".pdf"
        Content-Transfer-Encoding: base64

        JVBERi0xLjQK
        --o
        Content-Type: message/rfc822

        Subject: inner

        inner
        --o--
        """,
    ]

    static let fragments: [[UInt8]] = ["\n", "\r\n", "--o\n", "--a--\n", "=", "=?", "?=", "<", ">", "&#", ";", ":", "\"", "(", "\n\n",
                                       "Content-Type: multipart/mixed; boundary=o\n", "\u{00}", "\u{FF}"].map { Array($0.utf8) }

    @Test func mutatedMessagesStayWithinTheLimits() {
        var random = SplitMix64(state: 20_250_301)
        var limits = MailLimits()
        limits.maxTextCharacters = 200
        limits.maxAttachments = 3
        var parsed = 0
        for round in 0..<3_000 {
            var message = bytes(Self.seeds[round % Self.seeds.count])
            for _ in 0..<(1 + random.below(6)) {
                let position = random.below(message.count + 1)
                switch random.below(4) {
                case 0: if position < message.count { message[position] = UInt8(truncatingIfNeeded: random.next()) }
                case 1: message.insert(contentsOf: Self.fragments[random.below(Self.fragments.count)], at: position)
                case 2: message.removeSubrange(position..<min(message.count, position + random.below(40)))
                default: message = Array(message[..<position])
                }
            }
            do {
                let mail = try MailParser.parse(message, limits: limits)
                parsed += 1
                #expect(mail.text.count <= 200)
                #expect(mail.attachments.count <= 3)
                #expect(mail.references.count <= MailLimits.maxReferences)
            } catch {
                #expect(!error.message.isEmpty)
            }
        }
        #expect(parsed > 1_000)
    }

    /// Few rounds: under the test library every error thrown, even inside the standard library's UTF-8 repair,
    /// captures a backtrace, which costs far more here than in the intake.
    @Test func randomBytesNeverCrash() {
        var random = SplitMix64(state: 7)
        for _ in 0..<150 {
            let message = (0..<random.below(1_500)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            _ = try? MailParser.parse(message)
            _ = MailCharset.decode(message, charset: ["gbk", "big5", "shift_jis", "iso-2022-jp", "utf-16", "euc-kr"][random.below(6)])
            _ = EncodedWords.decode(String(decoding: message, as: UTF8.self))
            _ = HTMLText.reduce(String(decoding: message, as: UTF8.self))
        }
    }

    @Test func largeAttachmentAndLongText() throws {
        let payload = (0..<1_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let encoded = Data(payload).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        let text = String(repeating: "A line of the customer's text.\n", count: 20_000)
        let mail = try parse("""
            Content-Type: multipart/mixed; boundary=b

            --b
            Content-Type: text/plain

            \(text)
            --b
            Content-Type: application/octet-stream; name=dump.bin
            Content-Transfer-Encoding: base64

            \(encoded)
            --b--
            """)
        #expect(mail.attachments == [MailAttachment(fileName: "dump.bin", contentType: "application/octet-stream", byteCount: 1_000_000)])
        #expect(mail.text.count == 10_000)
        #expect(mail.text.hasSuffix("\n[truncated]"))
    }

    @Test func hugeHeaderLineWithoutLineBreakIsRefusedEarly() {
        let message = Array("Subject: ".utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: 1_000_000)
        #expect(parseError { () throws(MailParseError) in try MailParser.parse(message) } != nil)
    }
}

/// Shapes that make a naive scan quadratic; each must finish in well under a second.
@Suite struct PathologicalInputTests {
    static let shapes: [(name: String, message: String)] = [
        ("adjacent encoded words", "Subject: " + String(repeating: "=?utf-8?q?ab?= ", count: 15_000) + "\n\nx"),
        ("address pieces without @", "From: " + String(repeating: "a, ", count: 60_000) + "\n\nx"),
        ("unclosed heads", "Content-Type: text/html\n\n" + String(repeating: "<head><body>", count: 50_000)),
        ("entities", "Content-Type: text/html\n\n" + String(repeating: "&amp;", count: 200_000)),
        ("unclosed tags", "Content-Type: text/html\n\n" + String(repeating: "<a", count: 200_000)),
        ("parameters", "Content-Type: text/plain; " + String(repeating: "a*0*=x; ", count: 20_000) + "\n\nx"),
        ("references", "References: " + String(repeating: "<a@b> ", count: 30_000) + "\n\nx"),
        ("quoted-printable", "Content-Transfer-Encoding: quoted-printable\n\n" + String(repeating: "=   ", count: 100_000)),
    ]

    @Test(arguments: shapes.map(\.name))
    func finishesQuickly(_ name: String) throws {
        let message = Self.shapes.first { $0.name == name }!.message
        let clock = ContinuousClock()
        let elapsed = try clock.measure { _ = try MailParser.parse(bytes(message, .lf)) }
        #expect(elapsed < .seconds(3), "\(name) took \(elapsed)")
    }
}
