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
            // Long enough that only the signal ends it, even when parallel suites starve the signaller for seconds
            // (a CI run saw 8 s): a wait that times out first leaves the late signal pending for the next one.
            await wake.wait(atMost: .seconds(120))
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

    /// The scheduler is signalled for every applied batch: arming and cancelling a timer per wait cost 13–20 % of
    /// a node's CPU under load. Waits ended by signals reuse the armed timer; only an earlier deadline arms one.
    @Test func waitsEndedBySignalsShareOneTimer() async {
        let wake = WakeSignal()
        let deadline = ContinuousClock.now + .seconds(30)
        for round in 0..<200 {
            let signaller = Task { wake.signal() }
            await wake.wait(until: deadline + .milliseconds(round))
            await signaller.value
        }
        let shared = wake.timersArmed
        #expect(shared <= 1, "at most one timer for 200 waits with later deadlines")
        // An earlier deadline gets a timer of its own and ends on time, not at the armed timer's.
        let started = ContinuousClock.now
        await wake.wait(atMost: .milliseconds(40))
        let waited = ContinuousClock.now - started
        #expect(waited >= .milliseconds(40) && waited < .seconds(60))
        #expect(wake.timersArmed == shared + 1)
        // A later wait reuses that timer: it fires at the old instant and sleeps again until the new deadline.
        let later = ContinuousClock.now
        await wake.wait(atMost: .milliseconds(60))
        #expect(ContinuousClock.now - later >= .milliseconds(60))
        #expect(wake.timersArmed <= shared + 2)
    }
}
