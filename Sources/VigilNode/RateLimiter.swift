import Synchronization

/// Token buckets keyed by a name (an API token or an integration key): `perSecond` sustained, twice that
/// as a burst. Bounded: when more than `maximumKeys` keys are tracked, full buckets are forgotten first.
public final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private let perSecond: Double
    private let burst: Double
    private let maximumKeys: Int
    private let buckets = Mutex<[String: Bucket]>([:])

    public init(perSecond: Int, maximumKeys: Int = 10_000) {
        precondition(perSecond >= 1, "a rate limit allows at least one request per second")
        self.perSecond = Double(perSecond)
        self.burst = Double(perSecond * 2)
        self.maximumKeys = maximumKeys
    }

    /// Takes one request from `key`'s bucket; false when it is empty (answer 429).
    public func allow(_ key: String, now: ContinuousClock.Instant = .now) -> Bool {
        buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: burst, updated: now)
            bucket.tokens = min(burst, bucket.tokens + max(0, (now - bucket.updated).secondsValue) * perSecond)
            bucket.updated = now
            let allowed = bucket.tokens >= 1
            if allowed { bucket.tokens -= 1 }
            if buckets[key] == nil, buckets.count >= maximumKeys {
                // A bucket refilled to the brim holds no memory of recent use; drop those first.
                let full = buckets.filter { $0.value.tokens + (now - $0.value.updated).secondsValue * perSecond >= burst }.map(\.key)
                for name in full.prefix(max(1, maximumKeys / 10)) { buckets[name] = nil }
                if buckets.count >= maximumKeys, let any = buckets.keys.first { buckets[any] = nil }
            }
            buckets[key] = bucket
            return allowed
        }
    }
}

extension Duration {
    var secondsValue: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
