import DutyModel
import Synchronization

/// The node's state machine shared between the Raft loop (the only writer) and HTTP readers.
public final class StateView: Sendable {
    private let machine = Mutex(NodeStateMachine())
    /// The registry's tokens by raw digest, rebuilt whenever an apply changes the registry: every request looks
    /// its token up here, and under load the state lock is held for whole applied batches.
    private let tokensByDigest = Mutex<[TokenDigest: TokenRegistry.Record]>([:])
    /// Console sessions by raw digest, rebuilt with the token index.
    private let sessionsByDigest = Mutex<[TokenDigest: TokenRegistry.Session]>([:])

    public init() {}

    public func get(_ key: String) -> SettingsStateMachine.Setting? {
        machine.withLock { $0.settings.get(key) }
    }

    public var revision: UInt64 { machine.withLock { $0.settings.revision } }
    public var count: Int { machine.withLock { $0.settings.settings.count } }

    public func token(for digest: TokenDigest) -> TokenRegistry.Record? {
        tokensByDigest.withLock { $0[digest] }
    }

    public func session(for digest: TokenDigest) -> TokenRegistry.Session? {
        sessionsByDigest.withLock { $0[digest] }
    }

    /// A token's record by name (a console session opened with a token takes its role from it).
    public func tokenRecord(named name: String) -> TokenRegistry.Record? {
        machine.withLock { $0.tokens.records[name] }
    }

    /// The open set-password link whose secret hashes to `sha256`.
    public func passwordReset(sha256: String) -> TokenRegistry.PasswordReset? {
        machine.withLock { $0.tokens.passwordResets[sha256] }
    }

    /// The calendar feed whose secret hashes to `sha256`.
    public func calendarFeed(sha256: String) -> TokenRegistry.CalendarFeed? {
        machine.withLock { $0.tokens.calendarFeeds.values.first { $0.sha256 == sha256 } }
    }

    public var calendarFeeds: [TokenRegistry.CalendarFeed] {
        machine.withLock { $0.tokens.calendarFeeds.values.sorted { $0.id < $1.id } }
    }

    /// The bcrypt hash of a person's console password.
    public func passwordHash(of personID: String) -> String? {
        machine.withLock { $0.tokens.passwords[personID] }
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
        try machine.withLock { (machine: inout NodeStateMachine) throws(NodeError) -> T in
            let before = machine.tokens
            // The registry's own state decides, also when `body` fails part-way: what it applied stays applied.
            defer {
                // Cheap when nothing changed: dictionaries sharing their storage compare equal at once.
                if machine.tokens != before { index(machine.tokens) }
            }
            return try body(&machine)
        }
    }

    private func index(_ registry: TokenRegistry) {
        let index = Dictionary(registry.records.values.compactMap { record in TokenDigest(hex: record.sha256).map { ($0, record) } },
                               uniquingKeysWith: { first, _ in first })
        tokensByDigest.withLock { $0 = index }
        let sessions = Dictionary(registry.sessions.values.compactMap { session in TokenDigest(hex: session.sha256).map { ($0, session) } },
                                  uniquingKeysWith: { first, _ in first })
        sessionsByDigest.withLock { $0 = sessions }
    }

    /// A consistent copy of the whole state, cheap to take (copy-on-write), for writing a snapshot off the loop.
    func copy() -> NodeStateMachine { machine.withLock { $0 } }
}
