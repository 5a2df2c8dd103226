/// What became of one page on one channel; the scheduler records it as the page's outcome.
public enum DeliveryResult: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Whether sending again later could succeed.
    public enum FailureKind: String, Sendable, Equatable, Codable {
        /// The receiver refused the page for good (bad address, 4xx, rejected recipient); do not resend as is.
        case permanent
        /// Network trouble, 5xx, rate limiting, a timeout: a later resend may succeed.
        case transient
    }

    /// The receiver accepted the page after `attempts` tries.
    case delivered(attempts: Int)
    /// Gave up after `attempts` tries; `detail` says why without addresses, bodies or secrets.
    case failed(FailureKind, detail: String, attempts: Int)

    /// How many tries were made (0 when the page was refused before any).
    public var attempts: Int {
        switch self {
        case let .delivered(attempts), let .failed(_, _, attempts): return attempts
        }
    }

    public var isDelivered: Bool {
        if case .delivered = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case let .delivered(attempts): return "delivered after \(attempts) attempt\(attempts == 1 ? "" : "s")"
        case let .failed(kind, detail, attempts):
            return "\(kind.rawValue) failure after \(attempts) attempt\(attempts == 1 ? "" : "s"): \(detail)"
        }
    }
}
