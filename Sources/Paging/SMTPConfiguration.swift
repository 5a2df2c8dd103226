import NIOSSL

/// A user name and password for SMTP AUTH; never printed.
public struct SMTPCredentials: Sendable, CustomStringConvertible {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    public var description: String { "SMTPCredentials(<redacted>)" }
}

/// The SASL mechanisms the client speaks (RFC 4616 PLAIN, and the older LOGIN many servers still offer).
public enum SMTPAuthMechanism: String, Sendable, Equatable, CaseIterable {
    case plain = "PLAIN", login = "LOGIN"
}

/// How to reach and talk to the SMTP server (a relay or submission service).
public struct SMTPConfiguration: Sendable, CustomStringConvertible {
    /// Whether and how the connection is encrypted.
    public enum Security: Sendable, Equatable {
        /// STARTTLS when the server offers it, plaintext otherwise. A man in the middle can hide the offer;
        /// choose `.startTLSRequired` where the relay is known to support it.
        case startTLSIfOffered
        /// STARTTLS or no delivery (submission on port 587).
        case startTLSRequired
        /// TLS from the first byte (submissions on port 465, RFC 8314).
        case implicitTLS
        /// Never encrypt (a relay on the same host or a trusted network).
        case plaintext
    }

    public var host: String
    public var port: Int
    public var security: Security
    /// Trust roots and verification for TLS; `TLSConfiguration.makeClientConfiguration()` trusts the system
    /// roots and checks the host name. Set `trustRoots` to the relay's CA for a private one.
    public var tlsConfiguration: TLSConfiguration
    /// Used only when the server offers AUTH; see `allowAuthenticationWithoutTLS`.
    public var credentials: SMTPCredentials?
    /// Tried in this order among those the server offers.
    public var authMechanisms: [SMTPAuthMechanism]
    /// Passwords are not sent over plaintext unless this is set (a relay on the loopback interface).
    public var allowAuthenticationWithoutTLS: Bool
    /// The name this client gives in EHLO; some relays want a fully qualified one.
    public var clientName: String
    public var connectTimeout: Duration
    /// For the server's 220 greeting (RFC 5321 suggests 5 minutes; a pager cannot wait that long).
    public var greetingTimeout: Duration
    /// For each command's reply.
    public var commandTimeout: Duration
    /// For the reply after the message body.
    public var dataTimeout: Duration
    /// Largest message the client sends.
    public var maxMessageBytes: Int

    public init(host: String, port: Int = 25, security: Security = .startTLSIfOffered,
                tlsConfiguration: TLSConfiguration = .makeClientConfiguration(), credentials: SMTPCredentials? = nil,
                authMechanisms: [SMTPAuthMechanism] = [.plain, .login], allowAuthenticationWithoutTLS: Bool = false,
                clientName: String = "vigil.localdomain", connectTimeout: Duration = .seconds(10),
                greetingTimeout: Duration = .seconds(30), commandTimeout: Duration = .seconds(30),
                dataTimeout: Duration = .seconds(60), maxMessageBytes: Int = 1_000_000) {
        self.host = host
        self.port = port
        self.security = security
        self.tlsConfiguration = tlsConfiguration
        self.credentials = credentials
        self.authMechanisms = authMechanisms
        self.allowAuthenticationWithoutTLS = allowAuthenticationWithoutTLS
        self.clientName = clientName
        self.connectTimeout = connectTimeout
        self.greetingTimeout = greetingTimeout
        self.commandTimeout = commandTimeout
        self.dataTimeout = dataTimeout
        self.maxMessageBytes = maxMessageBytes
    }

    /// The longest one session can take: connect, greeting, at most ten commands, the body.
    public var sessionTimeLimit: Duration {
        connectTimeout + greetingTimeout + commandTimeout * 10 + dataTimeout
    }

    /// Never prints credentials.
    public var description: String {
        "SMTPConfiguration(\(host):\(port), security: \(security), credentials: \(credentials == nil ? "none" : "<redacted>"))"
    }

    func validate() throws(PagingConfigurationError) {
        guard !host.isEmpty, host.utf8.count <= 253, !host.contains(where: { $0.isWhitespace }) else {
            throw PagingConfigurationError("smtp.host", "must be a host name or IP address")
        }
        guard (1...65_535).contains(port) else { throw PagingConfigurationError("smtp.port", "must be 1...65535") }
        guard !clientName.isEmpty, clientName.utf8.count <= 253,
              clientName.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw PagingConfigurationError("smtp.clientName", "must be a host name (visible ASCII, no spaces)")
        }
        for (name, value) in [("connectTimeout", connectTimeout), ("greetingTimeout", greetingTimeout),
                              ("commandTimeout", commandTimeout), ("dataTimeout", dataTimeout)] {
            guard value > .zero, value <= .seconds(600) else {
                throw PagingConfigurationError("smtp.\(name)", "must be more than 0 and at most 10 minutes")
            }
        }
        guard (1_024...50_000_000).contains(maxMessageBytes) else {
            throw PagingConfigurationError("smtp.maxMessageBytes", "must be 1024...50000000")
        }
        if credentials != nil, authMechanisms.isEmpty {
            throw PagingConfigurationError("smtp.authMechanisms", "credentials are set but no mechanism is allowed")
        }
        if let credentials, credentials.username.contains("\0") || credentials.password.contains("\0") {
            throw PagingConfigurationError("smtp.credentials", "must not contain NUL characters")
        }
    }
}
