import Testing
@testable import MailParsing

@Suite struct AutomaticTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let headers: String
        let reason: String?
        var testDescription: String { String(reflecting: headers) }
    }

    static let cases: [Case] = [
        Case(headers: "From: ana@example.com\nAuto-Submitted: auto-replied", reason: "Auto-Submitted: auto-replied"),
        Case(headers: "From: ana@example.com\nAuto-Submitted: Auto-Generated; owner-email=\"x@y\"", reason: "Auto-Submitted: Auto-Generated"),
        Case(headers: "From: ana@example.com\nAuto-Submitted: no", reason: nil),
        Case(headers: "From: ana@example.com\nAuto-Submitted: NO (a person wrote this)", reason: nil),
        Case(headers: "From: ana@example.com\nPrecedence: bulk", reason: "Precedence: bulk"),
        Case(headers: "From: ana@example.com\nPrecedence: JUNK", reason: "Precedence: junk"),
        Case(headers: "From: ana@example.com\nPrecedence: list", reason: "Precedence: list"),
        Case(headers: "From: ana@example.com\nPrecedence: auto_reply", reason: "Precedence: auto_reply"),
        Case(headers: "From: ana@example.com\nPrecedence: first-class", reason: nil),
        Case(headers: "From: ana@example.com\nX-Autoreply: yes", reason: "X-Autoreply: yes"),
        Case(headers: "From: ana@example.com\nX-Autorespond: 1", reason: "X-Autorespond: 1"),
        Case(headers: "From: MAILER-DAEMON@MX.Example.com", reason: "From: MAILER-DAEMON@mx.example.com"),
        Case(headers: "From: Mail Delivery System <Postmaster@example.com>", reason: "From: Postmaster@example.com"),
        Case(headers: "From: MAILER-DAEMON (Mail Delivery System)", reason: "From: MAILER-DAEMON"),
        Case(headers: "From: postmaster-team@example.com", reason: nil),
        // Mailing-list headers alone do not make a message automatic: customers' clients add them too.
        Case(headers: "From: ana@example.com\nList-Id: <ops.example.com>\nList-Unsubscribe: <mailto:u@example.com>", reason: nil),
        Case(headers: "From: ana@example.com\nX-Auto-Response-Suppress: All", reason: nil),
    ]

    @Test(arguments: cases)
    func automaticHeaders(_ testCase: Case) throws {
        let mail = try parse(testCase.headers + "\nSubject: hi\n\nbody")
        #expect(mail.isAutomatic == (testCase.reason != nil))
        #expect(mail.automaticReason == testCase.reason)
    }

    @Test func deliveryStatusReportIsABounce() throws {
        let mail = try parse("""
            From: Mail Delivery Subsystem <bounces@mx.example.com>
            Subject: Undelivered Mail Returned to Sender
            Content-Type: multipart/report; report-type=delivery-status;
            \tboundary="rep"

            --rep
            Content-Description: Notification
            Content-Type: text/plain; charset=us-ascii

            This is the mail system at host mx.example.com.
            I'm sorry to have to inform you that your message could not be delivered.
            --rep
            Content-Type: message/delivery-status

            Reporting-MTA: dns; mx.example.com
            Final-Recipient: rfc822; nobody@example.org
            Action: failed
            Status: 5.1.1
            --rep
            Content-Type: text/rfc822-headers

            Subject: the original
            --rep--
            """)
        #expect(mail.isAutomatic)
        #expect(mail.automaticReason == "multipart/report (delivery status)")
        #expect(mail.text.hasPrefix("This is the mail system"))
        #expect(mail.attachments.map(\.contentType) == ["message/delivery-status", "text/rfc822-headers"])
    }

    @Test func readReceiptIsAutomatic() throws {
        let mail = try parse("""
            From: ana@example.com
            Content-Type: multipart/report; report-type="disposition-notification"; boundary=r

            --r
            Content-Type: text/plain

            Your message was displayed.
            --r
            Content-Type: message/disposition-notification

            Disposition: manual-action/MDN-sent-manually; displayed
            --r--
            """)
        #expect(mail.automaticReason == "multipart/report (disposition notification)")
    }
}
