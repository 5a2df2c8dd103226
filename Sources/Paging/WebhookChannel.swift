import AsyncHTTPClient
import Foundation
import Logging
import NIOCore

/// Settings of the webhook channel.
public struct WebhookConfiguration: Sendable, CustomStringConvertible {
    /// Shortest secret accepted: HMAC keys shorter than this are guessable.
    public static let minSecretBytes = 16

    /// Key of the `X-Vigil-Signature` HMAC; receivers hold the same.
    public var secret: [UInt8]
    public var retryPolicy: RetryPolicy
    /// Sent as `Vigil-Node`, so a receiver (or a drill's sink) can tell which node paged.
    public var senderNodeID: UInt64?

    public init(secret: [UInt8], retryPolicy: RetryPolicy = .standard, senderNodeID: UInt64? = nil) {
        self.secret = secret
        self.retryPolicy = retryPolicy
        self.senderNodeID = senderNodeID
    }

    /// Never prints the secret.
    public var description: String { "WebhookConfiguration(secret: <redacted>, retryPolicy: \(retryPolicy))" }
}

/// POSTs the page as JSON to the address (a URL), signed with `X-Vigil-Signature` and carrying the
/// `Idempotency-Key` and `Vigil-Node` headers; retries 5xx, 408, 425, 429 (honouring Retry-After) and network errors.
public struct WebhookChannel: NotificationChannel {
    public let kind = "webhook"
    let configuration: WebhookConfiguration
    let http: HTTPDelivery
    let runner: RetryRunner
    /// The signing clock; tests move it to check the receiver's tolerance.
    let now: @Sendable () -> Date

    /// `client` should come from `PagingHTTPClient.make` (redirects off); the caller shuts it down.
    public init(configuration: WebhookConfiguration, client: HTTPClient,
                logger: Logger = Logger(label: "vigil.paging.webhook")) throws(PagingConfigurationError) {
        try self.init(configuration: configuration, client: client, logger: logger, now: { Date() })
    }

    init(configuration: WebhookConfiguration, client: HTTPClient, logger: Logger,
         now: @escaping @Sendable () -> Date) throws(PagingConfigurationError) {
        guard configuration.secret.count >= WebhookConfiguration.minSecretBytes else {
            throw PagingConfigurationError("webhook.secret", "must be at least \(WebhookConfiguration.minSecretBytes) bytes")
        }
        try configuration.retryPolicy.validate(setting: "webhook.retryPolicy")
        self.configuration = configuration
        self.http = HTTPDelivery(client: client)
        self.runner = RetryRunner(policy: configuration.retryPolicy, channelKind: "webhook", logger: logger)
        self.now = now
    }

    public func send(_ page: PageMessage, to address: String) async -> DeliveryResult {
        if let problem = page.problem ?? HTTPDelivery.checkURL(address) {
            return .failed(.permanent, detail: problem, attempts: 0)
        }
        let body = WebhookPayload(page).encoded()
        return await runner.run(page) { _, timeout in
            var request = HTTPClientRequest(url: address)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "User-Agent", value: "Vigil-Pager/1")
            request.headers.add(name: "Idempotency-Key", value: page.headerSafeIdempotencyKey)
            if let node = configuration.senderNodeID { request.headers.add(name: "Vigil-Node", value: "\(node)") }
            // Signed per try with the time of that try, so a receiver's replay window stays meaningful.
            let timestampSeconds = Int64(now().timeIntervalSince1970.rounded(.down))
            request.headers.add(name: WebhookSignature.headerName,
                                value: WebhookSignature.header(body: body, secret: configuration.secret, timestampSeconds: timestampSeconds))
            request.body = .bytes(ByteBuffer(bytes: body))
            return await http.attempt(request, timeout: timeout)
        }
    }
}

/// The webhook's JSON body; field names are the contract with receivers.
struct WebhookPayload: Encodable {
    struct Ticket: Encodable {
        let id: Int
        let title: String
        let priority: String
        let service: String
    }
    struct Step: Encodable {
        let index: Int
        let level: Int
    }
    struct Recipient: Encodable {
        let personID: String
        enum CodingKeys: String, CodingKey { case personID = "person_id" }
    }

    let type = "vigil.page"
    let version = 1
    let idempotencyKey: String
    let ticket: Ticket
    let step: Step
    let recipient: Recipient
    let ackURL: String
    let resolveURL: String?
    let createdAt: String

    enum CodingKeys: String, CodingKey {
        case type, version, ticket, step, recipient
        case idempotencyKey = "idempotency_key", ackURL = "ack_url", resolveURL = "resolve_url", createdAt = "created_at"
    }

    init(_ page: PageMessage) {
        idempotencyKey = page.idempotencyKey
        ticket = Ticket(id: page.ticketID, title: page.title, priority: page.priority.rawValue, service: page.service)
        step = Step(index: page.escalationStepIndex, level: page.escalationLevelIndex)
        recipient = Recipient(personID: page.recipientPersonID)
        ackURL = page.ackURL
        resolveURL = page.resolveURL
        createdAt = PageText.iso8601(page.createdAt)
    }

    /// Sorted keys, so the same page always gives the same bytes (and the same signature at the same time).
    func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding strings, numbers and optionals cannot fail.
        return Array((try? encoder.encode(self)) ?? Data("{}".utf8))
    }
}
