/// S12: a reproducible sample of archived tickets handed to the supervision group.
public struct SupervisionSample: Codable, Sendable, Equatable {
    /// The supervision group's judgement of one ticket.
    public enum Verdict: String, Codable, Sendable, CaseIterable {
        case compliant, needsImprovement, nonCompliant
    }

    /// A recorded verdict with its reviewer.
    public struct Review: Codable, Sendable, Equatable {
        public let ticketID: TicketID
        public let verdict: Verdict
        public let note: String
        public let reviewer: ActorID
        public let at: Timestamp
    }

    public let id: String
    public let seed: UInt64
    public let drawnAt: Timestamp
    public let ticketIDs: [TicketID]
    public internal(set) var reviews: [Review]

    /// Partial Fisher–Yates with SplitMix64: same seed and population ⇒ same sample on every replica.
    public static func draw(from population: [TicketID], size: Int, seed: UInt64) -> [TicketID] {
        var pool = population
        var generator = SplitMix64(seed: seed)
        let count = min(size, pool.count)
        for index in 0..<count {
            let pick = index + generator.next(below: pool.count - index)
            pool.swapAt(index, pick)
        }
        return Array(pool.prefix(count)).sorted()
    }
}
