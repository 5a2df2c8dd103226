import Crypto
import Foundation

/// Why an acknowledgement token was refused.
public enum AckLinkError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not a token this signer could have made (bad characters, wrong length, cut short).
    case malformed(String)
    /// Made by a newer format this node does not know.
    case unsupportedVersion(UInt8)
    /// The signature does not match: altered, or signed with a secret this node does not hold.
    case tampered
    /// Genuine but past its expiry.
    case expired(expiresAtSeconds: Int64)

    public var description: String {
        switch self {
        case let .malformed(reason): return "malformed acknowledgement link: \(reason)"
        case let .unsupportedVersion(version): return "acknowledgement link of unknown version \(version)"
        case .tampered: return "acknowledgement link has an invalid signature"
        case let .expired(expiresAtSeconds): return "acknowledgement link expired at \(expiresAtSeconds) (Unix seconds)"
        }
    }
}

/// Makes and checks the signed, expiring tokens of acknowledgement links (`/ack/{token}`).
///
/// A token is URL-safe base64 (no padding) of: version (1 byte), action (1), expiry in Unix seconds (8,
/// big-endian), ticket id (8), key length (2) and the idempotency key, followed by HMAC-SHA256 of all
/// of that under the cluster's ack secret (32 bytes). Every node holds the secret, so a link works on
/// any node; no state is needed to check it. The idempotency key ties an acknowledgement to the page
/// that carried it, for the audit trail.
public struct AckLinkSigner: Sendable {
    /// What following the link does.
    public enum Action: UInt8, Sendable, Equatable {
        case acknowledge = 1
        case resolve = 2
        /// Opens the customer's satisfaction page (S13); never acknowledges or resolves.
        case feedback = 3
    }

    /// What a verified token says.
    public struct Claims: Sendable, Equatable {
        public let ticketID: Int
        public let idempotencyKey: String
        public let action: Action
        public let expiresAtSeconds: Int64
    }

    public static let minSecretBytes = 32
    /// Longest token `verify` looks at; anything longer is refused before decoding.
    public static let maxTokenCharacters = 1_024
    static let version: UInt8 = 1
    static let macBytes = SHA256.byteCount
    static let headerBytes = 1 + 1 + 8 + 8 + 2

    private let signingKey: SymmetricKey
    private let verificationKeys: [SymmetricKey]
    /// Where links point: the cluster's public URL, without a trailing slash.
    public let baseURL: String

    /// Signs with `secret`; also accepts tokens signed with `previousSecrets`, so the secret can be rotated
    /// without breaking links already sent.
    public init(secret: [UInt8], previousSecrets: [[UInt8]] = [], baseURL: String) throws(PagingConfigurationError) {
        guard secret.count >= Self.minSecretBytes, previousSecrets.allSatisfy({ $0.count >= Self.minSecretBytes }) else {
            throw PagingConfigurationError("ack.secret", "every ack secret must be at least \(Self.minSecretBytes) bytes")
        }
        let trimmed = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        guard PageMessage.isWebLink(trimmed), URLComponents(string: trimmed)?.host?.isEmpty == false else {
            throw PagingConfigurationError("ack.baseURL", "must be an http(s) URL with a host")
        }
        signingKey = SymmetricKey(data: secret)
        verificationKeys = [signingKey] + previousSecrets.map { SymmetricKey(data: $0) }
        self.baseURL = trimmed
    }

    /// A token for `ticketID` and the page's `idempotencyKey`, valid until `expiresAt`.
    public func token(ticketID: Int, idempotencyKey: String, action: Action = .acknowledge, expiresAt: Date) -> String {
        var bytes: [UInt8] = [Self.version, action.rawValue]
        Self.append(Int64(expiresAt.timeIntervalSince1970.rounded(.down)), to: &bytes)
        Self.append(Int64(ticketID), to: &bytes)
        // Keys are at most PageMessage.maxIdempotencyKeyBytes; cut defensively so the length fits 2 bytes.
        let key = Array(idempotencyKey.utf8.prefix(Int(UInt16.max)))
        bytes.append(UInt8(key.count >> 8))
        bytes.append(UInt8(key.count & 0xFF))
        bytes += key
        bytes += Array(HMAC<SHA256>.authenticationCode(for: bytes, using: signingKey))
        return Self.base64URL(bytes)
    }

    /// `baseURL/ack/<token>`.
    public func url(ticketID: Int, idempotencyKey: String, action: Action = .acknowledge, expiresAt: Date) -> String {
        "\(baseURL)/ack/\(token(ticketID: ticketID, idempotencyKey: idempotencyKey, action: action, expiresAt: expiresAt))"
    }

    /// `baseURL/feedback/<token>`: the customer's rating page for the ticket.
    public func feedbackURL(ticketID: Int, idempotencyKey: String, expiresAt: Date) -> String {
        "\(baseURL)/feedback/\(token(ticketID: ticketID, idempotencyKey: idempotencyKey, action: .feedback, expiresAt: expiresAt))"
    }

    /// Checks the signature first (in constant time, against the current and previous secrets), then the
    /// expiry, so an altered token is reported as tampered whatever its claimed expiry.
    public func verify(_ token: String, now: Date = Date()) throws(AckLinkError) -> Claims {
        guard token.count <= Self.maxTokenCharacters else { throw .malformed("longer than \(Self.maxTokenCharacters) characters") }
        guard let bytes = Self.decodeBase64URL(token) else { throw .malformed("not URL-safe base64") }
        guard bytes.count >= Self.headerBytes + Self.macBytes else { throw .malformed("too short") }
        let signed = Array(bytes[..<(bytes.count - Self.macBytes)])
        let mac = Array(bytes[(bytes.count - Self.macBytes)...])
        guard verificationKeys.contains(where: { HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: signed, using: $0) }) else {
            throw .tampered
        }
        guard signed[0] == Self.version else { throw .unsupportedVersion(signed[0]) }
        guard let action = Action(rawValue: signed[1]) else { throw .malformed("unknown action \(signed[1])") }
        let expiresAtSeconds = Self.readInt64(signed, at: 2)
        let ticketID = Self.readInt64(signed, at: 10)
        let keyLength = Int(signed[18]) << 8 | Int(signed[19])
        guard signed.count == Self.headerBytes + keyLength else { throw .malformed("length does not match its key") }
        guard let key = String(validating: signed[Self.headerBytes...], as: UTF8.self) else { throw .malformed("key is not UTF-8") }
        guard Int64(now.timeIntervalSince1970.rounded(.down)) < expiresAtSeconds else { throw .expired(expiresAtSeconds: expiresAtSeconds) }
        guard let ticket = Int(exactly: ticketID) else { throw .malformed("ticket id out of range") }
        return Claims(ticketID: ticket, idempotencyKey: key, action: action, expiresAtSeconds: expiresAtSeconds)
    }

    // MARK: encoding

    private static func append(_ value: Int64, to bytes: inout [UInt8]) {
        let bits = UInt64(bitPattern: value)
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
    }

    private static func readInt64(_ bytes: [UInt8], at offset: Int) -> Int64 {
        var bits: UInt64 = 0
        for index in offset..<(offset + 8) { bits = bits << 8 | UInt64(bytes[index]) }
        return Int64(bitPattern: bits)
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Strict: only the URL-safe alphabet, no padding, no whitespace.
    static func decodeBase64URL(_ text: String) -> [UInt8]? {
        guard !text.isEmpty, text.utf8.count % 4 != 1 else { return nil }
        guard text.utf8.allSatisfy({ byte in
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }) else { return nil }
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        standard += String(repeating: "=", count: (4 - standard.utf8.count % 4) % 4)
        guard let data = Data(base64Encoded: standard) else { return nil }
        return Array(data)
    }
}
