/// The steps of an SMTP session, named in errors so an operator knows how far a delivery got.
public enum SMTPStep: String, Sendable, Equatable {
    case connect, greeting, ehlo, helo, startTLS = "starttls", auth, mailFrom = "mail from", rcptTo = "rcpt to"
    case data, message, quit
}

/// Why an e-mail was not handed over. Messages carry SMTP codes but never the server's text, which
/// often echoes the recipient's address.
public enum SMTPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The sender or recipient address is not one we can put in an envelope (no '@', control
    /// characters, non-ASCII without SMTPUTF8 support, too long). `role` is "sender" or "recipient".
    case invalidAddress(role: String, reason: String)
    /// The message is larger than our limit or the server's SIZE.
    case messageTooLarge(bytes: Int, limitBytes: Int)
    /// No TCP connection (refused, unreachable, name not resolved, connect timeout).
    case connectionFailed(reason: String)
    /// The connection broke during a step.
    case networkError(step: SMTPStep, reason: String)
    /// The server closed the connection during a step.
    case connectionClosed(step: SMTPStep)
    /// The server did not answer a step in time.
    case timedOut(step: SMTPStep)
    /// The server answered a step with a code we cannot go on from.
    case rejected(step: SMTPStep, code: Int, enhancedCode: String?)
    /// The server's answer is not SMTP (bad line, line too long, too many lines).
    case malformedReply(step: SMTPStep, reason: String)
    /// STARTTLS is required by the configuration but the server does not offer it.
    case startTLSNotOffered
    /// Bytes arrived after the STARTTLS answer and before the TLS handshake: a known injection attack
    /// (CVE-2011-0411 style); the session is dropped.
    case unexpectedDataAfterStartTLS
    /// The TLS handshake failed (certificate not trusted, wrong name, no common cipher).
    case tlsFailed(reason: String)
    /// Credentials are configured but the server offers no mechanism we speak (PLAIN, LOGIN).
    case authenticationNotOffered
    /// Credentials would go over an unencrypted connection and the configuration does not allow that.
    case authenticationRequiresTLS
    /// The server refused the credentials (535) or could not check them now (454).
    case authenticationFailed(code: Int, enhancedCode: String?)

    /// Whether a later attempt could succeed without a configuration change: network trouble, timeouts
    /// and 4xx answers.
    public var isTransient: Bool {
        switch self {
        case .connectionFailed, .networkError, .connectionClosed, .timedOut, .malformedReply:
            return true
        case let .rejected(_, code, _), let .authenticationFailed(code, _):
            return (400..<500).contains(code)
        case .invalidAddress, .messageTooLarge, .startTLSNotOffered, .unexpectedDataAfterStartTLS, .tlsFailed,
             .authenticationNotOffered, .authenticationRequiresTLS:
            return false
        }
    }

    public var description: String {
        switch self {
        case let .invalidAddress(role, reason): return "invalid \(role) address: \(reason)"
        case let .messageTooLarge(bytes, limit): return "message of \(bytes) bytes exceeds the limit of \(limit) bytes"
        case let .connectionFailed(reason): return "cannot connect to the SMTP server: \(reason)"
        case let .networkError(step, reason): return "network error during \(step.rawValue): \(reason)"
        case let .connectionClosed(step): return "the SMTP server closed the connection during \(step.rawValue)"
        case let .timedOut(step): return "the SMTP server did not answer \(step.rawValue) in time"
        case let .rejected(step, code, enhanced):
            return "the SMTP server rejected \(step.rawValue) with \(code)" + (enhanced.map { " \($0)" } ?? "")
        case let .malformedReply(step, reason): return "malformed SMTP reply to \(step.rawValue): \(reason)"
        case .startTLSNotOffered: return "STARTTLS is required but the SMTP server does not offer it"
        case .unexpectedDataAfterStartTLS: return "the SMTP server sent data between STARTTLS and the TLS handshake"
        case let .tlsFailed(reason): return "TLS with the SMTP server failed: \(reason)"
        case .authenticationNotOffered: return "credentials are configured but the SMTP server offers neither AUTH PLAIN nor AUTH LOGIN"
        case .authenticationRequiresTLS: return "refusing to send SMTP credentials over a connection without TLS"
        case let .authenticationFailed(code, enhanced):
            return "the SMTP server refused the credentials with \(code)" + (enhanced.map { " \($0)" } ?? "")
        }
    }
}
