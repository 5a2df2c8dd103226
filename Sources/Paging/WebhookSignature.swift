import Crypto
import Foundation

/// Why a webhook signature did not verify.
public enum WebhookSignatureError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The header is not `t=<seconds>,v1=<hex>[,v1=<hex>…]`.
    case malformedHeader
    /// The signed time is further from now than the tolerance (a replay or a wrong clock).
    case timestampOutsideTolerance(signedAtSeconds: Int64, nowSeconds: Int64)
    /// No `v1` value matches the body under the secret.
    case signatureMismatch

    public var description: String {
        switch self {
        case .malformedHeader: return "the \(WebhookSignature.headerName) header is not t=<unix seconds>,v1=<hex HMAC-SHA256>"
        case let .timestampOutsideTolerance(signed, now):
            return "the signature's time \(signed) is \(abs(now - signed)) s away from now (\(now))"
        case .signatureMismatch: return "the signature does not match the body"
        }
    }
}

/// The `X-Vigil-Signature` scheme (Stripe's): `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
///
/// The time is signed with the body so a captured request cannot be replayed later than the receiver's
/// tolerance; receivers use `verify` (or the same few lines in their language).
public enum WebhookSignature {
    public static let headerName = "X-Vigil-Signature"
    /// Longest header `verify` parses.
    public static let maxHeaderBytes = 1_024

    /// The header value for `body` signed at `timestampSeconds`.
    public static func header(body: [UInt8], secret: [UInt8], timestampSeconds: Int64) -> String {
        "t=\(timestampSeconds),v1=\(hex(mac(body: body, secret: secret, timestampSeconds: timestampSeconds)))"
    }

    /// Accepts the header if any `v1` matches (so a sender may sign with an old and a new secret during
    /// rotation) and its time is within `toleranceSeconds` of `now`. Comparison is constant-time.
    public static func verify(header: String, body: [UInt8], secret: [UInt8], now: Date = Date(),
                              toleranceSeconds: Int64 = 300) throws(WebhookSignatureError) {
        guard header.utf8.count <= maxHeaderBytes else { throw .malformedHeader }
        var timestamp: Int64?
        var signatures: [[UInt8]] = []
        for part in header.split(separator: ",", omittingEmptySubsequences: false) {
            let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2 else { throw .malformedHeader }
            switch pair[0] {
            case "t":
                guard timestamp == nil, let value = Int64(pair[1]), value >= 0 else { throw .malformedHeader }
                timestamp = value
            case "v1":
                guard let bytes = unhex(pair[1]), bytes.count == SHA256.byteCount else { throw .malformedHeader }
                signatures.append(bytes)
            default:
                continue // Unknown schemes (a future v2) are ignored, as Stripe does.
            }
        }
        guard let timestamp, !signatures.isEmpty else { throw .malformedHeader }
        let nowSeconds = Int64(now.timeIntervalSince1970.rounded(.down))
        guard abs(nowSeconds - timestamp) <= toleranceSeconds else {
            throw .timestampOutsideTolerance(signedAtSeconds: timestamp, nowSeconds: nowSeconds)
        }
        let key = SymmetricKey(data: secret)
        let signed = Array("\(timestamp).".utf8) + body
        // HMAC.isValidAuthenticationCode compares in constant time; == on bytes would not.
        guard signatures.contains(where: { HMAC<SHA256>.isValidAuthenticationCode($0, authenticating: signed, using: key) }) else {
            throw .signatureMismatch
        }
    }

    static func mac(body: [UInt8], secret: [UInt8], timestampSeconds: Int64) -> [UInt8] {
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: secret))
        hmac.update(data: Array("\(timestampSeconds).".utf8))
        hmac.update(data: body)
        return Array(hmac.finalize())
    }

    /// Lower-case hex, without Foundation formatting (the API hashes every request's token with it too).
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func unhex(_ text: Substring) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var out: [UInt8] = []
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }
}
