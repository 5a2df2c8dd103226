import Testing
@testable import DutyModel

/// The scheduler's deadline index: exact after every command, ordered, rebuilt on restore; and the batch commands
/// that record what falls due together in one entry.
@Suite struct DeadlineIndexTests {
    @Test("after every command of a random log the index holds exactly what a rebuild would", arguments: [5, 6, 7, 8] as [UInt64])
    func exactAfterEveryCommand(seed: UInt64) throws {
        var workload = RandomWorkload(seed: seed)
        var state = try RandomWorkload.initialState()
        var indexed = 0
        for step in 0..<500 {
            let (command, at, actor) = workload.next(for: state)
            _ = state.apply(command, at: at, actor: actor)
            #expect(state.deadlineIndexIsExact(), "seed \(seed), command \(step): \(command.name)")
            indexed = max(indexed, state.tickets.deadlines.count)
        }
        #expect(indexed > 5, "the workload must leave tickets with deadlines")
        let restored = try DutyState.restore(from: state.snapshot())
        #expect(restored.deadlineIndexIsExact())
        #expect(restored.tickets.deadlines.count == state.tickets.deadlines.count)
        #expect(restored.nextSchedulerDeadline() == state.nextSchedulerDeadline())
    }

    @Test("the index walks tickets in deadline order and forgets removed ones")
    func orderedSet() {
        var index = DeadlineIndex<TicketID>()
        var reference: [TicketID: Timestamp] = [:]
        var random = SplitMix64(seed: 42)
        for _ in 0..<5_000 {
            let id = 1 + random.next(below: 700)
            let at: Timestamp? = random.next(below: 5) == 0 ? nil : Timestamp(random.next(below: 1_000))
            index.set(id, at)
            reference[id] = at
        }
        #expect(index.isConsistent())
        let expected = reference.sorted { ($0.value, $0.key) < ($1.value, $1.key) }
        #expect(index.due(until: 499) == expected.filter { $0.value <= 499 }.map(\.key))
        #expect(index.earliest == expected.first?.value)
        #expect(index.count == reference.count)
    }

    @Test("sorted chunks keep order across chunk splits, and a walk from any key starts there")
    func sortedChunks() {
        var set = SortedChunks<Int>()
        var reference: Set<Int> = []
        var random = SplitMix64(seed: 7)
        for _ in 0..<20_000 {
            let key = random.next(below: 3_000)
            if reference.contains(key) { set.remove(key); reference.remove(key) } else { set.insert(key); reference.insert(key) }
        }
        #expect(set.isConsistent() && set.count == reference.count && set.first == reference.min())
        for start in [0, 1, 777, 1_500, 2_999, 5_000] {
            var walked: [Int] = []
            set.forEach(from: start) { walked.append($0); return walked.count < 600 }
            #expect(walked == Array(reference.filter { $0 >= start }.sorted().prefix(600)), "from \(start)")
        }
    }

    @Test("a batch records every warning and breach due, skips what is no longer owed, and is bounded")
    func slaBatch() throws {
        var state = try Fixture.state()
        let first = try Fixture.register(&state, priority: .p2, at: Fixture.t0)
        let second = try Fixture.register(&state, priority: .p2, at: Fixture.t0)
        let due = state.dueSLAEvents(at: Fixture.t0 + 6 * Fixture.minute)
        #expect(Set(due.map(\.ticketID)) == [first, second])
        let records = due.map { SLAEventRecord(ticketID: $0.ticketID, target: $0.target, isBreach: $0.isBreach) }
            + [SLAEventRecord(ticketID: 999, target: .firstResponse, isBreach: true)]
        let events = try Fixture.ok(&state, .recordSLAEvents(records), at: Fixture.t0 + 6 * Fixture.minute, actor: ActorID("scheduler"))
        #expect(events.count == due.count)
        #expect(state.dueSLAEvents(at: Fixture.t0 + 6 * Fixture.minute).isEmpty)
        // The same batch again records nothing: every item is already on record.
        #expect(try Fixture.ok(&state, .recordSLAEvents(records), at: Fixture.t0 + 7 * Fixture.minute).isEmpty)
        let before = state
        #expect(Fixture.failure(&state, .recordSLAEvents([]), at: Fixture.t0 + 8 * Fixture.minute)?.reason == .limitExceeded)
        let tooMany = Array(repeating: records[0], count: DutyLimits.maxSchedulerBatch + 1)
        #expect(Fixture.failure(&state, .recordSLAEvents(tooMany), at: Fixture.t0 + 8 * Fixture.minute)?.reason == .limitExceeded)
        #expect(state.snapshot() == before.snapshot())
    }

    @Test("a thousand open tickets cost a pass only what is due")
    func passCostsOnlyWhatIsDue() throws {
        var state = try Fixture.state()
        for index in 0..<1_000 {
            _ = try Fixture.register(&state, priority: .p3, at: Fixture.t0 + Int64(index) * 1_000)
        }
        // Only the first few tickets' first-response warnings are due a moment after the fourth minute.
        let instant = Fixture.t0 + 4 * Fixture.minute + 2_500
        #expect(state.ticketsDue(until: instant).count == 3)
        #expect(state.dueSLAEvents(at: instant).count == 3)
        #expect(state.nextSchedulerDeadline() == Fixture.t0 + 4 * Fixture.minute)
    }

    @Test("a copy of the state (a snapshot in the making) never sees the original's later changes, nor they the copy's")
    func boxedWorkingSetKeepsValueSemantics() throws {
        var state = try Fixture.state()
        let id = try Fixture.register(&state, priority: .p2, at: Fixture.t0)
        let frozen = state
        let frozenBytes = frozen.snapshot()
        try Fixture.ok(&state, .acknowledgeTicket(ticketID: id), at: Fixture.t0 + Fixture.minute)
        try Fixture.ok(&state, .addNote(ticketID: id, text: "on it", customerVisible: true), at: Fixture.t0 + 2 * Fixture.minute)
        #expect(frozen.ticket(id)?.acknowledgedAt == nil)
        #expect(frozen.ticket(id)?.timeline.count == 1 && state.ticket(id)!.timeline.count >= 3)
        #expect(frozen.snapshot() == frozenBytes)
        var copy = state
        try Fixture.ok(&copy, .resolveTicket(ticketID: id), at: Fixture.t0 + 3 * Fixture.minute)
        #expect(state.ticket(id)?.stage != copy.ticket(id)?.stage)
        #expect(state.deadlineIndexIsExact() && copy.deadlineIndexIsExact())
    }
}
