/// A way to deliver a page to an address (a URL, a phone number, an e-mail address).
///
/// `send` never throws: every problem becomes a `DeliveryResult.failed` the scheduler can record, and it
/// returns within the channel's configured bounds (attempts, per-attempt timeout, total time). Cancelling
/// the calling task stops further retries.
public protocol NotificationChannel: Sendable {
    /// Short, stable name for logs and outcomes: "webhook", "chat", "gateway", "exec", "email".
    var kind: String { get }

    /// Delivers `page` to `address`; the address is personal data and is never logged.
    func send(_ page: PageMessage, to address: String) async -> DeliveryResult
}
