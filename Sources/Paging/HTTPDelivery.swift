import AsyncHTTPClient
import Foundation
import Logging
import NIOCore

/// One HTTP try and the rule that classifies its answer; the webhook, chat and gateway channels share it.
struct HTTPDelivery: Sendable {
    /// The answer's body is read only to free the connection; more than this is not read.
    static let maxResponseBodyBytes = 64 * 1024
    /// Largest request body any channel sends.
    static let maxRequestBodyBytes = 256 * 1024
    /// A Retry-After beyond this is treated as this (the total time limit refuses it anyway).
    static let maxRetryAfter: Duration = .seconds(86_400)

    let client: HTTPClient

    /// Sends `request` once, bounded by `timeout` (connect, send, answer and body all included).
    func attempt(_ request: HTTPClientRequest, timeout: Duration) async -> AttemptOutcome {
        let deadline = NIODeadline.now() + .nanoseconds(timeout.nanosecondsClamped)
        do {
            let response = try await client.execute(request, deadline: deadline)
            // Drain (bounded) so the connection returns to the pool; its content is not used, since a
            // provider's error text may echo the phone number or address we sent.
            _ = try? await response.body.collect(upTo: Self.maxResponseBodyBytes)
            return Self.classify(status: Int(response.status.code), retryAfter: response.headers.first(name: "Retry-After"), now: Date())
        } catch {
            return .transient(NetworkErrorSummary.describe(error), retryAfter: nil)
        }
    }

    /// 2xx delivers; 408, 425, 429 and 5xx are worth retrying (honouring Retry-After when given);
    /// every other status, redirects included, is permanent: the receiver will answer the same again.
    /// The detail is the code alone: a server's own reason phrase is free text and could echo what we sent.
    static func classify(status: Int, retryAfter: String?, now: Date) -> AttemptOutcome {
        let detail = "HTTP \(status)"
        switch status {
        case 200..<300:
            return .delivered
        case 408, 425, 429, 500..<600:
            return .transient(detail, retryAfter: retryAfter.flatMap { parseRetryAfter($0, now: now) })
        case 300..<400:
            return .permanent("\(detail) (redirects are not followed)")
        default:
            return .permanent(detail)
        }
    }

    /// Retry-After as delay-seconds or an HTTP-date (RFC 9110 §10.2.3); nil when it is neither.
    static func parseRetryAfter(_ value: String, now: Date) -> Duration? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if !text.isEmpty, text.utf8.count <= 12, text.allSatisfy(\.isASCII), let seconds = Int(text), seconds >= 0 {
            return min(.seconds(seconds), maxRetryAfter)
        }
        guard text.utf8.count <= 64 else { return nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: text) else { return nil }
        let seconds = max(0, date.timeIntervalSince(now))
        return min(.milliseconds(Int64(seconds * 1_000)), maxRetryAfter)
    }

    /// Validates an address used as a URL: http(s), a host, no credentials in it, bounded length.
    static func checkURL(_ text: String) -> String? {
        guard text.utf8.count <= PageMessage.maxURLBytes else { return "the URL is longer than \(PageMessage.maxURLBytes) bytes" }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty else {
            return "the address is not an http(s) URL with a host"
        }
        return nil
    }
}
