import Testing
@testable import DutyModel

/// The working set holds most tickets as their records; nothing outside it may tell.
@Suite struct WorkingSetTests {
    static func busyState() throws -> DutyState {
        var state = try RandomWorkload.initialState()
        for (command, at, actor) in try DeterminismTests.log(seed: 11, count: 400) { _ = state.apply(command, at: at, actor: actor) }
        #expect(state.tickets.live.count > 10, "the workload must leave tickets open")
        return state
    }

    @Test func aCopySharingTheTicketsIsUnchangedWhileTheOriginalEncodesAndWritesThem() throws {
        var state = try Self.busyState()
        let copy = state
        let copyBytes = copy.snapshot()
        state.tickets.live.setDecodedLimit(1)
        #expect(state.tickets.live.decodedCount == 1)
        let ids = Array(state.tickets.live.values.map(\.id)).sorted()
        for id in ids { state.tickets.live[id]!.append(.note(text: "after the copy", customerVisible: false), at: 9_000_000_000_000, actor: ActorID("tester")) }
        #expect(state.tickets.live.decodedCount == 1)
        #expect(copy.snapshot() == copyBytes)
        #expect(copy.tickets.live.values.allSatisfy { $0.timeline.last?.action != .note(text: "after the copy", customerVisible: false) })
        #expect(ids.allSatisfy { state.tickets.live[$0]!.timeline.last?.action == .note(text: "after the copy", customerVisible: false) })
        #expect(copy != state)
    }

    @Test func encodedTicketsReadAndSnapshotAsDecodedOnes() throws {
        let decoded = try Self.busyState()
        var encoded = decoded
        encoded.tickets.live.setDecodedLimit(1)
        #expect(encoded == decoded)
        #expect(encoded.snapshot() == decoded.snapshot())
        #expect(encoded.workingSetTickets() == decoded.workingSetTickets())
        let restored = try DutyState.restore(from: encoded.snapshot())
        #expect(restored == decoded)
    }

    @Test func removingTicketsKeepsTheDecodedCount() throws {
        var state = try Self.busyState()
        state.tickets.live.setDecodedLimit(3)
        let ids = Array(state.tickets.live.values.map(\.id)).sorted()
        for id in ids.prefix(5) { state.tickets.live[id]!.append(.acknowledged, at: 9_000_000_000_000, actor: ActorID("tester")) }
        for id in ids.suffix(4) { _ = state.tickets.live.removeValue(forKey: id) }
        #expect(state.tickets.live.decodedCount <= 3)
        #expect(state.tickets.live.count == ids.count - 4)
        #expect(state.tickets.live.values.count == ids.count - 4)
    }

    @Test func oneTicketWrittenOverAndOverKeepsTheBookkeepingBounded() throws {
        var state = try Self.busyState()
        state.tickets.live.setDecodedLimit(4)
        let id = try #require(state.tickets.live.values.map(\.id).min())
        for step in 0..<20_000 {
            state.tickets.live[id]!.droppedTimelineEntries = step
            #expect(state.tickets.live.decodedOrderLength <= 4 * 4 + 1_024 + 1)
        }
        #expect(state.tickets.live[id]!.droppedTimelineEntries == 19_999)
        #expect(state.tickets.live.decodedCount <= 4)
    }
}
