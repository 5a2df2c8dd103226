import Testing
@testable import DutyModel

@Suite struct KnowledgeBaseTests {
    static let tokenCases: [(String, [String])] = [
        ("Reset my Password!", ["reset", "password"]),
        ("密码重置", ["密码", "码重", "重置"]),
        ("VPN 无法连接", ["vpn", "无法", "法连", "连接"]),
        ("登", ["登"]),
        ("error 404 页面", ["error", "404", "页面"]),
    ]

    @Test(arguments: tokenCases)
    func tokenizer(text: String, expected: [String]) {
        #expect(TextTokenizer.terms(text) == expected)
    }

    func seeded() throws -> DutyState {
        var state = try Fixture.state()
        let articles = [
            ArticleDraft(id: "pwd-en", title: "How to reset your password", body: "Open the login page and click reset password.", category: "account"),
            ArticleDraft(id: "pwd-zh", title: "如何重置密码", body: "打开登录页面，点击重置密码。", category: "account"),
            ArticleDraft(id: "pay-zh", title: "支付失败怎么办", body: "检查银行卡余额后重新支付。", category: "billing"),
        ]
        for article in articles { try Fixture.ok(&state, .upsertArticle(article), at: Fixture.t0) }
        return state
    }

    @Test func searchWorksInEnglishAndChinese() throws {
        let state = try seeded()
        #expect(state.knowledgeBase.search("password reset", limit: 3).first?.articleID == "pwd-en")
        #expect(state.knowledgeBase.search("我忘记了密码，需要重置", limit: 3).first?.articleID == "pwd-zh")
        #expect(state.knowledgeBase.search("银行卡支付不了", limit: 3).first?.articleID == "pay-zh")
        #expect(state.knowledgeBase.search("weather tomorrow", limit: 3).isEmpty)
        #expect(state.knowledgeBase.categories == ["account", "billing"])
    }

    @Test func registeringATicketSuggestsArticles() throws {
        var state = try seeded()
        let events = try Fixture.ok(&state, .registerTicket(NewTicket(kind: .consultation, priority: .p3, title: "忘记密码怎么重置", serviceID: "helpdesk")), at: Fixture.t0)
        #expect(events.contains { $0.kind == .articlesSuggested(1, articleIDs: ["pwd-zh"]) })
        #expect(state.ticket(1)?.suggestedArticleIDs == ["pwd-zh"])
    }

    @Test func articlesAreVersionedAndCountHits() throws {
        var state = try seeded()
        try Fixture.ok(&state, .recordArticleHit(articleID: "pwd-en"), at: Fixture.t0)
        try Fixture.ok(&state, .upsertArticle(ArticleDraft(id: "pwd-en", title: "Reset a password", body: "Updated.", category: "account")), at: Fixture.t0)
        #expect(state.knowledgeBase.articles["pwd-en"]?.version == 2)
        #expect(state.knowledgeBase.articles["pwd-en"]?.hitCount == 1)
        #expect(Fixture.failure(&state, .recordArticleHit(articleID: "none"), at: Fixture.t0)?.reason == .notFound)
    }

    @Test func frequentQuestionsReportGroupsTicketsByArticle() throws {
        var state = try seeded()
        for title in ["密码忘了", "重置密码失败", "支付失败", "password reset please", "如何重置密码"] {
            _ = try Fixture.register(&state, title: title)
        }
        let report = try DutyReport.frequentQuestions(state, from: Fixture.t0, to: Fixture.t0 + 1, limit: 2)
        #expect(report.map(\.articleID) == ["pwd-zh", "pay-zh"])
        #expect(report.map(\.ticketCount) == [3, 1])
    }
}
