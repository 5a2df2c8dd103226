import RaftCore

/// Messages in flight with per-message delays (so they reorder), and the links a partition cuts.
struct SimNetwork {
    /// A directed link; partitions may cut one direction only.
    struct Link: Hashable {
        var from: NodeID
        var to: NodeID
    }

    /// In send order; due messages are shuffled anyway, so no sequence number is kept.
    private var inFlight: [(deliverAt: Int, message: Message)] = []
    var partition: Set<Link>? = nil

    func isBlocked(from: NodeID, to: NodeID) -> Bool {
        partition?.contains(Link(from: from, to: to)) ?? false
    }

    mutating func enqueue(_ message: Message, atStep deliverAt: Int) {
        inFlight.append((deliverAt, message))
    }

    /// Messages due at `step`, shuffled: equal-time deliveries have no order.
    mutating func due(atStep step: Int, rng: inout SplitMix64) -> [Message] {
        var messages: [Message] = []
        var remaining: [(deliverAt: Int, message: Message)] = []
        remaining.reserveCapacity(inFlight.count)
        for item in inFlight {
            if item.deliverAt <= step { messages.append(item.message) } else { remaining.append(item) }
        }
        inFlight = remaining
        messages.shuffle(using: &rng)
        return messages
    }

    var count: Int { inFlight.count }
}
