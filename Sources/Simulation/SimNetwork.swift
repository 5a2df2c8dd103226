import RaftCore

/// Messages in flight with per-message delays (so they reorder), and the links a partition cuts.
struct SimNetwork {
    /// A directed link; partitions may cut one direction only.
    struct Link: Hashable {
        var from: NodeID
        var to: NodeID
    }

    private var inFlight: [(deliverAt: Int, sequence: Int, message: Message)] = []
    private var sequence = 0
    var partition: Set<Link>? = nil

    func isBlocked(from: NodeID, to: NodeID) -> Bool {
        partition?.contains(Link(from: from, to: to)) ?? false
    }

    mutating func enqueue(_ message: Message, atStep deliverAt: Int) {
        sequence += 1
        inFlight.append((deliverAt, sequence, message))
    }

    /// Messages due at `step`, shuffled: equal-time deliveries have no order.
    mutating func due(atStep step: Int, rng: inout SplitMix64) -> [Message] {
        var due: [(deliverAt: Int, sequence: Int, message: Message)] = []
        var remaining: [(deliverAt: Int, sequence: Int, message: Message)] = []
        remaining.reserveCapacity(inFlight.count)
        for item in inFlight {
            if item.deliverAt <= step { due.append(item) } else { remaining.append(item) }
        }
        inFlight = remaining
        due.sort { $0.sequence < $1.sequence }
        var messages = due.map(\.message)
        messages.shuffle(using: &rng)
        return messages
    }

    var count: Int { inFlight.count }
}
