/// Decides whether a history of puts and gets on keys is linearizable, one key at a time (a history of
/// independent registers is linearizable exactly when each key's is).
///
/// The search is Wing & Gong's: walk the operations in call order and linearize one whose call precedes every
/// return not yet linearized; when a return is reached with its operation not placed, undo the last choice.
/// Lowe's just-in-time refinement keeps only the calls and returns still open in a linked list, and every
/// (set of operations placed, register value) reached is remembered, so no configuration is explored twice
/// (as Knossos and porcupine do). An operation with an unknown outcome returns at infinity: it may take effect
/// anywhere after its call, and placed after every other operation it changes nothing anyone saw, which is
/// the same as never having happened. A get with an unknown outcome read nothing and is left out.
public enum RegisterLinearizability {
    /// The verdict on one key's operations.
    public enum Verdict: Sendable, Equatable {
        case linearizable
        /// No order exists; `detail` says how far the search got and which operation could not be placed.
        case violation(detail: String)
    }

    /// Limits the search, so that a pathological history ends with an answer instead of running for hours.
    public static let defaultMaximumSteps = 50_000_000

    /// Checks every key; the verdicts are by key.
    public static func check(_ operations: [HistoryOperation], maximumSteps: Int = defaultMaximumSteps) -> [String: Verdict] {
        var byKey: [String: [HistoryOperation]] = [:]
        for operation in operations { byKey[operation.key, default: []].append(operation) }
        return byKey.mapValues { check(key: $0, maximumSteps: maximumSteps) }
    }

    /// Checks the operations of one key (all must have the same key).
    public static func check(key operations: [HistoryOperation], maximumSteps: Int = defaultMaximumSteps) -> Verdict {
        // A put with an unknown outcome whose value nobody read can go after everything else and changes nothing:
        // leaving it out is exact, and spares the search every subset of such puts (2^n configurations otherwise).
        let read = Set(operations.compactMap { $0.op == .get && $0.returnNanoseconds != nil ? $0.value : nil })
        let kept = operations.filter { operation in
            switch operation.op {
            case .get: operation.returnNanoseconds != nil
            case .put: operation.returnNanoseconds != nil || operation.value.map(read.contains) == true
            }
        }
        guard !kept.isEmpty else { return .linearizable }
        var search = Search(kept)
        return search.run(maximumSteps: maximumSteps)
    }

    /// The list of open calls and returns, and the depth-first search over it.
    struct Search {
        struct Node {
            /// The operation this call or return belongs to; -1 for the head.
            var operation: Int
            var isCall: Bool
            /// For a call: its return's node.
            var match: Int
            var previous: Int
            var next: Int
        }

        let operations: [HistoryOperation]
        var nodes: [Node]

        init(_ operations: [HistoryOperation]) {
            self.operations = operations
            // Events in time order; a call and a return at the same instant count as concurrent (call first).
            var events: [(time: UInt64, isCall: Bool, operation: Int)] = []
            events.reserveCapacity(operations.count * 2)
            for (index, operation) in operations.enumerated() {
                events.append((operation.callNanoseconds, true, index))
                events.append((operation.returnNanoseconds ?? UInt64.max, false, index))
            }
            events.sort { ($0.time, $0.isCall ? 0 : 1, $0.operation) < ($1.time, $1.isCall ? 0 : 1, $1.operation) }
            nodes = [Node(operation: -1, isCall: false, match: -1, previous: -1, next: events.isEmpty ? -1 : 1)]
            var returnNode = [Int](repeating: -1, count: operations.count)
            for (position, event) in events.enumerated() {
                let index = position + 1
                nodes.append(Node(operation: event.operation, isCall: event.isCall, match: -1, previous: index - 1,
                                  next: position + 1 < events.count ? index + 1 : -1))
                if !event.isCall { returnNode[event.operation] = index }
            }
            for index in nodes.indices where nodes[index].isCall { nodes[index].match = returnNode[nodes[index].operation] }
        }

        /// Takes a call and its return out of the list.
        mutating func lift(_ call: Int) {
            let node = nodes[call]
            nodes[node.previous].next = node.next
            if node.next >= 0 { nodes[node.next].previous = node.previous }
            let returned = nodes[node.match]
            nodes[returned.previous].next = returned.next
            if returned.next >= 0 { nodes[returned.next].previous = returned.previous }
        }

        /// Puts them back, in the reverse order.
        mutating func unlift(_ call: Int) {
            let returned = nodes[nodes[call].match]
            nodes[returned.previous].next = nodes[call].match
            if returned.next >= 0 { nodes[returned.next].previous = nodes[call].match }
            let node = nodes[call]
            nodes[node.previous].next = call
            if node.next >= 0 { nodes[node.next].previous = call }
        }

        /// A configuration reached: the set of placed operations as a 128-bit Zobrist hash (each operation's random
        /// code XORed in when placed, out when undone, so a step costs O(1) instead of copying a bit set of the
        /// whole history), and the register's value. Two different sets share a hash with probability about
        /// 2^-128 per pair, far below any history's size.
        struct Configuration: Hashable {
            var placedLow: UInt64
            var placedHigh: UInt64
            var value: String?
        }

        mutating func run(maximumSteps: Int) -> Verdict {
            var value: String?
            var codes: [(UInt64, UInt64)] = []
            codes.reserveCapacity(operations.count)
            var generator = SplitMix64(seed: 0x5EED_1234_ABCD_0001)
            for _ in operations { codes.append((generator.next(), generator.next())) }
            var placed: (UInt64, UInt64) = (0, 0)
            var placedCount = 0
            var seen: Set<Configuration> = []
            var stack: [(call: Int, value: String?)] = []
            var deepest = (count: 0, blockedBy: -1)
            var entry = nodes[0].next
            var steps = 0
            while nodes[0].next >= 0 {
                steps += 1
                if steps > maximumSteps {
                    return .violation(detail: "undecided: the search gave up after \(maximumSteps) steps (\(operations.count) operations)")
                }
                let node = nodes[entry]
                if node.isCall {
                    let operation = operations[node.operation]
                    let next: String?
                    var accepted = true
                    switch operation.op {
                    case .put: next = operation.value
                    case .get:
                        next = value
                        accepted = operation.value == value
                    }
                    if accepted {
                        let code = codes[node.operation]
                        let candidate = (placed.0 ^ code.0, placed.1 ^ code.1)
                        if seen.insert(Configuration(placedLow: candidate.0, placedHigh: candidate.1, value: next)).inserted {
                            stack.append((entry, value))
                            value = next
                            placed = candidate
                            placedCount += 1
                            lift(entry)
                            entry = nodes[0].next
                            continue
                        }
                    }
                    entry = node.next
                } else {
                    // The operation that returned here is not placed, and nothing before it can be: go back.
                    if placedCount >= deepest.count { deepest = (placedCount, node.operation) }
                    guard let (call, previous) = stack.popLast() else {
                        return .violation(detail: Self.describe(deepest, operations))
                    }
                    value = previous
                    let code = codes[nodes[call].operation]
                    placed = (placed.0 ^ code.0, placed.1 ^ code.1)
                    placedCount -= 1
                    unlift(call)
                    entry = nodes[call].next
                }
            }
            return .linearizable
        }

        static func describe(_ deepest: (count: Int, blockedBy: Int), _ operations: [HistoryOperation]) -> String {
            let blocked = operations[max(0, deepest.blockedBy)]
            let read = blocked.value.map { "\"\($0)\"" } ?? "absent"
            let what = blocked.op == .get ? "a get by client \(blocked.client) that read \(read)"
                : "a put of \(read) by client \(blocked.client)"
            return "no order fits: at most \(deepest.count) of \(operations.count) operations can be placed; "
                + "\(what) (called at \(blocked.callNanoseconds) ns, returned at \(blocked.returnNanoseconds.map { "\($0) ns" } ?? "unknown")) "
                + "fits after none of them"
        }
    }
}

/// A small deterministic generator: the Zobrist codes (the same on every run, so a verdict never depends on
/// chance) and the drills' fault schedules (the same seed, the same drill).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
