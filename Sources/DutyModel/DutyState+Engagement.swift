extension DutyState {
    mutating func upsertArticle(_ draft: ArticleDraft, _ context: inout ApplyContext) throws(DutyError) {
        if let error = draft.validate() { throw error }
        let existing = knowledgeBase.articles[draft.id]
        if existing == nil, knowledgeBase.articles.count >= DutyLimits.maxArticles {
            throw .limit("article.id", "at most \(DutyLimits.maxArticles) articles")
        }
        knowledgeBase.articles[draft.id] = Article(id: draft.id, title: draft.title, body: draft.body, category: draft.category,
                                                   version: (existing?.version ?? 0) + 1, updatedAt: context.at,
                                                   hitCount: existing?.hitCount ?? 0)
        context.emit(.configurationChanged(entity: "article", id: draft.id))
    }

    mutating func recordArticleHit(_ id: String, _ context: inout ApplyContext) throws(DutyError) {
        guard knowledgeBase.articles[id] != nil else { throw .notFound("articleID", "no article '\(id)'") }
        knowledgeBase.articles[id]!.hitCount += 1
        context.emit(.articleHit(articleID: id, hitCount: knowledgeBase.articles[id]!.hitCount))
    }

    /// S13: a rating of 2 or less opens a follow-up complaint owned by the same person.
    mutating func submitFeedback(_ id: TicketID, rating: Int, comment: String, _ context: inout ApplyContext) throws(DutyError) {
        let ticket = try editableTicket(id)
        guard ticket.stage == .feedback else {
            throw .conflict("ticketID", "feedback is collected in the feedback stage (ticket \(id) is \(ticket.stage.rawValue))")
        }
        guard ticket.feedback == nil else { throw .conflict("ticketID", "ticket \(id) already has feedback") }
        guard (1...5).contains(rating) else { throw .invalid("rating", "must be 1…5") }
        if comment.utf8.count > 2_000 { throw .limit("comment", "at most 2000 bytes") }
        let lowScore = rating <= 2
        let followUp = NewTicket(kind: .complaint, priority: .p2, title: String("Low rating (\(rating)) for #\(id): \(ticket.title)".prefix(DutyLimits.maxTitleLength)),
                                 description: comment, serviceID: ticket.serviceID, customerID: ticket.customerID, ownerID: ticket.ownerID)
        if lowScore, let error = validateNewTicket(followUp) { throw error }
        tickets.live[id]!.feedback = Feedback(rating: rating, comment: comment, at: context.at)
        tickets.live[id]!.append(.feedback(rating: rating, comment: comment), at: context.at, actor: context.actor)
        context.emit(.feedbackRecorded(id, rating: rating))
        if lowScore {
            let followUpID = openTicket(followUp, followUpOf: id, &context)
            tickets.live[id]!.followUpTicketID = followUpID
            tickets.live[id]!.append(.followUpOpened(followUpID), at: context.at, actor: context.actor)
            context.emit(.followUpOpened(original: id, followUp: followUpID))
        }
    }

    /// S12: the sample is drawn from archived tickets in ticket order with the command's seed.
    mutating func drawSupervisionSample(_ id: String, seed: UInt64, size: Int, _ context: inout ApplyContext) throws(DutyError) {
        if let error = Validate.identifier(id, field: "sampleID") { throw error }
        guard samples[id] == nil else { throw .conflict("sampleID", "sample '\(id)' already exists") }
        guard (1...DutyLimits.maxSampleSize).contains(size) else { throw .invalid("size", "must be 1…\(DutyLimits.maxSampleSize)") }
        if samples.count >= DutyLimits.maxSamples { throw .limit("sampleID", "at most \(DutyLimits.maxSamples) samples") }
        guard tickets.archivedCount > 0 else { throw .conflict("size", "there are no archived tickets to sample") }
        let picked = SupervisionSample.draw(from: tickets.archivedIDs(), size: size, seed: seed)
        samples[id] = SupervisionSample(id: id, seed: seed, drawnAt: context.at, ticketIDs: picked, reviews: [])
        context.emit(.sampleDrawn(sampleID: id, ticketIDs: picked))
    }

    mutating func recordReviewVerdict(_ sampleID: String, ticketID: TicketID, verdict: SupervisionSample.Verdict, note: String,
                                      _ context: inout ApplyContext) throws(DutyError) {
        guard let sample = samples[sampleID] else { throw .notFound("sampleID", "no sample '\(sampleID)'") }
        guard sample.ticketIDs.contains(ticketID) else { throw .notFound("ticketID", "ticket \(ticketID) is not in sample '\(sampleID)'") }
        guard !sample.reviews.contains(where: { $0.ticketID == ticketID }) else {
            throw .conflict("ticketID", "ticket \(ticketID) already has a verdict in sample '\(sampleID)'")
        }
        if let error = Validate.text(note, field: "note") { throw error }
        if verdict != .compliant, note.trimmingWhitespace().isEmpty {
            throw .invalid("note", "a \(verdict.rawValue) verdict needs a note saying what to rectify")
        }
        samples[sampleID]!.reviews.append(SupervisionSample.Review(ticketID: ticketID, verdict: verdict, note: note,
                                                                   reviewer: context.actor, at: context.at))
        context.emit(.verdictRecorded(sampleID: sampleID, ticketID: ticketID, verdict: verdict))
    }

    mutating func recordContactAccess(_ personID: String, reason: String, _ context: inout ApplyContext) throws(DutyError) {
        guard people[personID] != nil else { throw .notFound("personID", "no person '\(personID)'") }
        if let error = Validate.title(reason, field: "reason") { throw error }
        guard let reader = people[context.actor.rawValue], reader.role.mayReadContactData else {
            throw DutyError(.forbidden, field: "actor", "only managers and admins may read contact data")
        }
        context.emit(.contactDataAccessed(personID: personID, reason: reason))
    }

    /// S16: contact data for roles allowed to see it; everyone else gets a `forbidden` error.
    public func contactMethods(of personID: String, readerRole: Role) -> Result<[ContactMethod], DutyError> {
        guard readerRole.mayReadContactData else {
            return .failure(DutyError(.forbidden, field: "readerRole", "\(readerRole.rawValue)s may not read contact data"))
        }
        guard let person = people[personID] else { return .failure(.notFound("personID", "no person '\(personID)'")) }
        return .success(person.contactMethods)
    }
}
