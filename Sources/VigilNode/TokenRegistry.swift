import DutyModel
import Foundation

/// The replicated list of API tokens: name, role and the token's SHA-256, never the token itself.
public struct TokenRegistry: Codable, Sendable, Equatable {
    /// One issued token.
    public struct Record: Codable, Sendable, Equatable {
        public let name: String
        public let role: Role
        public let sha256: String
        public let createdAt: Int64
        /// The person acting with this token; their id is the actor in the audit trail (S6, S16).
        public let personID: String?
    }

    public static let maximumTokens = 1_000

    public private(set) var records: [String: Record] = [:]
    /// sha256 → name: a hash is registered once.
    private var byHash: [String: String] = [:]

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
            return .revoked(name)
        }
    }

    static func nameProblem(_ name: String) -> String? {
        guard !name.isEmpty, name.utf8.count <= 64,
              name.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)) })
        else { return "a token name has 1–64 ASCII letters, digits, '.', '_' or '-'" }
        return nil
    }

    enum CodingKeys: String, CodingKey { case records }

    public init(from decoder: any Decoder) throws {
        records = try decoder.container(keyedBy: CodingKeys.self).decode([String: Record].self, forKey: .records)
        byHash = Dictionary(uniqueKeysWithValues: records.values.map { ($0.sha256, $0.name) })
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(records, forKey: .records)
    }
}

/// A replicated change to the token list; the leader generates the token and proposes only its hash.
public enum TokenCommand: Codable, Sendable, Equatable {
    case create(name: String, role: Role, sha256: String, createdAt: Int64, personID: String?)
    case revoke(name: String)
}

/// What a token command did.
public enum TokenOutcome: Sendable, Equatable {
    case created(TokenRegistry.Record)
    case revoked(String)
    case notFound(String)
    case conflict(String)
    case rejected(field: String, String)
}
