/// How often and how long a channel retries a page: exponential back-off with full jitter, bounded in
/// attempts, per-attempt time and total time.
public struct RetryPolicy: Sendable, Equatable {
    /// Upper bound on `maxAttempts`, whatever the configuration says.
    public static let attemptsLimit = 20

    /// Tries in all, the first included (1 = never retry).
    public var maxAttempts: Int
    /// Ceiling of the first back-off; the ceiling doubles per retry.
    public var initialBackoff: Duration
    /// The ceiling never grows past this.
    public var maxBackoff: Duration
    /// One try (connect, send, answer) may take this long before it counts as a transient failure.
    public var attemptTimeout: Duration
    /// No try starts, and no wait (back-off or Retry-After) is begun, that would end after this much
    /// time since the first try began; a page is worth little once it is this late.
    public var totalTimeLimit: Duration

    public init(maxAttempts: Int = 5, initialBackoff: Duration = .milliseconds(500), maxBackoff: Duration = .seconds(30),
                attemptTimeout: Duration = .seconds(10), totalTimeLimit: Duration = .seconds(120)) {
        self.maxAttempts = maxAttempts
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.attemptTimeout = attemptTimeout
        self.totalTimeLimit = totalTimeLimit
    }

    /// Five tries within two minutes, 10 s each, back-off ceilings 0.5 s, 1 s, 2 s, 4 s.
    public static let standard = RetryPolicy()

    /// Throws when a bound is missing or nonsensical; `setting` prefixes the message.
    public func validate(setting: String) throws(PagingConfigurationError) {
        guard (1...Self.attemptsLimit).contains(maxAttempts) else {
            throw PagingConfigurationError("\(setting).maxAttempts", "must be 1...\(Self.attemptsLimit), got \(maxAttempts)")
        }
        guard initialBackoff >= .zero, maxBackoff >= initialBackoff else {
            throw PagingConfigurationError("\(setting).maxBackoff", "must be at least initialBackoff, and both not negative")
        }
        guard attemptTimeout > .zero else {
            throw PagingConfigurationError("\(setting).attemptTimeout", "must be positive")
        }
        guard totalTimeLimit >= attemptTimeout else {
            throw PagingConfigurationError("\(setting).totalTimeLimit", "must be at least attemptTimeout")
        }
    }

    /// The largest back-off after failed try number `attempt` (1-based): initial × 2^(attempt−1), capped.
    public func backoffCeiling(afterAttempt attempt: Int) -> Duration {
        let doublings = max(0, min(attempt - 1, 40))
        let ceilingSeconds = min(initialBackoff.seconds * Double(UInt64(1) << UInt64(doublings)), maxBackoff.seconds)
        return .nanoseconds(Int64(ceilingSeconds * 1e9))
    }

    /// Full jitter (AWS architecture blog): uniform in 0...ceiling, so clients that failed together do not
    /// retry together.
    public func backoff(afterAttempt attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let ceilingNanoseconds = backoffCeiling(afterAttempt: attempt).nanosecondsClamped
        guard ceilingNanoseconds > 0 else { return .zero }
        return .nanoseconds(Int64.random(in: 0...ceilingNanoseconds, using: &generator))
    }
}

extension Duration {
    /// Seconds as a `Double`, for arithmetic and messages.
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) / 1e18
    }

    var nanosecondsClamped: Int64 {
        let (whole, attoseconds) = components
        if whole >= Int64.max / 1_000_000_000 { return Int64.max }
        return whole * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    /// "1.5 s", "250 ms": for failure details and logs.
    var readable: String {
        let value = seconds
        if value < 1 { return "\(Int((value * 1_000).rounded())) ms" }
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? "\(Int(rounded)) s" : "\(rounded) s"
    }
}
