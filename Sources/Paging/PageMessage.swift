import Foundation

/// A ticket's priority as the page shows it ("P1" is the most urgent).
public enum PagePriority: String, Codable, Sendable, CaseIterable, Comparable {
    case p1 = "P1", p2 = "P2", p3 = "P3", p4 = "P4"

    public static func < (lhs: PagePriority, rhs: PagePriority) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// One page for one person: what every channel renders, built by the scheduler from replicated state.
///
/// It holds no address: the address is personal data and travels separately (`send(_:to:)`), so a
/// `PageMessage` can be logged, encoded into the outbox or shown to an operator without leaking it.
public struct PageMessage: Codable, Sendable, Equatable {
    /// Longest title kept; a longer one is cut (a page that arrives truncated beats one that is refused).
    public static let maxTitleCharacters = 500
    /// Longest service name kept.
    public static let maxServiceCharacters = 200
    /// Longest idempotency key accepted; channels refuse a longer one as a permanent failure (a scheduler bug).
    public static let maxIdempotencyKeyBytes = 512
    /// Longest acknowledgement or resolve URL accepted.
    public static let maxURLBytes = 2_048

    public let ticketID: Int
    public let title: String
    public let priority: PagePriority
    public let service: String
    /// 0-based index of the escalation step this page belongs to (repeats of a policy count on).
    public let escalationStepIndex: Int
    /// 0-based index of the escalation policy level.
    public let escalationLevelIndex: Int
    /// The person paged; never their address.
    public let recipientPersonID: String
    /// Same for every resend of this page, so receivers can de-duplicate across leader failovers.
    public let idempotencyKey: String
    /// Signed, expiring link that acknowledges the ticket (see `AckLinkSigner`).
    public let ackURL: String
    /// Signed link that resolves the ticket, or nil to offer no resolve link.
    public let resolveURL: String?
    /// When the scheduler created the page, in milliseconds since the Unix epoch (the leader's stamp).
    public let createdAtMilliseconds: Int64

    public init(ticketID: Int, title: String, priority: PagePriority, service: String,
                escalationStepIndex: Int, escalationLevelIndex: Int, recipientPersonID: String,
                idempotencyKey: String, ackURL: String, resolveURL: String? = nil, createdAtMilliseconds: Int64) {
        self.ticketID = ticketID
        self.title = String(title.prefix(Self.maxTitleCharacters))
        self.priority = priority
        self.service = String(service.prefix(Self.maxServiceCharacters))
        self.escalationStepIndex = escalationStepIndex
        self.escalationLevelIndex = escalationLevelIndex
        self.recipientPersonID = recipientPersonID
        self.idempotencyKey = idempotencyKey
        self.ackURL = ackURL
        self.resolveURL = resolveURL
        self.createdAtMilliseconds = createdAtMilliseconds
    }

    /// What the retry runner logs for a customer's mail: the ticket and the outbox key, nothing of the content.
    static func customerMail(key: String, ticketID: Int) -> PageMessage {
        PageMessage(ticketID: ticketID, title: "", priority: .p4, service: "", escalationStepIndex: 0, escalationLevelIndex: 0,
                    recipientPersonID: "customer", idempotencyKey: key, ackURL: "", createdAtMilliseconds: 0)
    }

    /// The creation time as a `Date`, for rendering.
    public var createdAt: Date { Date(timeIntervalSince1970: Double(createdAtMilliseconds) / 1_000) }

    /// What makes this page unsendable on every channel, or nil; channels report it as a permanent failure.
    public var problem: String? {
        if idempotencyKey.isEmpty { return "the page has an empty idempotency key" }
        if idempotencyKey.utf8.count > Self.maxIdempotencyKeyBytes {
            return "the idempotency key is longer than \(Self.maxIdempotencyKeyBytes) bytes"
        }
        if ackURL.utf8.count > Self.maxURLBytes || (resolveURL?.utf8.count ?? 0) > Self.maxURLBytes {
            return "a link is longer than \(Self.maxURLBytes) bytes"
        }
        for link in [ackURL, resolveURL].compactMap({ $0 }) where !Self.isWebLink(link) {
            return "a link is not an http(s) URL without spaces"
        }
        return nil
    }

    /// The idempotency key made safe for a header (HTTP or mail): bytes outside visible ASCII and `%` are
    /// percent-encoded, so any key the model produces can be sent without refusing the page.
    public var headerSafeIdempotencyKey: String {
        var out = ""
        for byte in idempotencyKey.utf8 {
            if byte > 0x20, byte < 0x7F, byte != UInt8(ascii: "%") {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    static func isWebLink(_ text: String) -> Bool {
        guard text.hasPrefix("https://") || text.hasPrefix("http://") else { return false }
        return !text.unicodeScalars.contains { $0.value <= 0x20 || $0.value == 0x7F || $0 == "\"" || $0 == "<" || $0 == ">" }
    }
}
