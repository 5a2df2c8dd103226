import Crypto
import Foundation
import Paging

/// Bearer tokens of the client API. Only their SHA-256 is stored (in the Raft log and in configs): tokens
/// are 256 random bits, so a fast hash is enough — there is nothing to brute-force.
public enum APIToken {
    public static let prefix = "vgl_"

    /// A new random token: `vgl_` and 43 base64url characters.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let text = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return prefix + text
    }

    /// Lower-case hex SHA-256 of the token's UTF-8 bytes. Runs on every request, so no `String(format:)` (it cost
    /// the leader 9 % of its CPU under load, issue 13).
    public static func sha256Hex(_ token: String) -> String {
        WebhookSignature.hex(Array(SHA256.hash(data: Data(token.utf8))))
    }
}
