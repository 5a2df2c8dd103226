import NIOCore
import RaftCore
import Testing
@testable import ClusterTransport

@Suite("Reconnect back-off and send queue")
struct ReconnectBackoffTests {
    @Test("the ceiling doubles from the initial delay up to the maximum")
    func ceilings() {
        let backoff = ReconnectBackoff(initialMilliseconds: 50, maximumMilliseconds: 2000)
        #expect((0..<9).map { backoff.ceilingMilliseconds(attempt: $0) } == [50, 100, 200, 400, 800, 1600, 2000, 2000, 2000])
        #expect(backoff.ceilingMilliseconds(attempt: 10_000) == 2000)
    }

    @Test("full jitter spreads delays over the whole range below the ceiling")
    func jitter() {
        let backoff = ReconnectBackoff(initialMilliseconds: 50, maximumMilliseconds: 2000)
        var rng = SplitMix64(seed: 99)
        for attempt in 0..<12 {
            let delays = (0..<400).map { _ in backoff.delayMilliseconds(attempt: attempt, using: &rng) }
            let ceiling = backoff.ceilingMilliseconds(attempt: attempt)
            #expect(delays.allSatisfy { $0 >= 0 && $0 <= ceiling })
            #expect(delays.min()! < ceiling / 4 && delays.max()! > ceiling * 3 / 4, "attempt \(attempt): not spread")
        }
    }

    @Test("the send queue refuses frames beyond its count or byte limit")
    func sendQueueLimits() {
        var queue = SendQueue(maximumFrames: 3, maximumBytes: 10)
        let appended = [
            queue.append(ByteBuffer(bytes: [1, 2, 3, 4])),
            queue.append(ByteBuffer(bytes: [5, 6, 7, 8])),
            queue.append(ByteBuffer(bytes: [9, 10, 11])),  // 11 bytes exceed the byte limit
            queue.append(ByteBuffer(bytes: [9, 10])),
            queue.append(ByteBuffer(bytes: [])),  // a fourth frame exceeds the count limit
        ]
        #expect(appended == [true, true, false, true, false])
        #expect(queue.count == 3 && queue.queuedBytes == 10)
        let first = queue.popFirst()
        #expect(first == ByteBuffer(bytes: [1, 2, 3, 4]))
        #expect(queue.queuedBytes == 6)
        let fits = queue.append(ByteBuffer(bytes: [11]))
        #expect(fits)
        let rest = [queue.popFirst(), queue.popFirst(), queue.popFirst(), queue.popFirst()]
        #expect(rest == [ByteBuffer(bytes: [5, 6, 7, 8]), ByteBuffer(bytes: [9, 10]), ByteBuffer(bytes: [11]), nil])
        #expect(queue.isEmpty && queue.queuedBytes == 0)
    }
}
