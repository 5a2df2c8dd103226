/// The FAQ articles and their search (S11).
public struct KnowledgeBase: Codable, Sendable, Equatable {
    public internal(set) var articles: [String: Article] = [:]

    /// A scored search hit.
    public struct Match: Sendable, Equatable {
        public let articleID: String
        public let score: Int
    }

    /// Best matches first; ties broken by id so every replica suggests the same articles.
    public func search(_ query: String, limit: Int, minimumScore: Int = 2) -> [Match] {
        // Every ticket registered asks; without articles the tokenizing is all the cost.
        guard !articles.isEmpty else { return [] }
        let terms = Set(TextTokenizer.terms(query))
        guard !terms.isEmpty, limit > 0 else { return [] }
        var matches: [Match] = []
        for article in articles.values {
            let score = article.score(distinctTerms: terms)
            if score >= minimumScore { matches.append(Match(articleID: article.id, score: score)) }
        }
        matches.sort { ($0.score, $1.articleID) > ($1.score, $0.articleID) }
        // Weak matches next to a strong one are noise (a shared word like "how").
        let cutoff = (matches.first?.score ?? 0) / 2
        return Array(matches.prefix { $0.score > cutoff }.prefix(limit))
    }

    /// Categories in use, alphabetically.
    public var categories: [String] { Set(articles.values.map(\.category)).sorted() }
}
