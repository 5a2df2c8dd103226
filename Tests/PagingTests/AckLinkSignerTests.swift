import Foundation
import Testing
@testable import Paging

@Suite struct AckLinkSignerTests {
    static let secret = Array("ack-secret-0123456789-0123456789-abcdef".utf8)
    static let now = Date(timeIntervalSince1970: 1_790_000_000)
    static func signer(_ secret: [UInt8] = secret, previous: [[UInt8]] = []) throws -> AckLinkSigner {
        try AckLinkSigner(secret: secret, previousSecrets: previous, baseURL: "https://vigil.example/")
    }

    @Test(arguments: [AckLinkSigner.Action.acknowledge, .resolve])
    func roundTrips(action: AckLinkSigner.Action) throws {
        let signer = try Self.signer()
        let token = signer.token(ticketID: 42, idempotencyKey: "ticket-42-step-0-ålice-email", action: action,
                                 expiresAt: Self.now.addingTimeInterval(3_600))
        #expect(token.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }, "URL-safe, no padding")
        let claims = try signer.verify(token, now: Self.now)
        #expect(claims == AckLinkSigner.Claims(ticketID: 42, idempotencyKey: "ticket-42-step-0-ålice-email", action: action,
                                               expiresAtSeconds: 1_790_003_600))
        let url = signer.url(ticketID: 42, idempotencyKey: "k", expiresAt: Self.now.addingTimeInterval(60))
        #expect(url.hasPrefix("https://vigil.example/ack/"))
        #expect(try signer.verify(String(url.dropFirst("https://vigil.example/ack/".count)), now: Self.now).idempotencyKey == "k")
    }

    @Test func expires() throws {
        let signer = try Self.signer()
        let token = signer.token(ticketID: 7, idempotencyKey: "k", expiresAt: Self.now.addingTimeInterval(60))
        _ = try signer.verify(token, now: Self.now.addingTimeInterval(59))
        #expect(throws: AckLinkError.expired(expiresAtSeconds: 1_790_000_060)) { try signer.verify(token, now: Self.now.addingTimeInterval(60)) }
        #expect(throws: AckLinkError.expired(expiresAtSeconds: 1_790_000_060)) { try signer.verify(token, now: Self.now.addingTimeInterval(86_400)) }
    }

    @Test func everySingleCharacterChangeIsTamperingOrMalformed() throws {
        let signer = try Self.signer()
        let token = signer.token(ticketID: 42, idempotencyKey: "ticket-42-step-0", expiresAt: Self.now.addingTimeInterval(3_600))
        var characters = Array(token)
        for index in characters.indices {
            let original = characters[index]
            characters[index] = original == "A" ? "B" : "A"
            let altered = String(characters)
            characters[index] = original
            do {
                _ = try signer.verify(altered, now: Self.now)
                // The last character may carry unused base64 bits; the decoded bytes are then unchanged.
                #expect(index == characters.count - 1, "altered token at \(index) accepted")
            } catch {
                #expect(error == .tampered || { if case .malformed = error { return true }; return false }())
            }
        }
    }

    @Test func anExtendedExpiryIsTamperingNotExpiry() throws {
        let signer = try Self.signer()
        let token = signer.token(ticketID: 42, idempotencyKey: "k", expiresAt: Self.now.addingTimeInterval(-10))
        var bytes = try #require(AckLinkSigner.decodeBase64URL(token))
        bytes[9] &+= 100 // lowest byte of the expiry
        #expect(throws: AckLinkError.tampered) { try signer.verify(AckLinkSigner.base64URL(bytes), now: Self.now) }
    }

    @Test func anotherClustersSecretIsRefusedAndAPreviousSecretStillWorks() throws {
        let old = Array("old-ack-secret-0123456789-0123456789-xyz".utf8)
        let token = try Self.signer(old).token(ticketID: 1, idempotencyKey: "k", expiresAt: Self.now.addingTimeInterval(60))
        #expect(throws: AckLinkError.tampered) { try Self.signer().verify(token, now: Self.now) }
        #expect(try Self.signer(previous: [old]).verify(token, now: Self.now).ticketID == 1)
    }

    @Test(arguments: ["", "abc", "a=b", "AAAA+AAA", "AAAA/AAA", "AAAA AAA", String(repeating: "A", count: 2_000), "A"])
    func refusesMalformedTokens(token: String) throws {
        let signer = try Self.signer()
        #expect { try signer.verify(token, now: Self.now) } throws: { error in
            guard let error = error as? AckLinkError else { return false }
            if case .malformed = error { return true }
            return error == .tampered
        }
    }

    @Test func refusesShortSecretsAndBadBaseURLs() {
        #expect(throws: PagingConfigurationError.self) { try AckLinkSigner(secret: Array("short".utf8), baseURL: "https://x") }
        #expect(throws: PagingConfigurationError.self) { try AckLinkSigner(secret: Self.secret, baseURL: "vigil.example") }
        #expect(throws: PagingConfigurationError.self) {
            try AckLinkSigner(secret: Self.secret, previousSecrets: [Array("short".utf8)], baseURL: "https://x")
        }
    }
}
