import Paging
import Testing

@Suite struct WakeSignalTests {
    /// The ticker spun at 40 % of a core: each wait's cancelled timer signalled, which cut the next wait short,
    /// whose cancelled timer cut the one after it. A wait must end only by a signal or its own timeout.
    @Test func aWaitEndedBySignalDoesNotCutTheNextOneShort() async {
        let wake = WakeSignal()
        for _ in 0..<5 {
            let signaller = Task {
                try? await Task.sleep(for: .milliseconds(2))
                wake.signal()
            }
            await wake.wait(atMost: .seconds(5))
            await signaller.value
        }
        // Give any stray timer time to fire, then a wait with nothing to wake it lasts its whole timeout.
        try? await Task.sleep(for: .milliseconds(20))
        let started = ContinuousClock.now
        await wake.wait(atMost: .milliseconds(60))
        #expect(ContinuousClock.now - started >= .milliseconds(60))
    }

    @Test func aSignalWithNobodyWaitingIsKeptForTheNextWait() async {
        let wake = WakeSignal()
        wake.signal()
        wake.signal()
        let started = ContinuousClock.now
        await wake.wait(atMost: .seconds(10))
        #expect(ContinuousClock.now - started < .seconds(5), "the kept signal ends the wait at once")
        let second = ContinuousClock.now
        await wake.wait(atMost: .milliseconds(30))
        #expect(ContinuousClock.now - second >= .milliseconds(30), "two signals are remembered as one")
    }
}
