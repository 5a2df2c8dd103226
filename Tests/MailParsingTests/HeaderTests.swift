import Testing
@testable import MailParsing

@Suite struct HeaderTests {
    struct SubjectCase: Sendable, CustomTestStringConvertible {
        let header: String
        let expected: String
        var testDescription: String { String(reflecting: header) }
    }

    static let subjects: [SubjectCase] = [
        SubjectCase(header: "Plain subject  ", expected: "Plain subject"),
        SubjectCase(header: "=?UTF-8?Q?Server_down_=E2=80=94_help?=", expected: "Server down — help"),
        SubjectCase(header: "=?iso-8859-1?q?R=E9ponse_urgente?=", expected: "Réponse urgente"),
        // Adjacent words: the whitespace between them (here a fold) is not part of the text.
        SubjectCase(header: "=?UTF-8?B?w5xuw69j?=\n =?UTF-8?B?w7Zkw6k=?=", expected: "Ünïcödé"),
        SubjectCase(header: "=?GBK?B?vfS8saO6?= =?GBK?B?t/7O8cb35bS7+g==?=", expected: "紧急：服务器宕机"),
        // Words of different charsets join too; a word next to plain text keeps its space.
        SubjectCase(header: "Re: =?utf-8?q?caf=C3=A9?= =?iso-8859-1?q?_cr=E8me?= now", expected: "Re: café crème now"),
        // One UTF-8 character split across two words.
        SubjectCase(header: "=?utf-8?q?=E2=82?= =?utf-8?q?=AC?=", expected: "€"),
        SubjectCase(header: "=?utf-8*en?Q?with_language?=", expected: "with language"),
        SubjectCase(header: "Not =?encoded at all ?= really", expected: "Not =?encoded at all ?= really"),
        SubjectCase(header: "=?utf-8?x?unknown_encoding?=", expected: "=?utf-8?x?unknown_encoding?="),
        SubjectCase(header: "Raw UTF-8 — 服务器", expected: "Raw UTF-8 — 服务器"),
        SubjectCase(header: "=?x-unknown?q?caf=C3=A9?=", expected: "café"),
    ]

    @Test(arguments: subjects)
    func subjectIsUnfoldedAndDecoded(_ testCase: SubjectCase) throws {
        let mail = try parse("Subject: \(testCase.header)\n\nbody")
        #expect(mail.subject == testCase.expected)
    }

    @Test func missingSubjectIsEmpty() throws {
        #expect(try parse("From: a@b.example\n\nbody").subject == "")
    }

    @Test func headerNamesAreCaseInsensitiveAndTheFirstCounts() throws {
        let mail = try parse("SUBJECT: first\nsubject: second\nmessage-id:   <x@y>  \n\nbody")
        #expect(mail.subject == "first")
        #expect(mail.messageID == "x@y")
    }

    @Test func invalidUTF8InHeadersIsReplacedNotRefused() throws {
        let message = Array("Subject: caf".utf8) + [0xE9, 0xFF] + Array("\r\n\r\nbody".utf8)
        #expect(try MailParser.parse(message).subject == "caf\u{FFFD}\u{FFFD}")
    }

    struct AddressCase: Sendable, CustomTestStringConvertible {
        let header: String
        let expected: MailAddress?
        var testDescription: String { String(reflecting: header) }
    }

    static let addresses: [AddressCase] = [
        AddressCase(header: "Ana Lima <ana@Example.COM>", expected: MailAddress(address: "ana@example.com", displayName: "Ana Lima")),
        AddressCase(header: "\"Lima, Ana (Ops)\" <Ana.Lima@example.com>",
                    expected: MailAddress(address: "Ana.Lima@example.com", displayName: "Lima, Ana (Ops)")),
        AddressCase(header: "ana@example.com", expected: MailAddress(address: "ana@example.com", displayName: "")),
        AddressCase(header: "ana@example.com (Ana Lima)", expected: MailAddress(address: "ana@example.com", displayName: "Ana Lima")),
        AddressCase(header: "<ana@example.com>", expected: MailAddress(address: "ana@example.com", displayName: "")),
        AddressCase(header: "=?GBK?B?1cXI/Q==?= <zhang@example.cn>", expected: MailAddress(address: "zhang@example.cn", displayName: "张三")),
        AddressCase(header: "\"=?utf-8?q?Jos=C3=A9?=\" <jose@example.es>", expected: MailAddress(address: "jose@example.es", displayName: "José")),
        AddressCase(header: "first@example.com, Second <second@example.com>",
                    expected: MailAddress(address: "first@example.com", displayName: "")),
        AddressCase(header: "Doe, John <john@example.com>", expected: MailAddress(address: "john@example.com", displayName: "Doe, John")),
        AddressCase(header: "Team: ana@example.com, bo@example.com;", expected: MailAddress(address: "ana@example.com", displayName: "")),
        AddressCase(header: "\"John Q. \\\"Jack\\\" Public\" <jqp@example.com>",
                    expected: MailAddress(address: "jqp@example.com", displayName: "John Q. \"Jack\" Public")),
        AddressCase(header: "\"odd local\"@Example.com", expected: MailAddress(address: "\"odd local\"@example.com", displayName: "")),
        AddressCase(header: "Ops <@relay.example:ops@Example.com>", expected: MailAddress(address: "ops@example.com", displayName: "Ops")),
        AddressCase(header: "Nobody", expected: nil),
        AddressCase(header: "Nobody, ana@example.com", expected: MailAddress(address: "ana@example.com", displayName: "")),
        AddressCase(header: "Broken <no-at-sign>", expected: nil),
        AddressCase(header: "<@example.com>", expected: nil),
        AddressCase(header: "undisclosed-recipients:;", expected: nil),
        AddressCase(header: "", expected: nil),
    ]

    @Test(arguments: addresses)
    func fromAddress(_ testCase: AddressCase) throws {
        let mail = try parse("From: \(testCase.header)\nSubject: x\n\nbody")
        #expect(mail.from == testCase.expected)
    }

    @Test func missingFromIsNil() throws {
        #expect(try parse("Subject: x\n\nbody").from == nil)
    }

    @Test func referencesPutInReplyToFirstWithoutDuplicates() throws {
        let mail = try parse("""
            In-Reply-To: <c@example.com>
            References: <a@example.com>
             <b@example.com> <c@example.com>
             <a@example.com>
            Message-ID: <d@example.com>

            body
            """)
        #expect(mail.references == ["c@example.com", "a@example.com", "b@example.com"])
    }

    @Test func longReferencesKeepTheLastOnes() throws {
        let chain = (1...30).map { "<r\($0)@example.com>" }.joined(separator: "\n ")
        let mail = try parse("In-Reply-To: <r30@example.com>\nReferences: \(chain)\n\nbody")
        #expect(mail.references.count == MailLimits.maxReferences)
        #expect(mail.references == ["r30@example.com"] + (11...29).map { "r\($0)@example.com" })
    }

    @Test func idsWithoutBracketsAndEmptyMessageID() throws {
        let mail = try parse("Message-ID:   \nIn-Reply-To: bare-id@example.com\n\nbody")
        #expect(mail.messageID == nil)
        #expect(mail.references == ["bare-id@example.com"])
        #expect(try parse("Subject: x\n\nbody").messageID == nil)
    }

    @Test func headerLineWithoutColonNamesTheLine() throws {
        let error = parseError { () throws(MailParseError) in
            try MailParser.parse(bytes("From: a@b.example\nSubject: x\nthis line is broken\n\nbody"))
        }
        #expect(error?.message == "header line 3 has no colon")
        #expect(error?.description == "header line 3 has no colon")
    }

    @Test func headerLinesAreCountedAcrossFolds() throws {
        let error = parseError { () throws(MailParseError) in
            try MailParser.parse(bytes("Subject: a\n folded\n\tagain\nbroken\n\nbody", .lf))
        }
        #expect(error?.message == "header line 4 has no colon")
    }

    @Test func oversizedHeaderSectionIsRefused() throws {
        var limits = MailLimits()
        limits.maxHeaderBytes = 100
        let error = parseError { () throws(MailParseError) in
            try MailParser.parse(bytes("Subject: " + String(repeating: "x", count: 200) + "\n\nbody"), limits: limits)
        }
        #expect(error?.message.contains("longer than 100 bytes") == true)
        #expect(try parse("Subject: " + String(repeating: "x", count: 80) + "\n\nbody", limits: limits).text == "body")
    }
}
