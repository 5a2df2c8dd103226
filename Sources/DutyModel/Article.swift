/// A knowledge-base answer (S11), versioned, with a hit count.
public struct Article: Codable, Sendable, Equatable {
    public let id: String
    public let title: String
    public let body: String
    public let category: String
    public let version: Int
    public let updatedAt: Timestamp
    public internal(set) var hitCount: Int
    /// term → weight (3 per title occurrence, plus body occurrences up to 3); precomputed so
    /// that suggesting articles for each new ticket is a lookup, not a re-tokenisation.
    let termWeights: [String: Int]

    init(id: String, title: String, body: String, category: String, version: Int, updatedAt: Timestamp, hitCount: Int) {
        self.id = id
        self.title = title
        self.body = body
        self.category = category
        self.version = version
        self.updatedAt = updatedAt
        self.hitCount = hitCount
        var weights: [String: Int] = [:]
        for term in Set(TextTokenizer.terms(title)) { weights[term, default: 0] += 3 }
        var bodyCounts: [String: Int] = [:]
        for term in TextTokenizer.terms(body) { bodyCounts[term, default: 0] += 1 }
        for (term, count) in bodyCounts { weights[term, default: 0] += min(count, 3) }
        termWeights = weights
    }

    /// Sum of weights of the distinct query terms found in this article.
    func score(distinctTerms: Set<String>) -> Int {
        distinctTerms.reduce(0) { $0 + (termWeights[$1] ?? 0) }
    }
}

/// What a command supplies; the model assigns the version.
public struct ArticleDraft: Codable, Sendable, Equatable {
    public let id: String
    public let title: String
    public let body: String
    public let category: String
    public init(id: String, title: String, body: String, category: String) {
        self.id = id
        self.title = title
        self.body = body
        self.category = category
    }

    func validate() -> DutyError? {
        if let error = Validate.identifier(id, field: "article.id") { return error }
        if let error = Validate.title(title, field: "article.title") { return error }
        if let error = Validate.text(body, field: "article.body") { return error }
        if let error = Validate.identifier(category, field: "article.category") { return error }
        return nil
    }
}
