import Foundation
import Testing
@testable import MailParsing

@Suite struct BodyTests {
    static let plain = """
        From: Ana Lima <ana@Example.COM>
        To: support@vigil.example
        Subject: Pager did not ring
        Message-ID: <abc123@mail.example.com>
        Date: Mon, 3 Mar 2025 10:00:00 +0000

        Hello,

        the pager did not ring last night.
        -- 
        Ana

        """

    @Test func plainASCII() throws {
        let mail = try parse(Self.plain)
        #expect(mail.messageID == "abc123@mail.example.com")
        #expect(mail.from == MailAddress(address: "ana@example.com", displayName: "Ana Lima"))
        #expect(mail.subject == "Pager did not ring")
        #expect(mail.text == "Hello,\n\nthe pager did not ring last night.\n-- \nAna")
        #expect(mail.attachments == [])
        #expect(!mail.isAutomatic)
        #expect(mail.automaticReason == nil)
        #expect(mail.references == [])
    }

    @Test func quotedPrintableUTF8() throws {
        let mail = try parse("""
            From: a@b.example
            Subject: QP
            MIME-Version: 1.0
            Content-Type: text/plain; charset="UTF-8"
            Content-Transfer-Encoding: quoted-printable

            Gr=C3=BC=C3=9Fe aus Z=C3=BCrich =E2=80=94 the server is down! This line is lo=
            ng and soft-broken.
            Second line: na=c3=afve caf=C3=A9 =ZZ stays, 100% =3D sure
            """)
        #expect(mail.text == "Grüße aus Zürich — the server is down! This line is long and soft-broken.\nSecond line: naïve café =ZZ stays, 100% = sure")
    }

    /// "服务器宕机了，请尽快处理。\r\n第二行\r\n" in GBK, base64 by Python; the subject "服务器宕机" likewise.
    @Test func base64GBKBodyAndSubject() throws {
        let mail = try parse("""
            From: =?GBK?B?1cXI/Q==?= <zhang@example.cn>
            Subject: =?GBK?B?t/7O8cb35bS7+g==?=
            Content-Type: text/plain; charset=GBK
            Content-Transfer-Encoding: base64

            t/7O8cb35bS7+sHLo6zH676hv+y0psDtoaMNCrXatv7Q
            0A0K
            """)
        #expect(mail.subject == "服务器宕机")
        #expect(mail.from == MailAddress(address: "zhang@example.cn", displayName: "张三"))
        #expect(mail.text == "服务器宕机了，请尽快处理。\n第二行")
    }

    /// "姓名：𠀀先生 😀 €5" in GB18030: 𠀀 (95 32 82 36) and 😀 (94 39 FC 36) take four bytes.
    @Test func gb18030FourByteSequences() throws {
        let mail = try parse("""
            Subject: gb18030
            Content-Type: text/plain; charset=gb18030
            Content-Transfer-Encoding: base64

            0NXD+6O6lTKCNs/IyfoglDn8NiCi4zU=
            """)
        #expect(mail.text == "姓名：𠀀先生 😀 €5")
    }

    /// Labelled GB2312, written in GBK: "堃" (88 D2) is not in GB2312, so the decoder falls back to GB18030.
    @Test func gb2312LabelWithGBKOnlyCharacters() throws {
        let body = Array("Name: ".utf8) + hex("88d2")
        var message = bytes("Content-Type: text/plain; charset=gb2312\nContent-Transfer-Encoding: 8bit\n\n")
        message += body
        #expect(try MailParser.parse(message).text == "Name: 堃")
    }

    @Test func htmlOnlyIsReducedToText() throws {
        let mail = try parse("""
            Subject: html
            Content-Type: text/html; charset=utf-8

            <html><head><title>Ignore me</title><style>p { color: red; }</style></head>
            <body><script type="text/javascript">alert("x < y");</script>
            <p>Dear&nbsp;team,</p><p>Tom &amp; Jerry say 5 &lt; 6 &gt; 4, &quot;quoted&quot; &#39;single&#39; &#8364; &#x263A;</p>
            <div>line one<br>line   two<br/>line three</div><!-- a comment <p>hidden</p> -->
            <ul><li>first</li><li>second</li></ul>
            </body></html>
            """)
        #expect(mail.text == """
            Dear team,
            Tom & Jerry say 5 < 6 > 4, "quoted" 'single' € ☺
            line one
            line two
            line three
            - first
            - second
            """)
    }

    @Test func alternativePrefersPlain() throws {
        let mail = try parse("""
            Subject: alt
            MIME-Version: 1.0
            Content-Type: multipart/alternative; boundary="b1"

            This is the preamble.
            --b1
            Content-Type: text/plain; charset=utf-8

            Plain version.
            --b1
            Content-Type: text/html; charset=utf-8

            <p>HTML <b>version</b>.</p>
            --b1--
            Epilogue.
            """)
        #expect(mail.text == "Plain version.")
        #expect(mail.attachments == [])
    }

    @Test func alternativeWithEmptyPlainTakesHTML() throws {
        let mail = try parse("""
            Content-Type: multipart/alternative; boundary=b1

            --b1
            Content-Type: text/plain

            --b1
            Content-Type: text/html

            <p>Only here</p>
            --b1--
            """)
        #expect(mail.text == "Only here")
    }

    static let pdf: [UInt8] = Array("%PDF-1.4\n".utf8) + (0..<1200).map { UInt8(($0 * 7 + 3) % 256) } + Array("\n%%EOF\n".utf8)

    @Test func mixedWithPDFAndRFC2231FileName() throws {
        let encoded = Data(Self.pdf).base64EncodedString(options: [.lineLength76Characters, .endLineWithLineFeed])
        let mail = try parse("""
            Subject: report
            Content-Type: multipart/mixed; boundary="==outer=="

            --==outer==
            Content-Type: text/plain; charset=us-ascii

            See the attached reports.
            --==outer==
            Content-Type: application/pdf; name="ignored.pdf"
            Content-Disposition: attachment;
             filename*=utf-8''St%C3%B6rungsbericht%20M%C3%A4rz.pdf
            Content-Transfer-Encoding: base64

            \(encoded)
            --==outer==
            Content-Type: text/plain

            Second inline text.
            --==outer==
            Content-Type: application/octet-stream
            Content-Disposition: attachment;
             filename*0*=gbk''%C8%D5%D6%BE;
             filename*1=".txt"
            Content-Transfer-Encoding: 7bit

            hello
            --==outer==
            Content-Type: IMAGE/PNG
            Content-Transfer-Encoding: base64

            iVBORw0KGgo
            --==outer==--
            """)
        #expect(Self.pdf.count == 1216)
        #expect(mail.text == "See the attached reports.\n\nSecond inline text.")
        #expect(mail.attachments == [
            MailAttachment(fileName: "Störungsbericht März.pdf", contentType: "application/pdf", byteCount: 1216),
            MailAttachment(fileName: "日志.txt", contentType: "application/octet-stream", byteCount: 5),
            MailAttachment(fileName: "attachment-3", contentType: "image/png", byteCount: 8),
        ])
    }

    @Test func nestedRelatedInsideAlternative() throws {
        let mail = try parse("""
            Subject: nested
            Content-Type: multipart/mixed; boundary=outer

            --outer
            Content-Type: multipart/alternative; boundary=alt

            --alt
            Content-Type: multipart/related; boundary=rel; type="text/html"

            --rel
            Content-Type: text/html; charset=utf-8

            <p>See the screenshot:</p><img src="cid:shot">
            --rel
            Content-Type: image/png
            Content-ID: <shot>
            Content-Disposition: inline
            Content-Transfer-Encoding: base64

            AAECAwQF
            --rel--
            --alt--
            --outer
            Content-Type: message/rfc822

            Subject: the original
            From: x@y.example

            Original body.
            --outer--
            """)
        #expect(mail.text == "See the screenshot:")
        #expect(mail.attachments == [
            MailAttachment(fileName: "attachment-1", contentType: "image/png", byteCount: 6),
            MailAttachment(fileName: "message.eml", contentType: "message/rfc822", byteCount: 55),
        ])
    }

    @Test func alternativeWithRelatedHTMLStillPrefersPlain() throws {
        let mail = try parse("""
            Content-Type: multipart/alternative; boundary=alt

            --alt
            Content-Type: text/plain; charset=utf-8

            The plain words.
            --alt
            Content-Type: multipart/related; boundary=rel

            --rel
            Content-Type: text/html

            <p>The rich words.</p>
            --rel
            Content-Type: image/gif; name=logo.gif
            Content-Transfer-Encoding: base64

            R0lGODlh
            --rel--
            --alt--
            """)
        #expect(mail.text == "The plain words.")
        #expect(mail.attachments == [MailAttachment(fileName: "logo.gif", contentType: "image/gif", byteCount: 6)])
    }

    @Test func missingClosingBoundaryIsTolerated() throws {
        let mail = try parse("""
            Content-Type: multipart/mixed; boundary=b

            --b
            Content-Type: text/plain

            first
            --b
            Content-Type: text/plain

            second, and the message ends here
            """)
        #expect(mail.text == "first\n\nsecond, and the message ends here")
    }

    @Test func partWithoutBlankLineStartsItsBody() throws {
        let mail = try parse("""
            Content-Type: multipart/mixed; boundary=b

            --b
            Hello without part headers
            --b--
            """)
        #expect(mail.text == "Hello without part headers")
    }

    @Test func textIsTruncatedWithinTheLimit() throws {
        var limits = MailLimits()
        limits.maxTextCharacters = 50
        let mail = try parse("Subject: long\n\n" + String(repeating: "abcdefghij", count: 20), limits: limits)
        #expect(mail.text.count == 50)
        #expect(mail.text == String(String(repeating: "abcdefghij", count: 4).prefix(38)) + "\n[truncated]")
        let short = try parse("Subject: short\n\n" + String(repeating: "x", count: 50) + "\n\n\n", limits: limits)
        #expect(short.text == String(repeating: "x", count: 50))
        #expect(try parse("Subject: default\n\n" + String(repeating: "é", count: 20_000)).text.count == 10_000)
    }

    @Test func unknownCharsetFallsBackToUTF8() throws {
        let mail = try parse("""
            Content-Type: text/plain; charset=x-no-such-charset
            Content-Transfer-Encoding: 8bit

            Ça marche quand même.
            """)
        #expect(mail.text == "Ça marche quand même.")
    }

    @Test func latin1BodyAndAttachmentCountOfUnencodedText() throws {
        var message = bytes("""
            Content-Type: multipart/mixed; boundary=b

            --b
            Content-Type: text/plain; charset=iso-8859-1
            Content-Transfer-Encoding: 8bit


            """)
        message += hex("52e9706f6e7365209394") + bytes("\n--b\nContent-Type: text/csv; name=data.csv\n\na,b\n1,2\n--b--\n")
        let mail = try MailParser.parse(message)
        // 0x93/0x94 are curly quotes in Windows-1252, which is how Latin-1 mail is read.
        #expect(mail.text == "Réponse “”")
        #expect(mail.attachments == [MailAttachment(fileName: "data.csv", contentType: "text/csv", byteCount: 7)])
    }

    @Test func attachmentsBeyondTheLimitAreIgnored() throws {
        var limits = MailLimits()
        limits.maxAttachments = 2
        let parts = (1...4).map { "--b\nContent-Type: application/octet-stream; name=f\($0).bin\n\nxx\n" }.joined()
        let mail = try parse("Content-Type: multipart/mixed; boundary=b\n\n" + parts + "--b--\n", limits: limits)
        #expect(mail.attachments.map(\.fileName) == ["f1.bin", "f2.bin"])
    }

    @Test func topLevelAttachmentOnly() throws {
        let mail = try parse("""
            Content-Type: application/pdf
            Content-Disposition: attachment; filename="=?utf-8?B?w5xuw69jw7Zkw6k=?=.pdf"
            Content-Transfer-Encoding: base64

            JVBERg==
            """)
        #expect(mail.text == "")
        #expect(mail.attachments == [MailAttachment(fileName: "Ünïcödé.pdf", contentType: "application/pdf", byteCount: 4)])
    }

    @Test func messageWithoutBody() throws {
        let mail = try parse("Subject: all headers\nFrom: a@b.example")
        #expect(mail.subject == "all headers")
        #expect(mail.text == "")
    }

    struct Fixture: Sendable, CustomTestStringConvertible {
        let name: String
        let text: String
        var testDescription: String { name }
    }

    static let lineEndFixtures: [Fixture] = [
        Fixture(name: "plain", text: plain),
        Fixture(name: "alternative, quoted-printable", text: """
        Subject: =?utf-8?q?Line_ends?=
        Content-Type: multipart/alternative; boundary=b

        --b
        Content-Type: text/plain; charset=utf-8
        Content-Transfer-Encoding: quoted-printable

        one=
         two
        three
        --b
        Content-Type: text/html

        <p>html</p>
        --b--
        """),
        Fixture(name: "mixed, attachments", text: """
        Content-Type: multipart/mixed; boundary=b

        --b

        inline text
        --b
        Content-Type: text/plain; name=notes.txt

        line 1
        line 2
        --b
        Content-Type: application/zip; name=a.zip
        Content-Transfer-Encoding: base64

        UEsDBAoAAAAA
        AAAA
        --b--
        """),
    ]

    @Test(arguments: lineEndFixtures)
    func crlfAndLFGiveTheSameResult(_ fixture: Fixture) throws {
        let crlf = try parse(fixture.text, .crlf)
        let lf = try parse(fixture.text, .lf)
        #expect(crlf == lf)
        #expect(!crlf.text.contains("\r"))
    }
}
