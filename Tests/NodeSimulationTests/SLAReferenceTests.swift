@testable import DutyModel
@testable import NodeSimulation
import Testing

/// The reference the whole-node simulator holds SLA clocks to agrees with the model on a ticket that waits, is
/// answered, warned and solved, and flags a clock or a warning that breaks the rules.
@Suite struct SLAReferenceTests {
    static let start = Workload.startMillis
    static let ann = ActorID("ann")

    /// One P2 ticket on the simulator's fast policy (initial solution 100 s, update interval 80 s, warnings at 10 %).
    static func busyTicket() throws -> (DutyState, Ticket) {
        var state = WholeNodeCluster.initialState.duty
        let steps: [(Int64, DutyCommand)] = [
            (0, .registerTicket(NewTicket(kind: .incident, priority: .p2, title: "Checkout fails", serviceID: "svc-a"))),
            (2_000, .advanceTicket(ticketID: 1, to: .analysing)),
            (3_000, .setWaitingForCustomer(ticketID: 1, waiting: true)),
            (9_000, .addNote(ticketID: 1, text: "looking into it", customerVisible: true)),
            (15_000, .setWaitingForCustomer(ticketID: 1, waiting: false)),
            // 3 s ran before the wait, so the initial-solution warning (at 10 s) falls 7 s after it ends.
            (22_500, .recordSLAWarning(ticketID: 1, target: .initialSolution)),
            (25_000, .provideInitialSolution(ticketID: 1, text: "restart the pool")),
        ]
        for (offset, command) in steps {
            let result = state.apply(command, at: start + offset, actor: ann)
            if case let .failure(error) = result { Issue.record("\(command) at +\(offset) ms: \(error)") }
        }
        return (state, try #require(state.ticket(1)))
    }

    @Test func theModelFollowsTheRules() throws {
        let (state, ticket) = try Self.busyTicket()
        #expect(ticket.clocks.contains { $0.isStopped } && ticket.clocks.contains { $0.isRunning })
        #expect(SLAReference.mismatch(in: ticket, state: state) == nil)
    }

    @Test func aClockThatKeptRunningThroughTheWaitIsFlagged() throws {
        let (state, ticket) = try Self.busyTicket()
        var wrong = ticket
        let index = try #require(wrong.clocks.firstIndex { $0.target == .updateInterval })
        wrong.clocks[index].pause(at: Self.start + 16_000, calendar: nil)
        wrong.clocks[index].resume(at: Self.start + 30_000, calendar: nil)
        let mismatch = try #require(SLAReference.mismatch(in: wrong, state: state))
        #expect(mismatch.contains("updateInterval"))
    }

    @Test func aWarningBeforeItsTimeIsFlagged() throws {
        let (state, ticket) = try Self.busyTicket()
        var wrong = ticket
        // The reply re-armed the clock at 9 s during the wait; it has run since 15 s, so it warns at 23 s, not 20 s.
        wrong.append(.slaWarning(.updateInterval), at: Self.start + 20_000, actor: ActorID("scheduler"))
        let mismatch = try #require(SLAReference.mismatch(in: wrong, state: state))
        #expect(mismatch.contains("warned at"))
    }
}
