import Foundation

/// The drill's time base: nanoseconds since the drill began (monotonic), which every file uses, and the wall
/// clock at that instant, to place the nodes' timestamps (milliseconds since 1970) on the same axis.
public struct DrillClock: Sendable {
    let origin = ContinuousClock.now
    let originWallMilliseconds = Int64((Date().timeIntervalSince1970 * 1_000).rounded(.down))

    public init() {}

    public func nanoseconds() -> UInt64 {
        let elapsed = ContinuousClock.now - origin
        return UInt64(max(0, elapsed.components.seconds)) * 1_000_000_000 + UInt64(max(0, elapsed.components.attoseconds / 1_000_000_000))
    }

    public func milliseconds() -> Int { Int(nanoseconds() / 1_000_000) }

    /// A node's wall-clock instant on the drill's axis (0 when it precedes the drill).
    public func nanoseconds(ofWallMilliseconds wall: Int64) -> UInt64 {
        wall <= originWallMilliseconds ? 0 : UInt64(wall - originWallMilliseconds) * 1_000_000
    }

    /// Sleeps until `milliseconds` after the origin (at once when that is past).
    public func sleep(untilMilliseconds milliseconds: Int) async {
        let remaining = milliseconds - self.milliseconds()
        if remaining > 0 { try? await Task.sleep(for: .milliseconds(remaining)) }
    }
}
