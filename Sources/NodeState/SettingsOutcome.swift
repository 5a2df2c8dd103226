/// What applying one settings command did; the proposer's HTTP answer is made from it.
public enum SettingsOutcome: Sendable, Equatable {
    case stored(key: String, setting: SettingsStateMachine.Setting, created: Bool)
    case deleted(key: String, revision: UInt64)
    case notFound(key: String)
    case revisionMismatch(key: String, current: UInt64, expected: UInt64)
    case undecodable
}
