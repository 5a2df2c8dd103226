import Testing
@testable import MailParsing

@Suite struct StructureErrorTests {
    @Test func multipartWithoutBoundaryIsRefused() {
        let error = parseError { () throws(MailParseError) in
            try MailParser.parse(bytes("Content-Type: multipart/mixed\n\n--x\n\nbody\n--x--\n"))
        }
        #expect(error?.message == "message: Content-Type multipart/mixed has no boundary parameter")
    }

    @Test func nestedMultipartWithoutBoundaryNamesThePart() {
        let error = parseError { () throws(MailParseError) in
            try MailParser.parse(bytes("""
                Content-Type: multipart/mixed; boundary=outer

                --outer

                text
                --outer
                Content-Type: multipart/alternative

                --outer--
                """))
        }
        #expect(error?.message == "part 2: Content-Type multipart/alternative has no boundary parameter")
    }

    @Test func tooManyPartsIsRefused() throws {
        var limits = MailLimits()
        limits.maxParts = 5
        func message(parts: Int) -> String {
            "Content-Type: multipart/mixed; boundary=b\n\n" + String(repeating: "--b\n\nx\n", count: parts) + "--b--\n"
        }
        #expect(try parse(message(parts: 5), limits: limits).text == "x\n\nx\n\nx\n\nx\n\nx")
        let error = parseError { () throws(MailParseError) in try MailParser.parse(bytes(message(parts: 6)), limits: limits) }
        #expect(error?.message == "message has more than 5 MIME parts")
        // The default limit.
        #expect(parseError { () throws(MailParseError) in try MailParser.parse(bytes(message(parts: 101))) } != nil)
    }

    @Test func tooDeepNestingIsRefused() throws {
        func nested(_ levels: Int) -> String {
            var text = "Content-Type: text/plain\n\ndeep"
            for level in (0..<levels).reversed() {
                text = "Content-Type: multipart/mixed; boundary=b\(level)\n\n--b\(level)\n\(text)\n--b\(level)--"
            }
            return text
        }
        #expect(try parse(nested(8)).text == "deep")
        let error = parseError { () throws(MailParseError) in try MailParser.parse(bytes(nested(9))) }
        #expect(error?.message.contains("deeper than 8") == true)
    }
}
