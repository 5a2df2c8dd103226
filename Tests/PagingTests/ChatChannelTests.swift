import VigilTestSupport
import Foundation
import Testing
@testable import Paging

/// The Slack-compatible chat channel against the real HTTP sink.
@Suite struct ChatChannelTests {
    @Test func postsBlocksWithTitlePriorityServiceAndAckResolveButtonsAfterA503() async throws {
        let sink = try await HTTPSink.start([.status(503)])
        let client = PagingHTTPClient.make()
        let page = Fixtures.page(title: "Disk <full> & \"slow\"")
        let result = await (try ChatChannel(retryPolicy: Fixtures.fastRetries, client: client)).send(page, to: sink.url)
        try await client.shutdown()
        await sink.stop()
        #expect(result == .delivered(attempts: 2))
        let requests = sink.requests
        try #require(requests.count == 2)
        #expect(requests[1].header("Idempotency-Key") == page.idempotencyKey)

        let json = requests[1].json()
        let text = try #require(json["text"] as? String)
        #expect(text.contains("Disk &lt;full&gt; &amp; \"slow\""), "mrkdwn escapes &, < and >")
        #expect(text.contains("<https://vigil.example/ack/ack-token|Acknowledge>"))
        let blocks = try #require(json["blocks"] as? [[String: Any]])
        #expect(blocks.map { $0["type"] as? String } == ["header", "section", "actions", "context"])
        let header = try #require((blocks[0]["text"] as? [String: Any])?["text"] as? String)
        #expect(header == "P1 Disk <full> & \"slow\"", "plain_text is not escaped")
        let fields = try #require(blocks[1]["fields"] as? [[String: Any]]).compactMap { $0["text"] as? String }
        #expect(fields.contains("*Priority*\nP1"))
        #expect(fields.contains("*Service*\npayments"))
        #expect(fields.contains("*Ticket*\n#42"))
        #expect(fields.contains("*Escalation*\nlevel 1, step 2"))
        let buttons = try #require(blocks[2]["elements"] as? [[String: Any]])
        #expect(buttons.compactMap { $0["url"] as? String } == ["https://vigil.example/ack/ack-token", "https://vigil.example/ack/resolve-token"])
        #expect(buttons.compactMap { ($0["text"] as? [String: Any])?["text"] as? String } == ["Acknowledge", "Resolve"])
    }

    @Test func withoutAResolveLinkOnlyTheAckButtonAppears() throws {
        let object = try JSONSerialization.jsonObject(with: Data(ChatChannel.payload(Fixtures.page(resolveURL: nil)))) as? [String: Any]
        let blocks = try #require(object?["blocks"] as? [[String: Any]])
        #expect((blocks[2]["elements"] as? [[String: Any]])?.count == 1)
    }

    @Test func headerTextRespectsSlacksLimit() throws {
        let page = Fixtures.page(title: String(repeating: "t", count: 400))
        let object = try JSONSerialization.jsonObject(with: Data(ChatChannel.payload(page))) as? [String: Any]
        let blocks = try #require(object?["blocks"] as? [[String: Any]])
        #expect(((blocks[0]["text"] as? [String: Any])?["text"] as? String)?.count == 150)
    }

    @Test func a404IsPermanent() async throws {
        let sink = try await HTTPSink.start([.status(404)])
        let client = PagingHTTPClient.make()
        let result = await (try ChatChannel(retryPolicy: Fixtures.fastRetries, client: client)).send(Fixtures.page(), to: sink.url)
        try await client.shutdown()
        await sink.stop()
        #expect(result == .failed(.permanent, detail: "HTTP 404", attempts: 1))
    }
}
