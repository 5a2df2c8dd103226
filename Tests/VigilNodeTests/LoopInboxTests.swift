import Testing
@testable import VigilNode

@Suite struct LoopInboxTests {
    @Test func peerMessagesBeyondTheBoundAreDroppedUntilTheLoopTakesThem() async {
        let inbox = LoopInbox()
        #expect(inbox.push(.tick, boundedBy: 2))
        #expect(inbox.push(.tick, boundedBy: 2))
        #expect(!inbox.push(.tick, boundedBy: 2), "a third bounded event was queued")
        // Unbounded events (client writes, the loop's own) are never refused for it.
        #expect(inbox.push(.tick))
        #expect(await inbox.take().count == 3)
        #expect(inbox.push(.tick, boundedBy: 2), "the bound did not reset when the loop took the events")
        _ = inbox.close()
        #expect(!inbox.push(.tick, boundedBy: 2))
    }
}
