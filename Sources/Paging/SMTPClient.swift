import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// A message ready for SMTP: the envelope and the RFC 5322 text (CRLF line ends).
public struct EmailMessage: Sendable, Equatable {
    public let envelopeFrom: String
    public let recipient: String
    /// Headers and body as they go on the wire, before dot-stuffing.
    public let content: [UInt8]

    public init(envelopeFrom: String, recipient: String, content: [UInt8]) {
        self.envelopeFrom = envelopeFrom
        self.recipient = recipient
        self.content = content
    }
}

/// How a message was handed over.
public struct SMTPDeliveryReceipt: Sendable, Equatable {
    /// Whether the message travelled over TLS (STARTTLS or implicit).
    public let usedTLS: Bool
    /// The AUTH mechanism used, if any.
    public let authMechanism: SMTPAuthMechanism?
}

/// A small SMTP client on SwiftNIO (RFC 5321): EHLO (HELO as fallback), STARTTLS (RFC 3207), AUTH
/// PLAIN/LOGIN (RFC 4954), one recipient per session, dot-stuffing, a timeout on every step, QUIT.
///
/// Written here because no maintained Swift SMTP library is among the packages this project may use.
/// It logs steps and reply codes only: never addresses, server texts, credentials or the message.
public struct SMTPClient: Sendable {
    public let configuration: SMTPConfiguration
    let tlsContext: NIOSSLContext?
    let group: any EventLoopGroup
    let logger: Logger

    public init(configuration: SMTPConfiguration, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                logger: Logger = Logger(label: "vigil.paging.smtp")) throws(PagingConfigurationError) {
        try configuration.validate()
        self.configuration = configuration
        self.group = eventLoopGroup
        self.logger = logger
        if configuration.security == .plaintext {
            tlsContext = nil
        } else {
            do {
                tlsContext = try NIOSSLContext(configuration: configuration.tlsConfiguration)
            } catch {
                throw PagingConfigurationError("smtp.tlsConfiguration", "unusable: \(error)")
            }
        }
    }

    /// Hands `message` to the server in one session. Throws only `SMTPError`.
    @discardableResult
    public func send(_ message: EmailMessage) async throws(SMTPError) -> SMTPDeliveryReceipt {
        try Self.checkAddress(message.envelopeFrom, role: "sender")
        try Self.checkAddress(message.recipient, role: "recipient")
        guard message.content.count <= configuration.maxMessageBytes else {
            throw .messageTooLarge(bytes: message.content.count, limitBytes: configuration.maxMessageBytes)
        }
        let implicitTLS = configuration.security == .implicitTLS ? tlsContext : nil
        logger.debug("smtp connect", metadata: ["tls": "\(implicitTLS != nil)"])
        let connection = try await SMTPConnection.open(host: configuration.host, port: configuration.port, implicitTLS: implicitTLS,
                                                       group: group, connectTimeout: configuration.connectTimeout)
        do {
            let receipt = try await session(connection, message, usedTLS: implicitTLS != nil)
            await connection.close()
            return receipt
        } catch {
            await connection.close()
            throw error
        }
    }

    private func session(_ connection: SMTPConnection, _ message: EmailMessage, usedTLS startedWithTLS: Bool) async throws(SMTPError) -> SMTPDeliveryReceipt {
        let greeting = try await connection.readReply(step: .greeting, timeout: configuration.greetingTimeout)
        try expect(greeting, 220, step: .greeting)
        var extensions = try await hello(connection)
        var usedTLS = startedWithTLS

        if !usedTLS, configuration.security != .plaintext {
            if extensions.startTLS, let tlsContext {
                await connection.armTLSGuard()
                let reply = try await connection.command("STARTTLS", step: .startTLS, timeout: configuration.commandTimeout)
                try expect(reply, 220, step: .startTLS)
                try await connection.startTLS(context: tlsContext, host: configuration.host)
                usedTLS = true
                // RFC 3207 §4.2: forget what the server said before TLS, ask again.
                extensions = try await hello(connection)
            } else if configuration.security == .startTLSRequired {
                throw .startTLSNotOffered
            }
        }

        var mechanism: SMTPAuthMechanism?
        if let credentials = configuration.credentials {
            guard usedTLS || configuration.allowAuthenticationWithoutTLS else { throw .authenticationRequiresTLS }
            guard let chosen = configuration.authMechanisms.first(where: { extensions.authMechanisms.contains($0.rawValue) }) else {
                throw .authenticationNotOffered
            }
            try await authenticate(connection, credentials, chosen)
            mechanism = chosen
        }

        if let serverLimit = extensions.maxMessageBytes, message.content.count > serverLimit {
            throw .messageTooLarge(bytes: message.content.count, limitBytes: serverLimit)
        }
        try expect(try await connection.command("MAIL FROM:<\(message.envelopeFrom)>", step: .mailFrom, timeout: configuration.commandTimeout),
                   250, step: .mailFrom)
        let rcpt = try await connection.command("RCPT TO:<\(message.recipient)>", step: .rcptTo, timeout: configuration.commandTimeout)
        try expect(rcpt, 250, 251, step: .rcptTo)
        try expect(try await connection.command("DATA", step: .data, timeout: configuration.commandTimeout), 354, step: .data)
        let accepted = try await connection.sendData(Self.dotStuffed(message.content), step: .message, timeout: configuration.dataTimeout)
        try expect(accepted, 250, step: .message)
        logger.debug("smtp message accepted", metadata: ["tls": "\(usedTLS)", "auth": "\(mechanism?.rawValue ?? "none")"])
        // The message is accepted; a QUIT that goes wrong changes nothing, so it is bounded and ignored.
        _ = try? await connection.command("QUIT", step: .quit, timeout: min(configuration.commandTimeout, .seconds(5)))
        return SMTPDeliveryReceipt(usedTLS: usedTLS, authMechanism: mechanism)
    }

    /// EHLO, or HELO when the server does not know EHLO (then it offers no extensions).
    private func hello(_ connection: SMTPConnection) async throws(SMTPError) -> SMTPExtensions {
        let reply = try await connection.command("EHLO \(configuration.clientName)", step: .ehlo, timeout: configuration.commandTimeout)
        if reply.code == 250 { return SMTPExtensions(ehloLines: reply.lines) }
        guard reply.code == 500 || reply.code == 502 else { throw .rejected(step: .ehlo, code: reply.code, enhancedCode: reply.enhancedCode) }
        let helo = try await connection.command("HELO \(configuration.clientName)", step: .helo, timeout: configuration.commandTimeout)
        try expect(helo, 250, step: .helo)
        return SMTPExtensions()
    }

    private func authenticate(_ connection: SMTPConnection, _ credentials: SMTPCredentials,
                              _ mechanism: SMTPAuthMechanism) async throws(SMTPError) {
        let timeout = configuration.commandTimeout
        func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
        func check(_ reply: SMTPReply, _ code: Int) throws(SMTPError) {
            guard reply.code == code else { throw .authenticationFailed(code: reply.code, enhancedCode: reply.enhancedCode) }
        }
        switch mechanism {
        case .plain:
            // RFC 4616: authorization identity (empty), NUL, user, NUL, password, as the initial response.
            let reply = try await connection.command("AUTH PLAIN " + base64("\0\(credentials.username)\0\(credentials.password)"),
                                                     step: .auth, timeout: timeout)
            try check(reply, 235)
        case .login:
            try check(try await connection.command("AUTH LOGIN", step: .auth, timeout: timeout), 334)
            try check(try await connection.command(base64(credentials.username), step: .auth, timeout: timeout), 334)
            try check(try await connection.command(base64(credentials.password), step: .auth, timeout: timeout), 235)
        }
    }

    private func expect(_ reply: SMTPReply, _ codes: Int..., step: SMTPStep) throws(SMTPError) {
        logger.debug("smtp reply", metadata: ["step": "\(step.rawValue)", "code": "\(reply.code)"])
        guard codes.contains(reply.code) else {
            throw .rejected(step: step, code: reply.code, enhancedCode: reply.enhancedCode)
        }
    }

    /// Envelope addresses: ASCII (no SMTPUTF8), "local@domain", no spaces, controls or angle brackets,
    /// at most 254 bytes (RFC 5321 §4.5.3.1 via RFC 3696 errata).
    static func checkAddress(_ address: String, role: String) throws(SMTPError) {
        guard !address.isEmpty, address.utf8.count <= 254 else { throw .invalidAddress(role: role, reason: "empty or longer than 254 bytes") }
        guard address.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "<") && $0 != UInt8(ascii: ">") }) else {
            throw .invalidAddress(role: role, reason: "only visible ASCII without spaces or angle brackets is supported")
        }
        guard let at = address.lastIndex(of: "@"), at != address.startIndex, address.index(after: at) != address.endIndex else {
            throw .invalidAddress(role: role, reason: "not of the form local@domain")
        }
    }

    /// RFC 5321 §4.5.2: a '.' that starts a line is doubled; the message ends with CRLF "." CRLF. Bare CR
    /// and LF become CRLF first, so no line can end early and no lone "." can end the message.
    static func dotStuffed(_ content: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(content.count + content.count / 64 + 5)
        var atLineStart = true
        var index = 0
        while index < content.count {
            let byte = content[index]
            if byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n") {
                out += [13, 10]
                if byte == UInt8(ascii: "\r"), index + 1 < content.count, content[index + 1] == UInt8(ascii: "\n") { index += 1 }
                atLineStart = true
            } else {
                if atLineStart, byte == UInt8(ascii: ".") { out.append(UInt8(ascii: ".")) }
                out.append(byte)
                atLineStart = false
            }
            index += 1
        }
        if !atLineStart || out.isEmpty { out += [13, 10] }
        out += Array(".\r\n".utf8)
        return out
    }
}

extension SMTPClient {
    /// One try of `message` as the retry runner counts it: a transient SMTP error is worth another try.
    func attempt(_ message: EmailMessage) async -> AttemptOutcome {
        do throws(SMTPError) {
            try await send(message)
            return .delivered
        } catch {
            return error.isTransient ? .transient(error.description, retryAfter: nil) : .permanent(error.description)
        }
    }
}
