import DutyModel
import Synchronization

/// The node's state machine shared between the Raft loop (the only writer) and HTTP readers.
public final class StateView: Sendable {
    private let machine = Mutex(NodeStateMachine())

    public init() {}

    public func get(_ key: String) -> SettingsStateMachine.Setting? {
        machine.withLock { $0.settings.get(key) }
    }

    public var revision: UInt64 { machine.withLock { $0.settings.revision } }
    public var count: Int { machine.withLock { $0.settings.settings.count } }

    public func token(forSHA256 hash: String) -> TokenRegistry.Record? {
        machine.withLock { $0.tokens.record(forSHA256: hash) }
    }

    public var tokenRecords: [TokenRegistry.Record] {
        machine.withLock { $0.tokens.records.values.sorted { $0.name < $1.name } }
    }

    /// Reads the duty state under the lock; `body` should copy out what it needs and return quickly,
    /// because the Raft loop waits for the lock to apply entries.
    public func duty<T: Sendable>(_ body: (DutyState) -> T) -> T {
        machine.withLock { body($0.duty) }
    }

    /// Runs `body` with exclusive access; the loop applies a whole `Ready` in one call.
    func mutate<T: Sendable>(_ body: (inout NodeStateMachine) throws(NodeError) -> T) throws(NodeError) -> T {
        try machine.withLock { (machine: inout NodeStateMachine) throws(NodeError) -> T in try body(&machine) }
    }

    /// A consistent copy of the whole state, cheap to take (copy-on-write), for writing a snapshot off the loop.
    func copy() -> NodeStateMachine { machine.withLock { $0 } }
}
