import RaftCore

/// Durable storage of one simulated node: survives crashes, holds exactly what a Ready handed over.
public struct SimStorage {
    public var hardState = HardState()
    public var snapshot = Snapshot()
    public var entries: [Entry] = []

    public init() {}

    public init(hardState: HardState, snapshot: Snapshot, entries: [Entry]) {
        self.hardState = hardState
        self.snapshot = snapshot
        self.entries = entries
    }

    public var lastIndex: LogIndex { snapshot.index + LogIndex(entries.count) }

    func term(at index: LogIndex) -> Term? {
        if index == snapshot.index { return snapshot.term }
        guard index > snapshot.index, index <= lastIndex else { return nil }
        return entries[Int(index - snapshot.index - 1)].term
    }

    /// Persists a Ready's durable part in the documented order.
    public mutating func persist(_ ready: Ready) {
        if let newSnapshot = ready.snapshot {
            snapshot = newSnapshot
            entries = []
        }
        if let first = ready.entries.first {
            precondition(first.index > snapshot.index && first.index <= lastIndex + 1, "sim storage: append leaves a gap")
            let keep = Int(first.index - snapshot.index - 1)
            entries.removeLast(entries.count - keep)
            entries.append(contentsOf: ready.entries)
        }
        if let hard = ready.hardState { hardState = hard }
    }

    /// The application compacted through `newSnapshot.index`.
    public mutating func compact(_ newSnapshot: Snapshot) {
        guard newSnapshot.index > snapshot.index else { return }
        let drop = Int(newSnapshot.index - snapshot.index)
        entries.removeFirst(min(drop, entries.count))
        snapshot = newSnapshot
    }

    public var persisted: PersistedState {
        PersistedState(hardState: hardState, snapshot: snapshot, entries: entries)
    }
}

/// The replicated state machine the simulator checks: the sequence of client values in log order.
struct SimStateMachine {
    private(set) var values: [UInt64] = []
    private(set) var appliedIndex: LogIndex = 0

    mutating func apply(_ entry: Entry) {
        precondition(entry.index == appliedIndex + 1, "state machine applied out of order")
        appliedIndex = entry.index
        if entry.kind == .normal, let value = SimStateMachine.decodeValue(entry.data) { values.append(value) }
    }

    mutating func restore(_ snapshot: Snapshot) {
        values = SimStateMachine.decodeValues(snapshot.data)
        appliedIndex = snapshot.index
    }

    var encoded: [UInt8] { values.flatMap(SimStateMachine.encode) }

    static func encode(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * UInt64($0))) }
    }

    static func decodeValue(_ bytes: [UInt8]) -> UInt64? {
        guard bytes.count == 8 else { return nil }
        return bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    static func decodeValues(_ bytes: [UInt8]) -> [UInt64] {
        stride(from: 0, to: bytes.count - bytes.count % 8, by: 8).map { decodeValue(Array(bytes[$0..<$0 + 8]))! }
    }
}
