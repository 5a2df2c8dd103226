import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Testing
@testable import Paging

/// The e-mail channel and SMTP client against a real aiosmtpd server on 127.0.0.1.
@Suite struct EmailChannelTests {
    static let from = "pager@vigil.example"

    static func smtp(_ port: Int, security: SMTPConfiguration.Security = .startTLSIfOffered, trust: NIOSSLCertificate? = nil,
                     credentials: SMTPCredentials? = nil, mechanisms: [SMTPAuthMechanism] = [.plain, .login],
                     authWithoutTLS: Bool = false) -> SMTPConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let trust { tls.trustRoots = .certificates([trust]) }
        return SMTPConfiguration(host: "127.0.0.1", port: port, security: security, tlsConfiguration: tls, credentials: credentials,
                                 authMechanisms: mechanisms, allowAuthenticationWithoutTLS: authWithoutTLS,
                                 connectTimeout: .seconds(5), greetingTimeout: .seconds(5), commandTimeout: .seconds(5),
                                 dataTimeout: .seconds(10))
    }

    static func channel(_ smtp: SMTPConfiguration, retries: RetryPolicy = Fixtures.fastRetries) throws -> EmailChannel {
        try EmailChannel(configuration: EmailConfiguration(smtp: smtp, fromAddress: from, retryPolicy: retries))
    }

    /// A part's decoded text with CRLF made LF (Python keeps the wire's line ends).
    static func part(_ message: [String: Any], _ type: String) -> String? {
        ((message["parts"] as? [[String: Any]])?.first { $0["content_type"] as? String == type }?["text"] as? String)?
            .replacingOccurrences(of: "\r\n", with: "\n")
    }

    @Test func deliversMultipartTextAndHTMLWithTheAckLinkAndAStableMessageID() async throws {
        let sink = try await SMTPSink.start()
        defer { sink.stop() }
        // A title that is a lone "." puts a "." line in the text part: without dot-stuffing the server
        // would end the message there and read the rest as commands.
        let page = Fixtures.page(title: ".")
        let channel = try Self.channel(Self.smtp(sink.port))
        #expect(await channel.send(page, to: "alice@example.com") == .delivered(attempts: 1))
        #expect(await channel.send(page, to: "alice@example.com") == .delivered(attempts: 1))

        let messages = sink.messages
        try #require(messages.count == 2)
        let message = messages[0]
        #expect(message["mail_from"] as? String == Self.from)
        #expect(message["rcpt_tos"] as? [String] == ["alice@example.com"])
        #expect(message["tls"] as? Bool == false)
        #expect(message["content_type"] as? String == "multipart/alternative")
        #expect((message["defects"] as? [Any])?.isEmpty == true, "Python's parser found no MIME defects")
        let parts = try #require(message["parts"] as? [[String: Any]])
        #expect(parts.compactMap { $0["content_type"] as? String } == ["text/plain", "text/html"])

        let text = try #require(Self.part(message, "text/plain"))
        #expect(text.hasPrefix(".\n"), "the dot line survived the trip")
        #expect(text.contains("Acknowledge: https://vigil.example/ack/ack-token"))
        #expect(text.contains("Resolve:     https://vigil.example/ack/resolve-token"))
        #expect(text.contains("Priority:   P1") && text.contains("Service:    payments") && text.contains("Ticket:     #42"))
        let html = try #require(Self.part(message, "text/html"))
        #expect(html.contains(#"<a href="https://vigil.example/ack/ack-token""#))
        #expect(html.contains(#"<a href="https://vigil.example/ack/resolve-token""#))

        let headers = try #require(message["headers"] as? [String: String])
        let expectedID = EmailComposer.messageID(idempotencyKey: page.idempotencyKey, domain: "vigil.example")
        #expect(headers["Message-ID"] == expectedID)
        #expect((messages[1]["headers"] as? [String: String])?["Message-ID"] == expectedID, "a resend carries the same Message-ID")
        #expect(headers["Subject"] == "[Vigil P1] #42 . (payments)")
        #expect(headers["From"] == "\"Vigil\" <pager@vigil.example>" || headers["From"] == "Vigil <pager@vigil.example>")
        #expect(headers["To"] == "alice@example.com" || headers["To"] == "<alice@example.com>")
        #expect(headers["Auto-Submitted"] == "auto-generated")
        #expect(headers["X-Vigil-Idempotency-Key"] == page.idempotencyKey)

        let raw = try #require(message["raw"] as? String)
        #expect(raw.split(separator: "\r\n", omittingEmptySubsequences: false).allSatisfy { $0.utf8.count <= 78 },
                "every line within RFC 5322's recommended 78 characters")
    }

    @Test func encodesNonASCIITitlesAndHTMLSpecials() async throws {
        let sink = try await SMTPSink.start()
        defer { sink.stop() }
        let title = "Zähler „kaputt“ <b>&</b> ✓ " + String(repeating: "ß", count: 60)
        #expect(await (try Self.channel(Self.smtp(sink.port))).send(Fixtures.page(title: title), to: "bob@example.com").isDelivered)
        let message = try #require(sink.messages.first)
        #expect((message["headers"] as? [String: String])?["Subject"] == "[Vigil P1] #42 \(title) (payments)")
        #expect(Self.part(message, "text/plain")?.hasPrefix(title + "\n") == true)
        let html = try #require(Self.part(message, "text/html"))
        #expect(html.contains("Zähler „kaputt“ &lt;b&gt;&amp;&lt;/b&gt; ✓"))
        #expect(!html.contains("<b>&</b>"))
    }

    @Test func startTLSThenAuthPlainWithTheServersCA() async throws {
        let directory = try Fixtures.temporaryDirectory("smtp-tls")
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificates = try SMTPSink.Certificates.make(in: directory)
        var options = SMTPSink.Options()
        options.startTLS = true
        options.requireStartTLS = true
        options.credentials = ("pager", "s3cret")
        let sink = try await SMTPSink.start(options, certificates: certificates)
        defer { sink.stop() }
        let configuration = Self.smtp(sink.port, security: .startTLSRequired, trust: certificates.caCertificate,
                                      credentials: SMTPCredentials(username: "pager", password: "s3cret"))
        let receipt = try await SMTPClient(configuration: configuration)
            .send(EmailComposer(fromAddress: Self.from, fromName: "Vigil", messageIDDomain: "vigil.example")
                .compose(Fixtures.page(), to: "carol@example.com", date: Date()))
        #expect(receipt == SMTPDeliveryReceipt(usedTLS: true, authMechanism: .plain))
        let message = try #require(sink.messages.first)
        #expect(message["tls"] as? Bool == true)
        #expect(message["auth_user"] as? String == "pager")
        #expect(message["auth_mechanism"] as? String == "PLAIN")
        #expect(Self.part(message, "text/plain")?.contains("https://vigil.example/ack/ack-token") == true)
    }

    @Test func implicitTLSWithAuthLogin() async throws {
        let directory = try Fixtures.temporaryDirectory("smtp-implicit")
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificates = try SMTPSink.Certificates.make(in: directory)
        var options = SMTPSink.Options()
        options.implicitTLS = true
        options.credentials = ("pager", "s3cret")
        let sink = try await SMTPSink.start(options, certificates: certificates)
        defer { sink.stop() }
        let configuration = Self.smtp(sink.port, security: .implicitTLS, trust: certificates.caCertificate,
                                      credentials: SMTPCredentials(username: "pager", password: "s3cret"), mechanisms: [.login])
        #expect(await (try Self.channel(configuration)).send(Fixtures.page(), to: "dave@example.com") == .delivered(attempts: 1))
        let message = try #require(sink.messages.first)
        // The server speaks nothing but TLS, so a delivery proves the client did too.
        #expect(message["auth_mechanism"] as? String == "LOGIN")
    }

    @Test func anUntrustedCertificateIsAPermanentTLSFailure() async throws {
        let directory = try Fixtures.temporaryDirectory("smtp-untrusted")
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificates = try SMTPSink.Certificates.make(in: directory)
        var options = SMTPSink.Options()
        options.startTLS = true
        let sink = try await SMTPSink.start(options, certificates: certificates)
        defer { sink.stop() }
        // The system roots do not include the test CA.
        let result = await (try Self.channel(Self.smtp(sink.port))).send(Fixtures.page(), to: "erin@example.com")
        guard case let .failed(kind, detail, attempts) = result else { Issue.record("delivered over an untrusted TLS"); return }
        #expect(kind == .permanent && attempts == 1)
        #expect(detail.contains("TLS"))
        #expect(sink.messages.isEmpty)
    }

    @Test func wrongPasswordIsAPermanentAuthFailure() async throws {
        let directory = try Fixtures.temporaryDirectory("smtp-auth")
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificates = try SMTPSink.Certificates.make(in: directory)
        var options = SMTPSink.Options()
        options.startTLS = true
        options.credentials = ("pager", "s3cret")
        let sink = try await SMTPSink.start(options, certificates: certificates)
        defer { sink.stop() }
        let configuration = Self.smtp(sink.port, trust: certificates.caCertificate, credentials: SMTPCredentials(username: "pager", password: "wrong"))
        let client = try SMTPClient(configuration: configuration)
        do throws(SMTPError) {
            try await client.send(EmailMessage(envelopeFrom: Self.from, recipient: "f@example.com", content: Array("Subject: x\r\n\r\nx\r\n".utf8)))
            Issue.record("sent with a wrong password")
        } catch {
            #expect(error == .authenticationFailed(code: 535, enhancedCode: "5.7.8"))
            #expect(!error.isTransient)
        }
        #expect(sink.messages.isEmpty)
    }

    @Test func credentialsNeverTravelInPlaintextUnlessAllowed() async throws {
        var options = SMTPSink.Options()
        options.credentials = ("pager", "s3cret")
        options.authWithoutTLS = true
        let sink = try await SMTPSink.start(options)
        defer { sink.stop() }
        let credentials = SMTPCredentials(username: "pager", password: "s3cret")
        let refused = await (try Self.channel(Self.smtp(sink.port, credentials: credentials))).send(Fixtures.page(), to: "g@example.com")
        #expect(refused == .failed(.permanent, detail: SMTPError.authenticationRequiresTLS.description, attempts: 1))
        let allowed = await (try Self.channel(Self.smtp(sink.port, credentials: credentials, mechanisms: [.login], authWithoutTLS: true)))
            .send(Fixtures.page(), to: "g@example.com")
        #expect(allowed == .delivered(attempts: 1))
        #expect(sink.messages.first?["auth_mechanism"] as? String == "LOGIN")
        #expect(!"\(credentials)".contains("s3cret"))
    }

    @Test func startTLSRequiredAgainstAPlaintextServerSendsNothing() async throws {
        let sink = try await SMTPSink.start()
        defer { sink.stop() }
        let result = await (try Self.channel(Self.smtp(sink.port, security: .startTLSRequired))).send(Fixtures.page(), to: "h@example.com")
        #expect(result == .failed(.permanent, detail: SMTPError.startTLSNotOffered.description, attempts: 1))
        #expect(sink.messages.isEmpty)
    }

    @Test func aRejectedRecipientIsPermanentAndTheDetailHoldsNoAddress() async throws {
        let sink = try await SMTPSink.start()
        defer { sink.stop() }
        let result = await (try Self.channel(Self.smtp(sink.port))).send(Fixtures.page(), to: "reject-me@example.com")
        #expect(result == .failed(.permanent, detail: "the SMTP server rejected rcpt to with 550 5.1.1", attempts: 1))
    }

    @Test func a451IsRetriedUpToTheLimit() async throws {
        let sink = try await SMTPSink.start()
        defer { sink.stop() }
        let result = await (try Self.channel(Self.smtp(sink.port))).send(Fixtures.page(), to: "later@example.com")
        #expect(result == .failed(.transient, detail: "the SMTP server rejected rcpt to with 451 4.3.0 (gave up after 4 attempts)", attempts: 4))
    }

    @Test func aSilentServerTimesOutAtTheGreeting() async throws {
        // Accepts connections and never says a word.
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { $0.eventLoop.makeSucceededVoidFuture() }
            .bind(host: "127.0.0.1", port: 0).get()
        var configuration = Self.smtp(server.localAddress?.port ?? 0)
        configuration.greetingTimeout = .milliseconds(300)
        let client = try SMTPClient(configuration: configuration)
        do throws(SMTPError) {
            try await client.send(EmailMessage(envelopeFrom: Self.from, recipient: "i@example.com", content: Array("x\r\n".utf8)))
            Issue.record("a silent server accepted mail")
        } catch {
            #expect(error == .timedOut(step: .greeting))
            #expect(error.isTransient)
        }
        try await server.close()
    }

    @Test func aRefusedConnectionIsTransient() async throws {
        let port = try Fixtures.closedPort()
        let client = try SMTPClient(configuration: Self.smtp(port))
        do throws(SMTPError) {
            try await client.send(EmailMessage(envelopeFrom: Self.from, recipient: "j@example.com", content: Array("x\r\n".utf8)))
            Issue.record("sent to a closed port")
        } catch {
            guard case .connectionFailed = error else { Issue.record("expected connectionFailed, got \(error)"); return }
            #expect(error.isTransient)
            #expect(!error.description.contains("127.0.0.1"))
        }
    }

    @Test func refusesBadAddressesWithoutConnecting() async throws {
        let channel = try Self.channel(Self.smtp(1))
        for address in ["", "no-at-sign", "a b@example.com", "x@example.com>\r\nRCPT TO:<y@example.com", "@example.com", "ü@example.com"] {
            let result = await channel.send(Fixtures.page(), to: address)
            #expect(result.attempts == 0, "\(address.debugDescription)")
        }
        #expect(throws: PagingConfigurationError.self) {
            try EmailChannel(configuration: EmailConfiguration(smtp: Self.smtp(25), fromAddress: "not an address"))
        }
        #expect(throws: PagingConfigurationError.self) {
            try EmailChannel(configuration: EmailConfiguration(smtp: SMTPConfiguration(host: "", port: 25), fromAddress: Self.from))
        }
    }
}
