import DutyModel
import Foundation

/// The replicated credentials: API tokens (name, role and the token's SHA-256, never the token itself), the
/// console's password hashes (bcrypt) and its sign-in sessions (SHA-256 of the session secret).
public struct TokenRegistry: Codable, Sendable, Equatable {
    /// One issued token.
    public struct Record: Codable, Sendable, Equatable {
        public let name: String
        public let role: Role
        public let sha256: String
        public let createdAt: Int64
        /// The person acting with this token; their id is the actor in the audit trail (S6, S16).
        public let personID: String?

        package init(name: String, role: Role, sha256: String, createdAt: Int64, personID: String?) {
            self.name = name
            self.role = role
            self.sha256 = sha256
            self.createdAt = createdAt
            self.personID = personID
        }
    }

    /// A console sign-in: the cookie holds the secret, the cluster its SHA-256. The role is not kept here: it is
    /// read from the person or the token at every request, so a role change or a revoked token takes effect at once.
    public struct Session: Codable, Sendable, Equatable {
        public let sha256: String
        /// Signed in with a password: the person.
        public let personID: String?
        /// Signed in with a pasted API token: the token's name.
        public let tokenName: String?
        public let openedAt: Int64
        public let expiresAt: Int64

        package init(sha256: String, personID: String?, tokenName: String?, openedAt: Int64, expiresAt: Int64) {
            self.sha256 = sha256
            self.personID = personID
            self.tokenName = tokenName
            self.openedAt = openedAt
            self.expiresAt = expiresAt
        }
    }

    /// A one-time link to set a console password: the link holds the secret, the cluster its SHA-256.
    public struct PasswordReset: Codable, Sendable, Equatable {
        public let personID: String
        public let expiresAt: Int64

        package init(personID: String, expiresAt: Int64) {
            self.personID = personID
            self.expiresAt = expiresAt
        }
    }

    /// An iCal feed of on-call shifts at a secret URL: of one schedule, or of one person across every schedule.
    public struct CalendarFeed: Codable, Sendable, Equatable {
        /// The name it is listed and revoked by.
        public let id: String
        public let sha256: String
        public let scheduleID: String?
        public let personID: String?
        public let createdAt: Int64

        package init(id: String, sha256: String, scheduleID: String?, personID: String?, createdAt: Int64) {
            self.id = id
            self.sha256 = sha256
            self.scheduleID = scheduleID
            self.personID = personID
            self.createdAt = createdAt
        }
    }

    public static let maximumTokens = 1_000
    public static let maximumCalendarFeeds = 1_000
    public static let maximumResetMilliseconds: Int64 = 7 * 24 * 3_600_000
    public static let maximumSessions = 10_000
    public static let maximumSessionMilliseconds: Int64 = 30 * 24 * 3_600_000

    public private(set) var records: [String: Record] = [:]
    /// sha256 → name: a hash is registered once.
    private var byHash: [String: String] = [:]
    /// Open console sessions by the SHA-256 of their secret.
    public private(set) var sessions: [String: Session] = [:]
    /// Person id → bcrypt hash of their console password.
    public private(set) var passwords: [String: String] = [:]
    /// Open set-password links by the SHA-256 of their secret; at most one per person.
    public private(set) var passwordResets: [String: PasswordReset] = [:]
    /// Calendar feeds by id.
    public private(set) var calendarFeeds: [String: CalendarFeed] = [:]

    public init() {}

    public mutating func apply(_ command: TokenCommand) -> TokenOutcome {
        switch command {
        case let .create(name, role, sha256, createdAt, personID):
            if let problem = Self.nameProblem(name) { return .rejected(field: "name", problem) }
            guard sha256.count == 64, sha256.allSatisfy(\.isHexDigit) else { return .rejected(field: "sha256", "must be 64 hex digits") }
            guard records[name] == nil else { return .conflict("a token named '\(name)' exists; revoke it first") }
            guard byHash[sha256] == nil else { return .conflict("this token is already registered") }
            guard records.count < Self.maximumTokens else { return .rejected(field: "name", "at most \(Self.maximumTokens) tokens") }
            let record = Record(name: name, role: role, sha256: sha256, createdAt: createdAt, personID: personID)
            records[name] = record
            byHash[sha256] = name
            return .created(record)
        case let .revoke(name):
            guard let record = records.removeValue(forKey: name) else { return .notFound(name) }
            byHash[record.sha256] = nil
            // A console session opened with this token ends with it.
            sessions = sessions.filter { $0.value.tokenName != name }
            return .revoked(name)
        case let .setPassword(personID, bcrypt):
            guard bcrypt.utf8.count == 60, bcrypt.hasPrefix("$2") else { return .rejected(field: "password", "not a bcrypt hash") }
            passwords[personID] = bcrypt
            // A new password ends the person's other sessions, as a reset should.
            sessions = sessions.filter { $0.value.personID != personID }
            return .passwordSet(personID)
        case let .removePassword(personID):
            guard passwords.removeValue(forKey: personID) != nil else { return .notFound(personID) }
            sessions = sessions.filter { $0.value.personID != personID }
            return .passwordRemoved(personID)
        case let .openSession(session):
            guard session.sha256.count == 64, session.sha256.allSatisfy(\.isHexDigit) else { return .rejected(field: "sha256", "must be 64 hex digits") }
            guard (session.personID == nil) != (session.tokenName == nil) else {
                return .rejected(field: "session", "a session belongs to a person or to a token, exactly one")
            }
            guard session.expiresAt > session.openedAt, session.expiresAt - session.openedAt <= Self.maximumSessionMilliseconds else {
                return .rejected(field: "expires_at", "a session lasts at most 30 days")
            }
            if let tokenName = session.tokenName, records[tokenName] == nil { return .notFound(tokenName) }
            guard sessions[session.sha256] == nil else { return .conflict("this session is already open") }
            // Expired sessions go when a new one opens: the proposer's clock, the same on every replica.
            sessions = sessions.filter { $0.value.expiresAt > session.openedAt }
            guard sessions.count < Self.maximumSessions else { return .rejected(field: "session", "at most \(Self.maximumSessions) open sessions") }
            sessions[session.sha256] = session
            return .sessionOpened(session)
        case let .closeSession(sha256):
            guard sessions.removeValue(forKey: sha256) != nil else { return .notFound("session") }
            return .sessionClosed
        case let .openPasswordReset(sha256, personID, openedAt, expiresAt):
            guard sha256.count == 64, sha256.allSatisfy(\.isHexDigit) else { return .rejected(field: "sha256", "must be 64 hex digits") }
            guard expiresAt > openedAt, expiresAt - openedAt <= Self.maximumResetMilliseconds else {
                return .rejected(field: "expires_at", "a set-password link lasts at most 7 days")
            }
            // A new link replaces the person's earlier one; expired links go.
            passwordResets = passwordResets.filter { $0.value.personID != personID && $0.value.expiresAt > openedAt }
            guard passwordResets.count < Self.maximumSessions else { return .rejected(field: "person_id", "too many open links") }
            passwordResets[sha256] = PasswordReset(personID: personID, expiresAt: expiresAt)
            return .passwordResetOpened(personID)
        case let .usePasswordReset(sha256, bcrypt, at):
            guard let reset = passwordResets[sha256], reset.expiresAt > at else { return .notFound("link") }
            guard bcrypt.utf8.count == 60, bcrypt.hasPrefix("$2") else { return .rejected(field: "password", "not a bcrypt hash") }
            passwordResets[sha256] = nil
            passwords[reset.personID] = bcrypt
            sessions = sessions.filter { $0.value.personID != reset.personID }
            return .passwordSet(reset.personID)
        case let .createCalendarFeed(feed):
            if let problem = Self.nameProblem(feed.id) { return .rejected(field: "id", problem.replacingOccurrences(of: "token", with: "feed")) }
            guard feed.sha256.count == 64, feed.sha256.allSatisfy(\.isHexDigit) else { return .rejected(field: "sha256", "must be 64 hex digits") }
            guard (feed.scheduleID == nil) != (feed.personID == nil) else {
                return .rejected(field: "schedule_id", "a feed is of a schedule or of a person, exactly one")
            }
            guard calendarFeeds[feed.id] == nil else { return .conflict("a feed named '\(feed.id)' exists; revoke it first") }
            guard calendarFeeds.count < Self.maximumCalendarFeeds else { return .rejected(field: "id", "at most \(Self.maximumCalendarFeeds) feeds") }
            calendarFeeds[feed.id] = feed
            return .calendarFeedCreated(feed)
        case let .revokeCalendarFeed(id):
            guard calendarFeeds.removeValue(forKey: id) != nil else { return .notFound(id) }
            return .calendarFeedRevoked(id)
        }
    }

    package static func nameProblem(_ name: String) -> String? {
        guard !name.isEmpty, name.utf8.count <= 64,
              name.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)) })
        else { return "a token name has 1–64 ASCII letters, digits, '.', '_' or '-'" }
        return nil
    }

    enum CodingKeys: String, CodingKey { case records, sessions, passwords, passwordResets, calendarFeeds }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        records = try container.decode([String: Record].self, forKey: .records)
        byHash = Dictionary(uniqueKeysWithValues: records.values.map { ($0.sha256, $0.name) })
        // Absent in snapshots written before the console (0.9).
        sessions = try container.decodeIfPresent([String: Session].self, forKey: .sessions) ?? [:]
        passwords = try container.decodeIfPresent([String: String].self, forKey: .passwords) ?? [:]
        passwordResets = try container.decodeIfPresent([String: PasswordReset].self, forKey: .passwordResets) ?? [:]
        calendarFeeds = try container.decodeIfPresent([String: CalendarFeed].self, forKey: .calendarFeeds) ?? [:]
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(records, forKey: .records)
        if !sessions.isEmpty { try container.encode(sessions, forKey: .sessions) }
        if !passwords.isEmpty { try container.encode(passwords, forKey: .passwords) }
        if !passwordResets.isEmpty { try container.encode(passwordResets, forKey: .passwordResets) }
        if !calendarFeeds.isEmpty { try container.encode(calendarFeeds, forKey: .calendarFeeds) }
    }
}

/// A replicated change to the token list; the leader generates the token and proposes only its hash.
public enum TokenCommand: Codable, Sendable, Equatable {
    case create(name: String, role: Role, sha256: String, createdAt: Int64, personID: String?)
    case revoke(name: String)
    /// The leader hashes the password before proposing: the log holds only the bcrypt hash.
    case setPassword(personID: String, bcrypt: String)
    case removePassword(personID: String)
    case openSession(TokenRegistry.Session)
    case closeSession(sha256: String)
    case openPasswordReset(sha256: String, personID: String, openedAt: Int64, expiresAt: Int64)
    /// Sets the password of the link's person and closes the link; `at` is the proposer's clock.
    case usePasswordReset(sha256: String, bcrypt: String, at: Int64)
    case createCalendarFeed(TokenRegistry.CalendarFeed)
    case revokeCalendarFeed(id: String)
}

/// What a token command did.
public enum TokenOutcome: Sendable, Equatable {
    case created(TokenRegistry.Record)
    case revoked(String)
    case passwordSet(String)
    case passwordRemoved(String)
    case sessionOpened(TokenRegistry.Session)
    case sessionClosed
    case passwordResetOpened(String)
    case calendarFeedCreated(TokenRegistry.CalendarFeed)
    case calendarFeedRevoked(String)
    case notFound(String)
    case conflict(String)
    case rejected(field: String, String)
}
