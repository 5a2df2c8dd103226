import Foundation
import Logging

/// Settings of the e-mail channel.
public struct EmailConfiguration: Sendable {
    public var smtp: SMTPConfiguration
    /// The envelope sender and From address (bounces go here).
    public var fromAddress: String
    public var fromName: String
    /// Right-hand side of Message-IDs; nil uses the domain of `fromAddress`.
    public var messageIDDomain: String?
    /// Retries of transient failures (network, timeouts, 4xx). `attemptTimeout` is not applied to SMTP:
    /// each session step has its own timeout (`SMTPConfiguration`), which bounds a session.
    public var retryPolicy: RetryPolicy

    public init(smtp: SMTPConfiguration, fromAddress: String, fromName: String = "Vigil", messageIDDomain: String? = nil,
                retryPolicy: RetryPolicy = .standard) {
        self.smtp = smtp
        self.fromAddress = fromAddress
        self.fromName = fromName
        self.messageIDDomain = messageIDDomain
        self.retryPolicy = retryPolicy
    }
}

/// Sends the page as an e-mail (text and HTML with the ack link) through an SMTP relay; the address
/// is the recipient's e-mail address.
public struct EmailChannel: NotificationChannel {
    public let kind = "email"
    let client: SMTPClient
    let composer: EmailComposer
    let runner: RetryRunner
    let logger: Logger

    public init(configuration: EmailConfiguration, logger: Logger = Logger(label: "vigil.paging.email")) throws(PagingConfigurationError) {
        do {
            try SMTPClient.checkAddress(configuration.fromAddress, role: "sender")
        } catch {
            throw PagingConfigurationError("email.fromAddress", error.description)
        }
        try configuration.retryPolicy.validate(setting: "email.retryPolicy")
        let domain = configuration.messageIDDomain ?? String(configuration.fromAddress.split(separator: "@").last ?? "vigil.invalid")
        guard !domain.isEmpty, domain.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ">") && $0 != UInt8(ascii: "@") }) else {
            throw PagingConfigurationError("email.messageIDDomain", "must be a domain name")
        }
        client = try SMTPClient(configuration: configuration.smtp, logger: logger)
        composer = EmailComposer(fromAddress: configuration.fromAddress, fromName: configuration.fromName, messageIDDomain: domain)
        runner = RetryRunner(policy: configuration.retryPolicy, channelKind: "email", logger: logger)
        self.logger = logger
    }

    public func send(_ page: PageMessage, to address: String) async -> DeliveryResult {
        if let problem = page.problem { return .failed(.permanent, detail: problem, attempts: 0) }
        do {
            try SMTPClient.checkAddress(address, role: "recipient")
        } catch {
            return .failed(.permanent, detail: error.description, attempts: 0)
        }
        let message = composer.compose(page, to: address, date: Date())
        return await runner.run(page) { _, _ in await client.attempt(message) }
    }
}
