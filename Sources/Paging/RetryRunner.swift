import Logging

/// What one try of a delivery came to; the retry loop decides what happens next.
enum AttemptOutcome: Sendable, Equatable {
    case delivered
    /// Retrying would not help (a 4xx, a refused recipient, a bad template value).
    case permanent(String)
    /// Worth another try; `retryAfter` is the receiver's own wish (HTTP Retry-After), if it gave one.
    case transient(String, retryAfter: Duration?)
}

/// Runs tries of one delivery under a `RetryPolicy`; shared by every channel that retries.
struct RetryRunner: Sendable {
    let policy: RetryPolicy
    let channelKind: String
    let logger: Logger

    /// Calls `attempt(number, timeout)` until it delivers, fails permanently, or a bound is reached.
    /// `timeout` is the lesser of the per-attempt timeout and the time left; the attempt must honour it.
    func run(_ page: PageMessage, attempt: (_ number: Int, _ timeout: Duration) async -> AttemptOutcome) async -> DeliveryResult {
        var generator = SystemRandomNumberGenerator()
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: policy.totalTimeLimit)
        var logger = logger
        logger[metadataKey: "channel"] = .string(channelKind)
        logger[metadataKey: "ticket"] = .stringConvertible(page.ticketID)
        logger[metadataKey: "idempotency_key"] = .string(page.headerSafeIdempotencyKey)

        var number = 0
        while true {
            number += 1
            let remaining = clock.now.duration(to: deadline)
            let outcome = await attempt(number, min(policy.attemptTimeout, remaining))
            switch outcome {
            case .delivered:
                logger.info("page delivered", metadata: ["attempts": .stringConvertible(number)])
                return .delivered(attempts: number)
            case let .permanent(detail):
                logger.warning("page refused", metadata: ["attempts": .stringConvertible(number), "detail": .string(detail)])
                return .failed(.permanent, detail: detail, attempts: number)
            case let .transient(detail, retryAfter):
                let giveUp: String?
                var wait = policy.backoff(afterAttempt: number, using: &generator)
                if let retryAfter { wait = max(wait, retryAfter) }
                let left = clock.now.duration(to: deadline)
                if number >= policy.maxAttempts {
                    giveUp = "\(detail) (gave up after \(number) attempts)"
                } else if Task.isCancelled {
                    giveUp = "\(detail) (cancelled)"
                } else if wait >= left {
                    let why = retryAfter.map { "Retry-After \($0.readable)" } ?? "the next back-off"
                    giveUp = "\(detail) (\(why) would pass the total time limit of \(policy.totalTimeLimit.readable))"
                } else {
                    giveUp = nil
                }
                if let giveUp {
                    logger.warning("page not delivered", metadata: ["attempts": .stringConvertible(number), "detail": .string(giveUp)])
                    return .failed(.transient, detail: giveUp, attempts: number)
                }
                logger.notice("page attempt failed, retrying", metadata: [
                    "attempt": .stringConvertible(number), "detail": .string(detail), "wait_ms": .stringConvertible(Int(wait.seconds * 1_000)),
                ])
                do {
                    try await Task.sleep(for: wait)
                } catch {
                    return .failed(.transient, detail: "\(detail) (cancelled)", attempts: number)
                }
            }
        }
    }
}
