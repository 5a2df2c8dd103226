import Foundation
import Testing
@testable import Paging

@Suite struct WebhookSignatureTests {
    let secret = Fixtures.webhookSecret
    let body = Array(#"{"hello":"world"}"#.utf8)
    let now = Date(timeIntervalSince1970: 1_790_000_000)

    @Test func matchesAnIndependentHMAC() throws {
        // Computed with: printf '1790000000.{"hello":"world"}' | openssl dgst -sha256 -hmac test-webhook-secret-0123456789
        let header = WebhookSignature.header(body: body, secret: secret, timestampSeconds: 1_790_000_000)
        #expect(header == "t=1790000000,v1=\(try Self.opensslHMAC("1790000000.{\"hello\":\"world\"}", key: "test-webhook-secret-0123456789"))")
        try WebhookSignature.verify(header: header, body: body, secret: secret, now: now)
    }

    @Test func refusesTamperedBodiesWrongSecretsAndOldOrFutureTimes() throws {
        let header = WebhookSignature.header(body: body, secret: secret, timestampSeconds: 1_790_000_000)
        #expect(throws: WebhookSignatureError.signatureMismatch) {
            try WebhookSignature.verify(header: header, body: Array(#"{"hello":"World"}"#.utf8), secret: secret, now: now)
        }
        #expect(throws: WebhookSignatureError.signatureMismatch) {
            try WebhookSignature.verify(header: header, body: body, secret: Array("another-secret-0123456789".utf8), now: now)
        }
        #expect(throws: WebhookSignatureError.timestampOutsideTolerance(signedAtSeconds: 1_790_000_000, nowSeconds: 1_790_000_301)) {
            try WebhookSignature.verify(header: header, body: body, secret: secret, now: now.addingTimeInterval(301))
        }
        #expect(throws: WebhookSignatureError.self) {
            try WebhookSignature.verify(header: header, body: body, secret: secret, now: now.addingTimeInterval(-301))
        }
    }

    @Test(arguments: ["", "t=1", "v1=00", "t=x,v1=00", "t=1790000000,v1=zz", "t=1790000000,v1=abcd", "garbage",
                      "t=1790000000,t=1790000000,v1=" + String(repeating: "0", count: 64)])
    func refusesMalformedHeaders(header: String) {
        #expect(throws: WebhookSignatureError.malformedHeader) {
            try WebhookSignature.verify(header: header, body: body, secret: secret, now: now)
        }
    }

    @Test func acceptsAnyMatchingV1SoSecretsCanRotate() throws {
        let old = WebhookSignature.header(body: body, secret: Array("old-secret-0123456789abcdef".utf8), timestampSeconds: 1_790_000_000)
        let new = WebhookSignature.header(body: body, secret: secret, timestampSeconds: 1_790_000_000)
        let both = old + "," + new.split(separator: ",")[1]
        try WebhookSignature.verify(header: both, body: body, secret: secret, now: now)
    }

    static func opensslHMAC(_ message: String, key: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["dgst", "-sha256", "-hmac", key, "-r"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(message.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(String(decoding: data, as: UTF8.self).prefix(64))
    }
}
