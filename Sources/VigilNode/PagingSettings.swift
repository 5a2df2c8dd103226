/// The `paging:` section of `vigil.yaml`: secrets, links, storm control and the channels that need
/// configuration (e-mail relay, SMS and voice gateways, an exec hook). Webhooks and chat need none.
public struct PagingSettings: Codable, Sendable, Equatable {
    /// Hex secret (≥ 32 bytes) that signs acknowledgement links; the same file on every node, so a link
    /// works on any node. `vigil init` writes it with mode 0600.
    public var ackSecretFile: String?
    /// Hex secret (≥ 16 bytes) for `X-Vigil-Signature` on webhooks; given to the receivers, unlike the ack secret.
    public var webhookSecretFile: String?
    /// Base URL of ack links (a load balancer in front of the cluster); absent: this node's API URL.
    public var publicURL: String?
    public var ackLinkLifetimeSeconds: Int64
    /// Per person and contact method: messages at once, then one more every `rateLimitRefillMilliseconds`.
    public var rateLimitBurst: Int
    public var rateLimitRefillMilliseconds: Int64
    /// Attempts per page on transient failures (5xx, 429, network), with exponential back-off and jitter.
    public var maxAttempts: Int
    public var attemptTimeoutMilliseconds: Int
    public var smtp: SMTPSettings?
    public var smsGateway: GatewaySettings?
    public var voiceGateway: GatewaySettings?
    public var exec: ExecSettings?

    /// An SMTP relay for the e-mail channel.
    public struct SMTPSettings: Codable, Sendable, Equatable {
        public var host: String
        public var port: Int?
        /// `starttls` (when offered, the default), `starttls_required`, `tls` (implicit, port 465) or `plaintext`.
        public var security: String?
        public var from: String
        public var username: String?
        /// A file holding the password (never the password itself in the config).
        public var passwordFile: String?
        /// PEM roots for a relay with a private CA.
        public var caCert: String?

        enum CodingKeys: String, CodingKey {
            case host, port, security, from, username
            case passwordFile = "password_file"
            case caCert = "ca_cert"
        }
    }

    /// An HTTP gateway (SMS or voice): `{{to}}`, `{{text}}`, `{{ack_url}}` … are filled in per page.
    public struct GatewaySettings: Codable, Sendable, Equatable {
        public var url: String
        public var method: String?
        /// A JSON body template; absent: form fields if given, else no body.
        public var jsonBody: String?
        public var form: [String: String]?
        public var headers: [String: String]?

        enum CodingKeys: String, CodingKey {
            case url, method, form, headers
            case jsonBody = "json_body"
        }
    }

    /// Runs a site command with the page as JSON on stdin for the listed contact-method kinds.
    public struct ExecSettings: Codable, Sendable, Equatable {
        public var path: String
        public var arguments: [String]?
        public var kinds: [String]
    }

    enum CodingKeys: String, CodingKey {
        case ackSecretFile = "ack_secret_file"
        case webhookSecretFile = "webhook_secret_file"
        case publicURL = "public_url"
        case ackLinkLifetimeSeconds = "ack_link_lifetime_seconds"
        case rateLimitBurst = "rate_limit_burst"
        case rateLimitRefillMilliseconds = "rate_limit_refill_ms"
        case maxAttempts = "max_attempts"
        case attemptTimeoutMilliseconds = "attempt_timeout_ms"
        case smtp
        case smsGateway = "sms_gateway"
        case voiceGateway = "voice_gateway"
        case exec
    }

    public init(ackSecretFile: String? = nil, webhookSecretFile: String? = nil, publicURL: String? = nil,
                ackLinkLifetimeSeconds: Int64 = 86_400, rateLimitBurst: Int = 5, rateLimitRefillMilliseconds: Int64 = 12_000,
                maxAttempts: Int = 5, attemptTimeoutMilliseconds: Int = 5_000) {
        self.ackSecretFile = ackSecretFile
        self.webhookSecretFile = webhookSecretFile
        self.publicURL = publicURL
        self.ackLinkLifetimeSeconds = ackLinkLifetimeSeconds
        self.rateLimitBurst = rateLimitBurst
        self.rateLimitRefillMilliseconds = rateLimitRefillMilliseconds
        self.maxAttempts = maxAttempts
        self.attemptTimeoutMilliseconds = attemptTimeoutMilliseconds
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = PagingSettings()
        ackSecretFile = try container.decodeIfPresent(String.self, forKey: .ackSecretFile)
        webhookSecretFile = try container.decodeIfPresent(String.self, forKey: .webhookSecretFile)
        publicURL = try container.decodeIfPresent(String.self, forKey: .publicURL)
        ackLinkLifetimeSeconds = try container.decodeIfPresent(Int64.self, forKey: .ackLinkLifetimeSeconds) ?? defaults.ackLinkLifetimeSeconds
        rateLimitBurst = try container.decodeIfPresent(Int.self, forKey: .rateLimitBurst) ?? defaults.rateLimitBurst
        rateLimitRefillMilliseconds = try container.decodeIfPresent(Int64.self, forKey: .rateLimitRefillMilliseconds)
            ?? defaults.rateLimitRefillMilliseconds
        maxAttempts = try container.decodeIfPresent(Int.self, forKey: .maxAttempts) ?? defaults.maxAttempts
        attemptTimeoutMilliseconds = try container.decodeIfPresent(Int.self, forKey: .attemptTimeoutMilliseconds)
            ?? defaults.attemptTimeoutMilliseconds
        smtp = try container.decodeIfPresent(SMTPSettings.self, forKey: .smtp)
        smsGateway = try container.decodeIfPresent(GatewaySettings.self, forKey: .smsGateway)
        voiceGateway = try container.decodeIfPresent(GatewaySettings.self, forKey: .voiceGateway)
        exec = try container.decodeIfPresent(ExecSettings.self, forKey: .exec)
    }

    /// Relations decoding cannot check.
    func validate() throws(ConfigError) {
        guard (60...(30 * 86_400)).contains(ackLinkLifetimeSeconds) else {
            throw .invalidValue(key: "paging.ack_link_lifetime_seconds", reason: "\(ackLinkLifetimeSeconds) is not in 60...2592000")
        }
        guard (1...1_000).contains(rateLimitBurst) else {
            throw .invalidValue(key: "paging.rate_limit_burst", reason: "\(rateLimitBurst) is not in 1...1000")
        }
        guard (1...3_600_000).contains(rateLimitRefillMilliseconds) else {
            throw .invalidValue(key: "paging.rate_limit_refill_ms", reason: "\(rateLimitRefillMilliseconds) is not in 1...3600000")
        }
        guard (1...20).contains(maxAttempts) else {
            throw .invalidValue(key: "paging.max_attempts", reason: "\(maxAttempts) is not in 1...20")
        }
        guard (100...120_000).contains(attemptTimeoutMilliseconds) else {
            throw .invalidValue(key: "paging.attempt_timeout_ms", reason: "\(attemptTimeoutMilliseconds) is not in 100...120000")
        }
        if let security = smtp?.security, !["starttls", "starttls_required", "tls", "plaintext"].contains(security) {
            throw .invalidValue(key: "paging.smtp.security", reason: "'\(security)' is not starttls, starttls_required, tls or plaintext")
        }
        for (name, gateway) in [("sms_gateway", smsGateway), ("voice_gateway", voiceGateway)] {
            if let method = gateway?.method, !["GET", "POST", "PUT"].contains(method.uppercased()) {
                throw .invalidValue(key: "paging.\(name).method", reason: "'\(method)' is not GET, POST or PUT")
            }
        }
        for kind in exec?.kinds ?? [] where !["email", "sms", "phone", "webhook", "chat"].contains(kind) {
            throw .invalidValue(key: "paging.exec.kinds", reason: "'\(kind)' is not email, sms, phone, webhook or chat")
        }
    }
}
