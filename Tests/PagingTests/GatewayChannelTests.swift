import VigilTestSupport
import Foundation
import Testing
@testable import Paging

/// The SMS/voice gateway channel: operator templates rendered into real requests to the HTTP sink.
@Suite struct GatewayChannelTests {
    static func formValues(_ text: String) -> [String: String] {
        var components = URLComponents()
        components.percentEncodedQuery = text.replacingOccurrences(of: "+", with: "%20")
        return Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { a, _ in a })
    }

    @Test func postsAFormWithEscapedValuesAndHeadersAndRetriesA500() async throws {
        let sink = try await HTTPSink.start([.status(500)])
        let client = PagingHTTPClient.make()
        let configuration = GatewayConfiguration(
            urlTemplate: sink.url, method: .post,
            body: .form([.init("To", "{{to}}"), .init("Body", "{{text}}"), .init("Ref", "{{key}}")]),
            headers: [.init("Authorization", "Bearer sms-api-key")], retryPolicy: Fixtures.fastRetries)
        let channel = try GatewayChannel(kind: "sms", configuration: configuration, client: client)
        let page = Fixtures.page(title: "CPU 100% & rising = bad")
        let result = await channel.send(page, to: "+49 151 0000 0000")
        try await client.shutdown()
        await sink.stop()
        #expect(result == .delivered(attempts: 2))
        let request = try #require(sink.requests.last)
        #expect(request.header("Content-Type") == "application/x-www-form-urlencoded")
        #expect(request.header("Authorization") == "Bearer sms-api-key")
        #expect(request.header("Idempotency-Key") == page.idempotencyKey)
        let form = Self.formValues(request.bodyText)
        #expect(form["To"] == "+49 151 0000 0000")
        #expect(form["Ref"] == page.idempotencyKey)
        #expect(form["Body"] == "Vigil P1 #42 CPU 100% & rising = bad (payments) ack: https://vigil.example/ack/ack-token")
    }

    @Test func postsJSONFromATemplateWithValuesEscapedInsideTheQuotes() async throws {
        let sink = try await HTTPSink.start()
        let client = PagingHTTPClient.make()
        let configuration = GatewayConfiguration(
            urlTemplate: sink.url, method: .put,
            body: .json(#"{"to": "{{to}}", "message": "{{title}}", "ack": "{{ack_url}}", "ticket": {{ticket_id}}}"#),
            retryPolicy: Fixtures.fastRetries)
        // A number placeholder outside quotes renders the sample text, so this template is refused...
        #expect(throws: PagingConfigurationError.self) { try GatewayChannel(configuration: configuration, client: client) }
        var quoted = configuration
        quoted.body = .json(#"{"to": "{{to}}", "message": "{{title}}", "ack": "{{ack_url}}", "ticket": "{{ticket_id}}"}"#)
        let channel = try GatewayChannel(configuration: quoted, client: client)
        let title = "quote \" backslash \\ newline \n tab \t end"
        let result = await channel.send(Fixtures.page(title: title), to: "+15550100")
        try await client.shutdown()
        await sink.stop()
        #expect(result == .delivered(attempts: 1))
        let request = try #require(sink.requests.first)
        #expect(request.method == "PUT")
        let json = request.json()
        #expect(json["to"] as? String == "+15550100")
        #expect(json["message"] as? String == "quote \" backslash \\ newline   tab   end", "control characters become spaces")
        #expect(json["ack"] as? String == "https://vigil.example/ack/ack-token")
        #expect(json["ticket"] as? String == "42")
    }

    @Test func getsWithPercentEncodedQueryValues() async throws {
        let sink = try await HTTPSink.start()
        let client = PagingHTTPClient.make()
        let configuration = GatewayConfiguration(
            urlTemplate: "http://127.0.0.1:\(sink.port)/send?to={{to}}&msg={{text}}&key={{key}}", method: .get,
            textTemplate: "{{priority}} {{title}}", retryPolicy: Fixtures.fastRetries)
        let result = await (try GatewayChannel(kind: "voice", configuration: configuration, client: client))
            .send(Fixtures.page(title: "a&b=c?d #e"), to: "+1 (555) 0100")
        try await client.shutdown()
        await sink.stop()
        #expect(result == .delivered(attempts: 1))
        let request = try #require(sink.requests.first)
        #expect(request.method == "GET")
        let items = URLComponents(string: request.uri)?.queryItems ?? []
        #expect(items.first { $0.name == "to" }?.value == "+1 (555) 0100")
        #expect(items.first { $0.name == "msg" }?.value == "P1 a&b=c?d #e")
        #expect(items.first { $0.name == "key" }?.value == "ticket-42-step-0-alice-email")
    }

    @Test func shortensTheTitleSoTheAckLinkSurvivesTheTextLimit() throws {
        let client = PagingHTTPClient.make()
        defer { try? client.syncShutdown() }
        let configuration = GatewayConfiguration(urlTemplate: "http://127.0.0.1:9/x", body: .form([.init("m", "{{text}}")]), maxTextCharacters: 160)
        let channel = try GatewayChannel(configuration: configuration, client: client)
        let page = Fixtures.page(title: String(repeating: "very long title ", count: 40))
        let request = channel.makeRequest(page, to: "+15550100")
        let text = try #require(Self.formValues(String(decoding: request.body ?? [], as: UTF8.self))["m"])
        #expect(text.count <= 160)
        #expect(text.hasSuffix("ack: https://vigil.example/ack/ack-token"))
    }

    @Test(arguments: [
        ("url {{nope}}", "gateway.urlTemplate"),
        ("http://127.0.0.1/{{to}", "gateway.urlTemplate"),
        ("not a url {{to}}", "gateway.urlTemplate"),
    ])
    func refusesBadURLTemplates(template: String, setting: String) throws {
        let client = PagingHTTPClient.make()
        defer { try? client.syncShutdown() }
        #expect { try GatewayChannel(configuration: GatewayConfiguration(urlTemplate: template), client: client) } throws: { error in
            (error as? PagingConfigurationError)?.setting == setting
        }
    }

    @Test func refusesBodiesOnGetBadHeaderNamesAndTextThatRepeatsTheNumber() throws {
        let client = PagingHTTPClient.make()
        defer { try? client.syncShutdown() }
        let url = "http://127.0.0.1/send"
        #expect(throws: PagingConfigurationError.self) {
            try GatewayChannel(configuration: GatewayConfiguration(urlTemplate: url, method: .get, body: .json("{}")), client: client)
        }
        #expect(throws: PagingConfigurationError.self) {
            try GatewayChannel(configuration: GatewayConfiguration(urlTemplate: url, headers: [.init("Bad Header", "x")]), client: client)
        }
        #expect(throws: PagingConfigurationError.self) {
            try GatewayChannel(configuration: GatewayConfiguration(urlTemplate: url, textTemplate: "call {{to}}"), client: client)
        }
        #expect(throws: PagingConfigurationError.self) {
            try GatewayChannel(configuration: GatewayConfiguration(urlTemplate: url, body: .json(#"{"a": "{{text}}""#)), client: client)
        }
        let configuration = GatewayConfiguration(urlTemplate: url, headers: [.init("X-Api-Key", "secret-key")])
        #expect(!configuration.description.contains("secret-key"))
    }

    @Test func refusesAddressesWithControlCharacters() async throws {
        let client = PagingHTTPClient.make()
        let channel = try GatewayChannel(configuration: GatewayConfiguration(urlTemplate: "http://127.0.0.1:9/{{to}}"), client: client)
        let result = await channel.send(Fixtures.page(), to: "+1555\r\n0100")
        try await client.shutdown()
        #expect(result.attempts == 0)
        guard case .failed(.permanent, _, _) = result else { Issue.record("expected permanent"); return }
    }
}
