import Testing
@testable import VigilNode

/// The SMTP conversation's replies without a socket (RFC 5321, RFC 3207); the real server is tested from Python's
/// smtplib in Tests/smtp.
@Suite struct SMTPSessionTests {
    func session(tls: Bool = true, maxBytes: Int = 1_000) -> SMTPSession {
        SMTPSession(hostname: "vigil-1", maxMessageBytes: maxBytes, offersTLS: tls, acceptsRecipient: { $0.lowercased() == "support@example.com" })
    }

    /// Feeds lines and returns each line's actions.
    func run(_ session: inout SMTPSession, _ lines: [String]) -> [[SMTPSession.Action]] {
        lines.map { session.receive(line: ArraySlice(Array($0.utf8))) }
    }

    func code(_ actions: [SMTPSession.Action]) -> String? {
        guard case let .reply(text)? = actions.first else { return nil }
        return String(text.prefix(3))
    }

    @Test func aWholeTransactionDeliversTheDotUnstuffedMessage() {
        var s = session()
        let replies = run(&s, ["EHLO client", "MAIL FROM:<a@b.example> SIZE=100", "RCPT TO:<Support@Example.com>", "DATA",
                               "Subject: hi", "", "..leading dot", "body", "."])
        #expect(replies.prefix(4).map(code) == ["250", "250", "250", "354"])
        #expect(replies.last == [.deliver(.init(sender: "a@b.example", recipients: ["Support@Example.com"],
                                                data: Array("Subject: hi\r\n\r\n.leading dot\r\nbody\r\n".utf8)))])
        #expect(s.phase == .delivering)
        // Nothing is read while the cluster records the message; then the transaction is over.
        #expect(run(&s, ["NOOP"]) == [[]])
        #expect(code(s.finished(with: "250 2.0.0 recorded on ticket 1")) == "250")
        #expect(code(run(&s, ["RCPT TO:<support@example.com>"])[0]) == "503")
    }

    @Test func ehloAnnouncesSizeAndStartTLSOnlyBeforeTLS() {
        var s = session()
        guard case let .reply(text)? = run(&s, ["EHLO c"])[0].first else { Issue.record("no reply"); return }
        #expect(text.contains("250-SIZE 1000") && text.contains("STARTTLS") && text.hasSuffix("250 STARTTLS"))
        #expect(run(&s, ["STARTTLS"])[0] == [.reply("220 2.0.0 ready to start TLS"), .startTLS])
        // After the handshake the client says EHLO again, and STARTTLS is gone.
        #expect(code(run(&s, ["MAIL FROM:<a@b>"])[0]) == "503")
        guard case let .reply(again)? = run(&s, ["EHLO c"])[0].first else { Issue.record("no reply"); return }
        #expect(!again.contains("STARTTLS"))
        #expect(code(run(&s, ["STARTTLS"])[0]) == "502")
        var plain = session(tls: false)
        #expect(code(run(&plain, ["STARTTLS"])[0]) == "502")
    }

    @Test(arguments: [
        (["MAIL FROM:<a@b>"], "503"),
        (["EHLO c", "MAIL FROM:a@b"], "501"),
        (["EHLO c", "MAIL FROM:<a@b> SIZE=5000"], "552"),
        (["EHLO c", "MAIL FROM:<a@b> SIZE=many"], "501"),
        (["EHLO c", "RCPT TO:<support@example.com>"], "503"),
        (["EHLO c", "MAIL FROM:<a@b>", "RCPT TO:<someone@else.example>"], "550"),
        (["EHLO c", "MAIL FROM:<a@b>", "RCPT TO:<>"], "501"),
        (["EHLO c", "MAIL FROM:<a@b>", "DATA"], "503"),
        (["EHLO c", "MAIL FROM:<a@b>", "MAIL FROM:<a@b>"], "503"),
        (["EHLO"], "501"),
        (["HELP"], "502"),
        (["EHLO c", "VRFY x"], "252"),
        (["EHLO c", "QUIT"], "221"),
    ])
    func badSequencesGetTheirCodes(lines: [String], expected: String) {
        var s = session()
        #expect(code(run(&s, lines).last!) == expected)
    }

    @Test func theNullSenderIsAccepted() {
        var s = session()
        let replies = run(&s, ["HELO c", "MAIL FROM:<>", "RCPT TO:<support@example.com>", "DATA", "x", "."])
        #expect(replies.last == [.deliver(.init(sender: nil, recipients: ["support@example.com"], data: Array("x\r\n".utf8)))])
    }

    @Test func anOversizedMessageIsRefusedAfterItsEndAndTheSessionGoesOn() {
        var s = session(maxBytes: 1_024)
        let body = String(repeating: "x", count: 300)
        let replies = run(&s, ["EHLO c", "MAIL FROM:<a@b>", "RCPT TO:<support@example.com>", "DATA", body, body, body, body, "."])
        #expect(code(replies.last!) == "552")
        #expect(code(run(&s, ["MAIL FROM:<a@b>"])[0]) == "250")
    }

    @Test func tooManyRecipients() {
        var s = session()
        _ = run(&s, ["EHLO c", "MAIL FROM:<a@b>"])
        let replies = run(&s, Array(repeating: "RCPT TO:<support@example.com>", count: SMTPSession.maxRecipients + 1))
        #expect(code(replies.last!) == "452")
    }
}
