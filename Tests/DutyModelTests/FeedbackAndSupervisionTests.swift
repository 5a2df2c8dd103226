import Testing
@testable import DutyModel

@Suite struct FeedbackAndSupervisionTests {
    let t0 = Fixture.t0

    func resolvedTicket(_ state: inout DutyState) throws -> TicketID {
        let id = try Fixture.register(&state)
        try Fixture.ok(&state, .assignTicket(ticketID: id, ownerID: "bob"), at: t0)
        for stage in [TicketStage.analysing, .handling, .feedback] {
            try Fixture.ok(&state, .advanceTicket(ticketID: id, to: stage), at: t0 + Fixture.minute, actor: ActorID("bob"))
        }
        return id
    }

    /// Ratings 1–5: only 1 and 2 open a follow-up.
    @Test(arguments: [(1, true), (2, true), (3, false), (4, false), (5, false)])
    func lowRatingsOpenAFollowUp(rating: Int, opensFollowUp: Bool) throws {
        var state = try Fixture.state()
        let id = try resolvedTicket(&state)
        try Fixture.ok(&state, .submitFeedback(ticketID: id, rating: rating, comment: "rating \(rating)"), at: t0 + Fixture.hour, actor: ActorID("customer:acme"))
        #expect(state.ticket(id)?.feedback?.rating == rating)
        #expect((state.ticketCount == 2) == opensFollowUp)
        if opensFollowUp {
            let followUp = try #require(state.ticket(2))
            #expect(followUp.kind == .complaint)
            #expect(followUp.followUpOf == id)
            #expect(followUp.ownerID == "bob")
            #expect(state.ticket(id)?.followUpTicketID == 2)
        }
    }

    @Test func feedbackOnlyOnceAndOnlyAtTheFeedbackStage() throws {
        var state = try Fixture.state()
        let open = try Fixture.register(&state)
        #expect(Fixture.failure(&state, .submitFeedback(ticketID: open, rating: 5, comment: ""), at: t0)?.reason == .conflict)
        let id = try resolvedTicket(&state)
        #expect(Fixture.failure(&state, .submitFeedback(ticketID: id, rating: 6, comment: ""), at: t0)?.field == "rating")
        try Fixture.ok(&state, .submitFeedback(ticketID: id, rating: 4, comment: ""), at: t0)
        #expect(Fixture.failure(&state, .submitFeedback(ticketID: id, rating: 4, comment: ""), at: t0)?.reason == .conflict)
        // After a reopen the next feedback stage collects a fresh rating; the old one stays in the timeline.
        try Fixture.ok(&state, .reopenTicket(ticketID: id, reason: "broke again"), at: t0 + Fixture.hour)
        try Fixture.ok(&state, .advanceTicket(ticketID: id, to: .handling), at: t0 + Fixture.hour)
        try Fixture.ok(&state, .advanceTicket(ticketID: id, to: .feedback), at: t0 + Fixture.hour)
        try Fixture.ok(&state, .submitFeedback(ticketID: id, rating: 3, comment: ""), at: t0 + Fixture.hour)
        #expect(state.ticket(id)?.feedback?.rating == 3)
        #expect(state.ticket(id)?.timeline.filter { if case .feedback = $0.action { true } else { false } }.count == 2)
    }

    @Test func samplingIsReproducibleAndVerdictsAreRecorded() throws {
        var state = try Fixture.state()
        for _ in 0..<30 {
            let id = try resolvedTicket(&state)
            try Fixture.ok(&state, .advanceTicket(ticketID: id, to: .archived), at: t0 + Fixture.hour)
        }
        _ = try Fixture.register(&state)
        var other = state
        try Fixture.ok(&state, .drawSupervisionSample(sampleID: "2026-03", seed: 42, size: 5), at: t0 + Fixture.hour, actor: ActorID("dave"))
        try Fixture.ok(&other, .drawSupervisionSample(sampleID: "2026-03", seed: 42, size: 5), at: t0 + Fixture.hour, actor: ActorID("dave"))
        let sample = try #require(state.samples["2026-03"])
        #expect(sample.ticketIDs == other.samples["2026-03"]?.ticketIDs)
        #expect(Set(sample.ticketIDs).count == 5)
        #expect(sample.ticketIDs.allSatisfy { state.ticket($0)?.stage == .archived })
        #expect(SupervisionSample.draw(from: Array(1...30), size: 5, seed: 43) != sample.ticketIDs, "another seed draws another sample")
        let reviewed = sample.ticketIDs[0]
        #expect(Fixture.failure(&state, .recordReviewVerdict(sampleID: "2026-03", ticketID: reviewed, verdict: .nonCompliant, note: ""), at: t0)?.field == "note")
        try Fixture.ok(&state, .recordReviewVerdict(sampleID: "2026-03", ticketID: reviewed, verdict: .compliant, note: ""), at: t0, actor: ActorID("dave"))
        #expect(state.samples["2026-03"]?.reviews.first?.reviewer == ActorID("dave"))
        #expect(Fixture.failure(&state, .recordReviewVerdict(sampleID: "2026-03", ticketID: reviewed, verdict: .compliant, note: ""), at: t0)?.reason == .conflict)
        #expect(Fixture.failure(&state, .recordReviewVerdict(sampleID: "2026-03", ticketID: 31, verdict: .compliant, note: ""), at: t0)?.reason == .notFound)
    }

    @Test func splitMixMatchesReferenceVector() {
        // First outputs of SplitMix64 seeded with 0 (reference implementation by Vigna).
        var generator = SplitMix64(seed: 0)
        #expect(generator.next() == 0xE220_A839_7B1D_CDAF)
        #expect(generator.next() == 0x6E78_9E6A_A1B9_65F4)
    }
}
