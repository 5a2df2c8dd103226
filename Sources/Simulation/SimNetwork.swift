import RaftCore

/// Messages in flight with per-message delays (so they reorder), and the links a partition cuts.
public struct SimNetwork {
    /// A directed link; partitions may cut one direction only.
    public struct Link: Hashable {
        public var from: NodeID
        public var to: NodeID

        public init(from: NodeID, to: NodeID) {
            self.from = from
            self.to = to
        }
    }

    /// In send order; due messages are shuffled anyway, so no sequence number is kept.
    private var inFlight: [(deliverAt: Int, message: Message)] = []
    /// No message in flight is due before this step; `due` is asked every step and most steps deliver nothing.
    private var earliestDeliverAt = Int.max
    public var partition: Set<Link>? = nil

    public init() {}

    public func isBlocked(from: NodeID, to: NodeID) -> Bool {
        partition?.contains(Link(from: from, to: to)) ?? false
    }

    public mutating func enqueue(_ message: Message, atStep deliverAt: Int) {
        inFlight.append((deliverAt, message))
        earliestDeliverAt = min(earliestDeliverAt, deliverAt)
    }

    /// Messages due at `step`, shuffled: equal-time deliveries have no order.
    public mutating func due(atStep step: Int, rng: inout SplitMix64) -> [Message] {
        guard earliestDeliverAt <= step else { return [] }
        var messages: [Message] = []
        var remaining: [(deliverAt: Int, message: Message)] = []
        remaining.reserveCapacity(inFlight.count)
        earliestDeliverAt = Int.max
        for item in inFlight {
            if item.deliverAt <= step {
                messages.append(item.message)
            } else {
                remaining.append(item)
                earliestDeliverAt = min(earliestDeliverAt, item.deliverAt)
            }
        }
        inFlight = remaining
        messages.shuffle(using: &rng)
        return messages
    }

    public var count: Int { inFlight.count }
}
