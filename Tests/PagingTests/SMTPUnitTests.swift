import NIOCore
import NIOEmbedded
import Testing
@testable import Paging

/// The SMTP client's parts on their own: reply parsing, EHLO keywords, dot-stuffing, quoted-printable,
/// header encoding, and the STARTTLS injection guard.
@Suite struct SMTPUnitTests {
    static func feed(_ lines: [String]) throws(SMTPReplyParseError) -> [SMTPReply] {
        var parser = SMTPReplyParser()
        var replies: [SMTPReply] = []
        for line in lines { if let reply = try parser.feed(Array(line.utf8)) { replies.append(reply) } }
        return replies
    }

    @Test func parsesSingleAndMultiLineReplies() throws {
        let replies = try Self.feed(["220 mx.example ESMTP", "250-mx.example", "250-STARTTLS", "250-AUTH=PLAIN LOGIN",
                                     "250-SIZE 10240000", "250 8BITMIME", "354", "550 5.1.1 <x@y>: no"])
        #expect(replies.map(\.code) == [220, 250, 354, 550])
        #expect(replies[3].enhancedCode == "5.1.1")
        #expect(replies[0].enhancedCode == nil)
        let extensions = SMTPExtensions(ehloLines: replies[1].lines)
        #expect(extensions.startTLS)
        #expect(extensions.authMechanisms == ["PLAIN", "LOGIN"])
        #expect(extensions.maxMessageBytes == 10_240_000)
    }

    @Test(arguments: [["hello"], ["2"], ["250x"], ["650 no"], ["250-a", "251 b"], [String(repeating: "2", count: 3_000)]])
    func refusesWhatIsNotAReply(lines: [String]) {
        #expect(throws: SMTPReplyParseError.self) { _ = try Self.feed(lines) }
    }

    @Test func refusesEndlessMultiLineReplies() {
        #expect(throws: SMTPReplyParseError.tooManyLines) { _ = try Self.feed(Array(repeating: "250-x", count: 200)) }
    }

    @Test(arguments: [
        ("a\r\n.b\r\n", "a\r\n..b\r\n.\r\n"),
        (".", "..\r\n.\r\n"),
        ("x\n.\ny", "x\r\n..\r\ny\r\n.\r\n"),
        ("x\r.\r\n", "x\r\n..\r\n.\r\n"),
        ("", "\r\n.\r\n"),
        ("end\r\n", "end\r\n.\r\n"),
    ])
    func dotStuffs(input: String, expected: String) {
        #expect(String(decoding: SMTPClient.dotStuffed(Array(input.utf8)), as: UTF8.self) == expected)
    }

    @Test func quotedPrintableKeepsLinesShortAndRoundTrips() {
        let text = "Grüße = \"hi\"\t\n" + String(repeating: "äöü-", count: 60) + " \n.\nend "
        let encoded = QuotedPrintable.encode(text)
        let lines = encoded.split(separator: "\r\n", omittingEmptySubsequences: false)
        #expect(lines.allSatisfy { $0.utf8.count <= 76 })
        #expect(lines.allSatisfy { !$0.hasSuffix(" ") && !$0.hasSuffix("\t") }, "no trailing blanks")
        #expect(encoded.utf8.allSatisfy { $0 < 0x80 }, "7-bit")
        #expect(Self.decodeQuotedPrintable(encoded) == text)
    }

    @Test func headerWordsAreEncodedOnlyWhenNeeded() {
        #expect(EmailComposer.encodedWord("plain subject", alwaysQuote: false) == "plain subject")
        #expect(EmailComposer.encodedWord("Vigil \"pager\"", alwaysQuote: true) == "\"Vigil \\\"pager\\\"\"")
        #expect(EmailComposer.encodedWord("line\r\nBcc: x@y", alwaysQuote: false) == "line  Bcc: x@y", "no header injection")
        let encoded = EmailComposer.encodedWord(String(repeating: "ü", count: 50), alwaysQuote: false)
        #expect(encoded.hasPrefix("=?utf-8?B?"))
        #expect(encoded.split(separator: "\r\n ").allSatisfy { $0.utf8.count <= 75 })
    }

    @Test func dataAfterTheStartTLSReplyInTheSameReadIsRefused() throws {
        let channel = EmbeddedChannel()
        let handler = SMTPReplyHandler()
        try channel.pipeline.syncOperations.addHandler(handler)
        let promise = channel.eventLoop.makePromise(of: SMTPReply.self)
        handler.armTLSGuard()
        handler.waitForReply(step: .startTLS, timeout: .seconds(5), mustBeFirst: true, promise: promise)
        try channel.writeInbound(ByteBuffer(string: "220 2.0.0 Ready to start TLS\r\n250-injected\r\n"))
        #expect(throws: SMTPError.unexpectedDataAfterStartTLS) { try promise.futureResult.wait() }
    }

    @Test func dataAfterTheStartTLSReplyInALaterReadIsRefused() throws {
        let channel = EmbeddedChannel()
        let handler = SMTPReplyHandler()
        try channel.pipeline.syncOperations.addHandler(handler)
        let promise = channel.eventLoop.makePromise(of: SMTPReply.self)
        handler.armTLSGuard()
        handler.waitForReply(step: .startTLS, timeout: .seconds(5), mustBeFirst: true, promise: promise)
        try channel.writeInbound(ByteBuffer(string: "220 2.0.0 Ready to start TLS\r\n"))
        #expect(try promise.futureResult.wait().code == 220)
        _ = try? channel.writeInbound(ByteBuffer(string: "250 injected\r\n"))
        let next = channel.eventLoop.makePromise(of: SMTPReply.self)
        handler.waitForReply(step: .ehlo, timeout: .seconds(5), mustBeFirst: true, promise: next)
        #expect(throws: SMTPError.unexpectedDataAfterStartTLS) { try next.futureResult.wait() }
    }

    @Test func aReplyTimeoutFailsTheStepAndClosesTheConnection() throws {
        let channel = EmbeddedChannel()
        let handler = SMTPReplyHandler()
        try channel.pipeline.syncOperations.addHandler(handler)
        let promise = channel.eventLoop.makePromise(of: SMTPReply.self)
        handler.waitForReply(step: .data, timeout: .seconds(30), mustBeFirst: true, promise: promise)
        channel.embeddedEventLoop.advanceTime(by: .seconds(31))
        #expect(throws: SMTPError.timedOut(step: .data)) { try promise.futureResult.wait() }
        #expect(!channel.isActive)
    }

    @Test func aReplyNobodyAskedForBeforeACommandIsAProtocolError() throws {
        let channel = EmbeddedChannel()
        let handler = SMTPReplyHandler()
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.writeInbound(ByteBuffer(string: "220 hi\r\n250 unsolicited\r\n"))
        let greeting = channel.eventLoop.makePromise(of: SMTPReply.self)
        handler.waitForReply(step: .greeting, timeout: .seconds(5), mustBeFirst: false, promise: greeting)
        #expect(try greeting.futureResult.wait().code == 220)
        let ehlo = channel.eventLoop.makePromise(of: SMTPReply.self)
        handler.waitForReply(step: .ehlo, timeout: .seconds(5), mustBeFirst: true, promise: ehlo)
        #expect(throws: SMTPError.self) { try ehlo.futureResult.wait() }
    }

    /// A small decoder for the round-trip check (soft breaks and =XX only).
    static func decodeQuotedPrintable(_ text: String) -> String {
        var bytes: [UInt8] = []
        let input = Array(text.utf8)
        var index = 0
        while index < input.count {
            if input[index] == UInt8(ascii: "="), index + 2 < input.count, input[index + 1] == 13, input[index + 2] == 10 {
                index += 3
            } else if input[index] == UInt8(ascii: "="), index + 2 < input.count,
                      let value = UInt8(String(decoding: input[(index + 1)...(index + 2)], as: UTF8.self), radix: 16) {
                bytes.append(value)
                index += 3
            } else if input[index] == 13, index + 1 < input.count, input[index + 1] == 10 {
                bytes.append(10)
                index += 2
            } else {
                bytes.append(input[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
