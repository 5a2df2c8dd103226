import Synchronization

/// The settings state machine shared between the Raft loop (the only writer) and HTTP readers.
public final class SettingsView: Sendable {
    private let machine = Mutex(SettingsStateMachine())

    public init() {}

    public func get(_ key: String) -> SettingsStateMachine.Setting? {
        machine.withLock { $0.get(key) }
    }

    public var revision: UInt64 { machine.withLock { $0.revision } }
    public var count: Int { machine.withLock { $0.settings.count } }

    /// Runs `body` with exclusive access; the loop applies a whole `Ready` in one call.
    func mutate<T: Sendable>(_ body: (inout SettingsStateMachine) throws(NodeError) -> T) throws(NodeError) -> T {
        try machine.withLock { (machine: inout SettingsStateMachine) throws(NodeError) -> T in try body(&machine) }
    }

    func snapshotData() -> [UInt8] { machine.withLock { $0.snapshotData() } }
}
