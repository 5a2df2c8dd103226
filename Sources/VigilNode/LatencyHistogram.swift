/// A Prometheus-style cumulative histogram of durations in seconds with fixed buckets.
public struct LatencyHistogram: Sendable, Equatable {
    public static let upperBoundsSeconds: [Double] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
    /// Count per bucket (not cumulative); the last slot counts observations above every bound.
    public private(set) var bucketCounts = [UInt64](repeating: 0, count: LatencyHistogram.upperBoundsSeconds.count + 1)
    public private(set) var count: UInt64 = 0
    public private(set) var sumSeconds: Double = 0

    public init() {}

    public mutating func observe(_ duration: Duration) {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        let slot = Self.upperBoundsSeconds.firstIndex { seconds <= $0 } ?? Self.upperBoundsSeconds.count
        bucketCounts[slot] += 1
        count += 1
        sumSeconds += seconds
    }
}
