import AsyncHTTPClient
import Foundation
import Logging
import NIOCore

/// Posts the page to a Slack-compatible incoming webhook (the address): a `text` fallback plus `blocks`
/// with the title, priority, service, escalation level and Acknowledge/Resolve buttons.
///
/// Mattermost, Rocket.Chat and Zulip's Slack-compatible endpoints accept the same payload. Same retry
/// rules as the webhook channel; Slack answers 429 with Retry-After when rate limited.
public struct ChatChannel: NotificationChannel {
    public let kind = "chat"
    let http: HTTPDelivery
    let runner: RetryRunner

    /// `client` should come from `PagingHTTPClient.make` (redirects off); the caller shuts it down.
    public init(retryPolicy: RetryPolicy = .standard, client: HTTPClient,
                logger: Logger = Logger(label: "vigil.paging.chat")) throws(PagingConfigurationError) {
        try retryPolicy.validate(setting: "chat.retryPolicy")
        self.http = HTTPDelivery(client: client)
        self.runner = RetryRunner(policy: retryPolicy, channelKind: "chat", logger: logger)
    }

    public func send(_ page: PageMessage, to address: String) async -> DeliveryResult {
        if let problem = page.problem ?? HTTPDelivery.checkURL(address) {
            return .failed(.permanent, detail: problem, attempts: 0)
        }
        let body = Self.payload(page)
        return await runner.run(page) { _, timeout in
            var request = HTTPClientRequest(url: address)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "User-Agent", value: "Vigil-Pager/1")
            // Slack ignores it; self-hosted bridges can de-duplicate on it.
            request.headers.add(name: "Idempotency-Key", value: page.headerSafeIdempotencyKey)
            request.body = .bytes(ByteBuffer(bytes: body))
            return await http.attempt(request, timeout: timeout)
        }
    }

    /// The incoming-webhook JSON (Block Kit). Slack's limits: header text 150 characters, a field 2,000.
    static func payload(_ page: PageMessage) -> [UInt8] {
        let title = PageText.singleLine(page.title)
        let service = PageText.singleLine(page.service)
        var buttons: [[String: Any]] = [[
            "type": "button", "action_id": "vigil_ack", "style": "danger",
            "text": ["type": "plain_text", "text": "Acknowledge"], "url": page.ackURL,
        ]]
        if let resolveURL = page.resolveURL {
            buttons.append([
                "type": "button", "action_id": "vigil_resolve", "style": "primary",
                "text": ["type": "plain_text", "text": "Resolve"], "url": resolveURL,
            ])
        }
        let fields: [[String: Any]] = [
            ["type": "mrkdwn", "text": "*Priority*\n\(page.priority.rawValue)"],
            ["type": "mrkdwn", "text": "*Service*\n\(PageText.truncated(mrkdwn(service), maxCharacters: 1_900))"],
            ["type": "mrkdwn", "text": "*Ticket*\n#\(page.ticketID)"],
            ["type": "mrkdwn", "text": "*Escalation*\n\(PageText.escalation(page))"],
        ]
        let blocks: [[String: Any]] = [
            ["type": "header", "text": ["type": "plain_text", "text": PageText.truncated("\(page.priority.rawValue) \(title)", maxCharacters: 150)]],
            ["type": "section", "fields": fields],
            ["type": "actions", "block_id": "vigil_page_actions", "elements": buttons],
            ["type": "context", "elements": [["type": "mrkdwn", "text": "Vigil page `\(mrkdwn(page.headerSafeIdempotencyKey))`"]]],
        ]
        let object: [String: Any] = [
            "text": "\(mrkdwn(PageText.summary(page))) <\(page.ackURL)|Acknowledge>",
            "blocks": blocks,
        ]
        // Strings, numbers, arrays and dictionaries only: serialization cannot fail.
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Array(data)
    }

    /// Slack's mrkdwn needs only &, < and > escaped; anything else is literal.
    static func mrkdwn(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
