/// A rejected command: which field was wrong and why. A rejected command changes nothing.
public struct DutyError: Error, Codable, Sendable, Equatable, CustomStringConvertible {
    /// The broad reason, so callers can map it to HTTP status codes.
    public enum Reason: String, Codable, Sendable {
        case invalid, notFound, conflict, forbidden, limitExceeded, illegalTransition, notDue
        /// The ticket archive could not be read: the node's fault, not the request's.
        case storage
    }

    public let reason: Reason
    public let field: String
    public let message: String

    public init(_ reason: Reason, field: String, _ message: String) {
        self.reason = reason
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }

    static func invalid(_ field: String, _ message: String) -> DutyError { .init(.invalid, field: field, message) }
    static func notFound(_ field: String, _ message: String) -> DutyError { .init(.notFound, field: field, message) }
    static func conflict(_ field: String, _ message: String) -> DutyError { .init(.conflict, field: field, message) }
    static func limit(_ field: String, _ message: String) -> DutyError { .init(.limitExceeded, field: field, message) }
}
