/// Exponential back-off with full jitter: attempt n waits a uniform time in [0, min(max, initial·2ⁿ)].
///
/// Full jitter rather than a fixed doubling spreads the reconnects of many nodes that lost the same peer at the
/// same moment, so a restarted listener is not hit by all of them in the same millisecond.
public struct ReconnectBackoff: Sendable, Equatable {
    public var initialMilliseconds: Int
    public var maximumMilliseconds: Int

    public init(initialMilliseconds: Int, maximumMilliseconds: Int) {
        precondition(initialMilliseconds >= 1 && maximumMilliseconds >= initialMilliseconds, "back-off bounds")
        self.initialMilliseconds = initialMilliseconds
        self.maximumMilliseconds = maximumMilliseconds
    }

    /// The upper bound of the delay before attempt `attempt` (0-based).
    public func ceilingMilliseconds(attempt: Int) -> Int {
        var ceiling = initialMilliseconds
        var step = 0
        while step < attempt && ceiling < maximumMilliseconds {
            ceiling *= 2
            step += 1
        }
        return min(ceiling, maximumMilliseconds)
    }

    public func delayMilliseconds(attempt: Int, using generator: inout some RandomNumberGenerator) -> Int {
        Int.random(in: 0...ceilingMilliseconds(attempt: attempt), using: &generator)
    }
}
