import Foundation
import Testing
@testable import Paging

@Suite struct RetryPolicyTests {
    /// SplitMix64, so the jitter draws are the same on every run.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test func ceilingsDoubleUpToTheCap() {
        let policy = RetryPolicy(initialBackoff: .milliseconds(500), maxBackoff: .seconds(3))
        #expect((1...6).map { policy.backoffCeiling(afterAttempt: $0) }
            == [.milliseconds(500), .seconds(1), .seconds(2), .seconds(3), .seconds(3), .seconds(3)])
        #expect(policy.backoffCeiling(afterAttempt: 1_000) == .seconds(3))
    }

    @Test func fullJitterStaysWithinZeroAndTheCeilingAndSpreads() {
        let policy = RetryPolicy.standard
        var generator = SeededGenerator(state: 7)
        for attempt in 1...8 {
            let draws = (0..<200).map { _ in policy.backoff(afterAttempt: attempt, using: &generator) }
            #expect(draws.allSatisfy { $0 >= .zero && $0 <= policy.backoffCeiling(afterAttempt: attempt) })
            #expect(Set(draws).count > 150, "jitter spreads retries")
        }
    }

    @Test(arguments: [
        (200, "delivered"), (204, "delivered"), (301, "permanent"), (400, "permanent"), (401, "permanent"),
        (404, "permanent"), (408, "transient"), (410, "permanent"), (413, "permanent"), (425, "transient"),
        (429, "transient"), (500, "transient"), (502, "transient"), (503, "transient"), (504, "transient"),
    ])
    func classifiesStatuses(status: Int, expected: String) {
        let outcome = HTTPDelivery.classify(status: status, retryAfter: nil, now: Date())
        switch outcome {
        case .delivered: #expect(expected == "delivered")
        case .permanent: #expect(expected == "permanent")
        case .transient: #expect(expected == "transient")
        }
    }

    @Test func parsesRetryAfterSecondsAndDates() {
        let now = Date(timeIntervalSince1970: 1_445_412_480) // Wed, 21 Oct 2015 07:28:00 GMT
        #expect(HTTPDelivery.parseRetryAfter("120", now: now) == .seconds(120))
        #expect(HTTPDelivery.parseRetryAfter(" 0 ", now: now) == .zero)
        #expect(HTTPDelivery.parseRetryAfter("Wed, 21 Oct 2015 07:29:00 GMT", now: now) == .seconds(60))
        #expect(HTTPDelivery.parseRetryAfter("Wed, 21 Oct 2015 07:00:00 GMT", now: now) == .zero)
        #expect(HTTPDelivery.parseRetryAfter("999999999", now: now) == .seconds(86_400))
        #expect(HTTPDelivery.parseRetryAfter("-5", now: now) == nil)
        #expect(HTTPDelivery.parseRetryAfter("soon", now: now) == nil)
    }

    @Test func theRunnerStopsAtTheTotalTimeLimit() async {
        let policy = RetryPolicy(maxAttempts: 20, initialBackoff: .milliseconds(100), maxBackoff: .milliseconds(100),
                                 attemptTimeout: .milliseconds(100), totalTimeLimit: .milliseconds(600))
        let runner = RetryRunner(policy: policy, channelKind: "test", logger: .init(label: "test"))
        let result = await runner.run(Fixtures.page()) { _, timeout in
            try? await Task.sleep(for: timeout)
            return .transient("slow", retryAfter: nil)
        }
        guard case let .failed(kind, detail, attempts) = result else { Issue.record("expected failure"); return }
        #expect(kind == .transient && attempts < 20)
        #expect(detail.contains("total time limit"))
    }

    @Test func cancellationStopsRetrying() async {
        let runner = RetryRunner(policy: RetryPolicy(maxAttempts: 10, initialBackoff: .seconds(5), maxBackoff: .seconds(5),
                                                     attemptTimeout: .seconds(1), totalTimeLimit: .seconds(60)),
                                 channelKind: "test", logger: .init(label: "test"))
        let task = Task { await runner.run(Fixtures.page()) { _, _ in .transient("down", retryAfter: .seconds(5)) } }
        try? await Task.sleep(for: .milliseconds(100))
        task.cancel()
        let result = await task.value
        #expect(result.attempts <= 2)
        #expect(!result.isDelivered)
    }
}
