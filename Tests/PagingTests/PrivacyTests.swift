import VigilTestSupport
import Foundation
import Logging
import Synchronization
import Testing
@testable import Paging

/// Log lines and outcome details never carry addresses, phone numbers or secrets, even when the receiver
/// echoes them back in its answer.
@Suite struct PrivacyTests {
    /// Collects every log line (message and metadata) at every level.
    final class RecordingLogHandler: LogHandler, @unchecked Sendable {
        let lines = Mutex<[String]>([])
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            lines.withLock { $0.append("\(event.level) \(event.message) \(all) \(event.error.map { "\($0)" } ?? "")") }
        }
    }

    @Test func gatewayEmailAndExecFailuresLogNoAddressOrSecret() async throws {
        let recorder = RecordingLogHandler()
        let logger = Logger(label: "privacy") { _ in recorder }
        let phone = "+49 151 2345 6789"
        let email = "reject-carol.private@example.com"
        var results: [DeliveryResult] = []

        let sink = try await HTTPSink.start([.status(503), .status(400)])
        let client = PagingHTTPClient.make()
        let gateway = try GatewayChannel(kind: "sms", configuration: GatewayConfiguration(
            urlTemplate: sink.url + "?to={{to}}", body: .form([.init("to", "{{to}}"), .init("text", "{{text}}")]),
            headers: [.init("Authorization", "Bearer gateway-api-key")], retryPolicy: Fixtures.fastRetries), client: client, logger: logger)
        results.append(await gateway.send(Fixtures.page(), to: phone))
        let webhook = try WebhookChannel(configuration: WebhookConfiguration(secret: Fixtures.webhookSecret, retryPolicy: Fixtures.fastRetries),
                                         client: client, logger: logger)
        let secretURL = "http://127.0.0.1:\(try Fixtures.closedPort())/services/T000/B000/XXXXsecretpath"
        results.append(await webhook.send(Fixtures.page(), to: secretURL))
        try await client.shutdown()
        await sink.stop()

        let smtp = try await SMTPSink.start()
        defer { smtp.stop() }
        let channel = try EmailChannel(configuration: EmailConfiguration(
            smtp: SMTPConfiguration(host: "127.0.0.1", port: smtp.port, credentials: nil), fromAddress: "pager@vigil.example",
            retryPolicy: Fixtures.fastRetries), logger: logger)
        results.append(await channel.send(Fixtures.page(), to: email))

        let exec = try ExecChannel(configuration: ExecConfiguration(executablePath: "/bin/sh", arguments: ["-c", "cat; exit 2"]), logger: logger)
        results.append(await exec.send(Fixtures.page(), to: phone))

        let lines = recorder.lines.withLock { $0 }
        #expect(lines.count >= 6)
        let texts = lines + results.map(\.description)
        for secret in [phone, "2345", email, "carol.private", "XXXXsecretpath", "gateway-api-key", "test-webhook-secret"] {
            #expect(!texts.contains { $0.contains(secret) }, "'\(secret)' leaked")
        }
        #expect(results.allSatisfy { !$0.isDelivered })
    }
}
