/// A snapshot of the replicated state that cannot be read: what is wrong with it, for the operator.
public struct StateSnapshotError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) { self.message = message }

    /// Written as the node's errors were, so existing messages keep their shape.
    public static func snapshotUndecodable(_ message: String) -> StateSnapshotError { StateSnapshotError(message) }

    public var description: String { "cannot restore the state machine: \(message)" }
}
