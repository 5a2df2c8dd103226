import Testing
@testable import Paging

@Suite struct PageMessageTests {
    static func sample(key: String = "ticket-42-step-0-alice-email", title: String = "Database down") -> PageMessage {
        PageMessage(ticketID: 42, title: title, priority: .p1, service: "payments",
                    escalationStepIndex: 0, escalationLevelIndex: 0, recipientPersonID: "alice",
                    idempotencyKey: key, ackURL: "https://vigil.example/ack/abc", resolveURL: "https://vigil.example/ack/def",
                    createdAtMilliseconds: 1_790_000_000_000)
    }

    @Test func cutsLongTitlesAndAcceptsAWellFormedPage() {
        let page = Self.sample(title: String(repeating: "x", count: 2_000))
        #expect(page.title.count == PageMessage.maxTitleCharacters)
        #expect(page.problem == nil)
    }

    @Test func refusesEmptyOrOverlongKeysAndNonWebLinks() {
        #expect(Self.sample(key: "").problem != nil)
        #expect(Self.sample(key: String(repeating: "k", count: 600)).problem != nil)
        let bad = PageMessage(ticketID: 1, title: "t", priority: .p2, service: "s", escalationStepIndex: 0, escalationLevelIndex: 0,
                              recipientPersonID: "p", idempotencyKey: "k", ackURL: "javascript:alert(1)", createdAtMilliseconds: 0)
        #expect(bad.problem != nil)
    }

    @Test func percentEncodesKeysForHeaders() {
        #expect(Self.sample(key: "ticket-1 ä%\r\n").headerSafeIdempotencyKey == "ticket-1%20%C3%A4%25%0D%0A")
    }
}
