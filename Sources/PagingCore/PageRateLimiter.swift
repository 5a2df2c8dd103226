import DutyModel

/// Flap and storm control: a token bucket per person and contact method.
///
/// A page that finds the bucket empty is not dropped: it stays due in the outbox, and when a token returns
/// every page waiting for that person and contact method goes out as one message with a count.
public struct PageRateLimiter: Sendable {
    /// Pages allowed at once after a quiet spell.
    public let burst: Int
    /// One token returns every `refillMilliseconds`.
    public let refillMilliseconds: Int64
    private var buckets: [String: (tokens: Double, updatedAt: Timestamp)] = [:]

    public init(burst: Int, refillMilliseconds: Int64) {
        precondition(burst >= 1 && refillMilliseconds >= 1, "a rate limit needs a burst ≥ 1 and a refill ≥ 1 ms")
        self.burst = burst
        self.refillMilliseconds = refillMilliseconds
    }

    /// Takes a token for one message to `personID` through `contactMethodID` at `now`, if there is one.
    public mutating func take(personID: String, contactMethodID: String, now: Timestamp) -> Bool {
        let key = personID + "/" + contactMethodID
        var bucket = buckets[key] ?? (Double(burst), now)
        let refilled = Double(max(0, now - bucket.updatedAt)) / Double(refillMilliseconds)
        bucket.tokens = min(Double(burst), bucket.tokens + refilled)
        bucket.updatedAt = now
        defer { buckets[key] = bucket }
        guard bucket.tokens >= 1 else { return false }
        bucket.tokens -= 1
        return true
    }

    /// Whether `take` would succeed at `now`, without taking.
    public func available(personID: String, contactMethodID: String, now: Timestamp) -> Bool {
        guard let bucket = buckets[personID + "/" + contactMethodID] else { return true }
        return min(Double(burst), bucket.tokens + Double(max(0, now - bucket.updatedAt)) / Double(refillMilliseconds)) >= 1
    }

    /// When the next token for this person and method returns (for the scheduler's timer).
    public func nextTokenAt(personID: String, contactMethodID: String) -> Timestamp? {
        guard let bucket = buckets[personID + "/" + contactMethodID], bucket.tokens < 1 else { return nil }
        return bucket.updatedAt + Int64(((1 - bucket.tokens) * Double(refillMilliseconds)).rounded(.up))
    }

    /// Buckets full again are forgotten, so memory follows the people paged recently, not everyone ever paged.
    public mutating func forgetFull(now: Timestamp) {
        buckets = buckets.filter { Double(now - $0.value.updatedAt) / Double(refillMilliseconds) + $0.value.tokens < Double(burst) }
    }
}
