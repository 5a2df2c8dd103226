/// What the intake keeps of one message.
public struct ParsedMail: Sendable, Equatable {
    /// Without angle brackets; nil when the header is absent or empty.
    public var messageID: String?
    /// In-Reply-To first, then References; the thread a reply belongs to is found through these.
    public var references: [String]
    public var from: MailAddress?
    public var subject: String
    public var text: String
    public var attachments: [MailAttachment]
    /// Set for auto-replies, bounces and bulk mail, so the intake neither answers them nor opens tickets in a loop.
    public var isAutomatic: Bool
    /// The header (or structure) that made the message automatic, for the intake's log.
    public var automaticReason: String?

    public init(messageID: String? = nil, references: [String] = [], from: MailAddress? = nil, subject: String = "",
                text: String = "", attachments: [MailAttachment] = [], isAutomatic: Bool = false, automaticReason: String? = nil) {
        self.messageID = messageID
        self.references = references
        self.from = from
        self.subject = subject
        self.text = text
        self.attachments = attachments
        self.isAutomatic = isAutomatic
        self.automaticReason = automaticReason
    }
}

/// One mailbox of an address header.
public struct MailAddress: Sendable, Equatable {
    /// `local@domain`; only the domain is lowercased because the local part may be case-sensitive (RFC 5321).
    public var address: String
    /// Decoded, without quotes; "" when the header gives none.
    public var displayName: String

    public init(address: String, displayName: String = "") {
        self.address = address
        self.displayName = displayName
    }
}

/// An attachment as the ticket lists it; the content itself is not kept.
public struct MailAttachment: Sendable, Equatable {
    public var fileName: String
    /// Lowercased `type/subtype`, without parameters.
    public var contentType: String
    /// After the transfer encoding is undone.
    public var byteCount: Int

    public init(fileName: String, contentType: String, byteCount: Int) {
        self.fileName = fileName
        self.contentType = contentType
        self.byteCount = byteCount
    }
}

/// Bounds on what one message may cost to parse, so a hostile message cannot exhaust the intake.
public struct MailLimits: Sendable {
    public var maxHeaderBytes = 256 * 1024
    public var maxParts = 100
    public var maxDepth = 8
    public var maxTextCharacters = 10_000
    public var maxAttachments = 20
    public static let maxReferences = 20

    public init() {}
}

/// Why a message was refused; the message says what and where.
public struct MailParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
