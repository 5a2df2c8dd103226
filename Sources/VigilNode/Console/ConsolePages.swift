import DutyModel
import Foundation
import Hummingbird
import NIOCore

/// Why a console write did not happen, in words for the page.
struct ConsoleFailure: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// What each console page shows, read from the duty state, and what its forms do.
extension Console {
    static let hourMillis: Int64 = 3_600_000
    static let dayMillis: Int64 = 24 * hourMillis
    static let maximumListedTickets = 200

    // MARK: - Shared pieces

    static func iso(_ millis: Int64) -> String {
        Date(timeIntervalSince1970: Double(millis) / 1000).formatted(.iso8601)
    }

    static func timeFields(_ prefix: String, _ millis: Int64?) -> [String: Any] {
        guard let millis else { return [:] }
        return ["\(prefix)_ms": "\(millis)", "\(prefix)_iso": iso(millis)]
    }

    static func hours(_ millis: Int64) -> String {
        let tenths = (millis * 10 + hourMillis / 2) / hourMillis
        return tenths % 10 == 0 ? "\(tenths / 10)" : "\(tenths / 10).\(tenths % 10)"
    }

    /// The SLA clock as the `clock` partial shows it: a countdown while it runs, else its state.
    static func clockFields(_ clock: SLAClock, _ t: [String: String], now: Int64) -> [String: Any] {
        var fields: [String: Any] = ["target_label": t["target_\(clock.target.rawValue)"] ?? clock.target.rawValue]
        if let due = clock.dueAt, due != Int64.max {
            fields["due_ms"] = "\(due)"
            fields["due_iso"] = iso(due)
            fields["warn_ms"] = "\(clock.warnAt ?? clock.warnedAt ?? 0)"
        } else {
            let state = clock.isStopped ? (clock.met == true ? "met" : "missed") : "paused"
            fields["state"] = state
            fields["state_label"] = t["clock_\(state)"] ?? state
        }
        return fields
    }

    static func options<T>(_ values: [T], selected: T?, value: (T) -> String, label: (T) -> String) -> [[String: Any]] where T: Equatable {
        values.map { item in
            var option: [String: Any] = ["value": value(item), "label": label(item)]
            if item == selected { option["selected"] = true }
            return option
        }
    }

    func submitDuty(_ command: DutyCommand, _ request: Request, _ viewer: Viewer) async -> Result<[DutyEvent], ConsoleFailure> {
        var result: Result<[DutyEvent], ConsoleFailure>?
        let proposal = DutyProposal(command: command, leaderTimestamp: 0, actor: viewer.principal.actor)
        let response = await api.submit(.duty(proposal), request: request, body: nil) { outcome in
            switch outcome {
            case let .duty(.success(events)): result = .success(events)
            case let .duty(.failure(error)): result = .failure(ConsoleFailure(APIError(error).error.message))
            default: result = .failure(ConsoleFailure("the command was applied as something else"))
            }
            return Response(status: .ok)
        }
        if let result { return result }
        let t = ConsoleCatalog.messages(Self.language(request))
        return .failure(ConsoleFailure((t["unavailable"] ?? "") + " (\(response.status.code))"))
    }

    /// After a form: back to `back` (a console path) on success, or the problem shown on an error page.
    func afterWrite(_ result: Result<[DutyEvent], ConsoleFailure>, _ request: Request, _ viewer: Viewer, back: String) -> Response {
        switch result {
        case .success: return Self.redirect(back + (back.contains("?") ? "&" : "?") + "done=1")
        case let .failure(failure):
            let message = failure.message
            let t = ConsoleCatalog.messages(Self.language(request))
            return page("problem", titleKey: "title_problem", request: request, viewer: viewer, status: .conflict,
                        problemText: (t["invalid_input"] ?? "%@").replacingOccurrences(of: "%@", with: message))
        }
    }

    /// Reads after the ReadIndex barrier, on a copy of the state: pages walk the working set, and a copy keeps the
    /// Raft loop from waiting for the lock meanwhile.
    func readState() async -> DutyState {
        _ = await api.loop.readBarrier(timeout: HTTPAPI.readTimeout)
        return api.loop.state.duty { $0 }
    }

    static func personName(_ id: String?, _ state: DutyState) -> String {
        guard let id else { return "—" }
        return state.people[id].map { "\($0.name) (\(id))" } ?? id
    }

    // MARK: - Now

    func nowPage(_ request: Request, _ viewer: Viewer) async -> Response {
        let state = await readState()
        let t = ConsoleCatalog.messages(Self.language(request))
        let now = HTTPAPI.nowMillis()
        var emergencies: [[String: Any]] = []
        var mine: [[String: Any]] = []
        for ticket in state.workingSetTickets().reversed() where ticket.stage.isOpen {
            if ticket.acknowledgedAt == nil, ticket.kind == .emergency || ticket.escalation != nil, emergencies.count < Self.maximumListedTickets {
                var row: [String: Any] = ["id": "\(ticket.id)", "title": ticket.title, "priority": ticket.priority.rawValue,
                                          "service": state.services[ticket.serviceID]?.name ?? ticket.serviceID]
                row.merge(Self.timeFields("registered", ticket.registeredAt)) { $1 }
                if let step = state.nextDueStep(ticket.id) {
                    row["next_level"] = "\(step.levelIndex + 1)"
                    row.merge(Self.timeFields("next_due", step.dueAt)) { $1 }
                }
                emergencies.append(row)
            }
            if let person = viewer.principal.personID, ticket.ownerID == person, mine.count < Self.maximumListedTickets {
                mine.append(["id": "\(ticket.id)", "title": ticket.title, "priority": ticket.priority.rawValue,
                             "stage_label": t["stage_\(ticket.stage.rawValue)"] ?? ticket.stage.rawValue,
                             "clocks": ticket.clocks.map { Self.clockFields($0, t, now: now) }])
            }
        }
        let schedules = state.schedules.keys.sorted().compactMap { id -> [String: Any]? in
            guard let schedule = state.schedules[id] else { return nil }
            let shifts = schedule.finalTimeline(from: now, to: now + 7 * Self.dayMillis)
            var row: [String: Any] = ["id": id, "name": schedule.name, "now_person": Self.personName(schedule.onCall(at: now), state)]
            if let current = shifts.first, current.start <= now { row.merge(Self.timeFields("now_until", current.end)) { $1 } }
            row["shifts"] = shifts.prefix(40).map { shift -> [String: Any] in
                var fields: [String: Any] = ["person": Self.personName(shift.personID, state), "hours": Self.hours(shift.durationMillis)]
                fields.merge(Self.timeFields("start", shift.start)) { $1 }
                fields.merge(Self.timeFields("end", shift.end)) { $1 }
                return fields
            }
            return row
        }
        return page("now", titleKey: "title_now", request: request, viewer: viewer, live: true, data: [
            "emergencies": emergencies, "has_emergencies": !emergencies.isEmpty, "mine": mine, "schedules": schedules,
        ])
    }

    // MARK: - Tickets

    func ticketsPage(_ request: Request, _ viewer: Viewer) async -> Response {
        let state = await readState()
        let t = ConsoleCatalog.messages(Self.language(request))
        let query = request.uri.queryParameters
        let stage = query.get("stage").flatMap(TicketStage.init(rawValue:))
        let priority = query.get("priority").flatMap(Priority.init(rawValue:))
        let kind = query.get("kind").flatMap(TicketKind.init(rawValue:))
        let service = query.get("service").flatMap { $0.isEmpty ? nil : $0 }
        let owner = query.get("owner").flatMap { $0.isEmpty ? nil : $0 }
        let breachedOnly = query.get("breached") == "1"
        let now = HTTPAPI.nowMillis()
        var rows: [[String: Any]] = []
        for ticket in state.workingSetTickets().reversed() {
            if let stage, ticket.stage != stage { continue }
            if let priority, ticket.priority != priority { continue }
            if let kind, ticket.kind != kind { continue }
            if let service, ticket.serviceID != service { continue }
            if let owner, ticket.ownerID != owner { continue }
            let breached = ticket.clocks.contains { $0.breachCount > 0 || ($0.dueAt.map { $0 < now } ?? false) }
            if breachedOnly, !breached { continue }
            var row: [String: Any] = [
                "id": "\(ticket.id)", "title": ticket.title, "priority": ticket.priority.rawValue,
                "kind_label": t["kind_\(ticket.kind.rawValue)"] ?? ticket.kind.rawValue,
                "stage_label": t["stage_\(ticket.stage.rawValue)"] ?? ticket.stage.rawValue,
                "service": state.services[ticket.serviceID]?.name ?? ticket.serviceID, "owner": ticket.ownerID ?? "—",
            ]
            row.merge(Self.timeFields("registered", ticket.registeredAt)) { $1 }
            if breached { row["breached"] = true }
            // The running clock that falls due first is the one to watch.
            if let clock = ticket.clocks.filter({ $0.dueAt != nil }).min(by: { $0.dueAt! < $1.dueAt! }) {
                row["clock"] = Self.clockFields(clock, t, now: now)
            }
            rows.append(row)
            if rows.count == Self.maximumListedTickets { break }
        }
        let services = state.services.keys.sorted()
        return page("tickets", titleKey: "title_tickets", request: request, viewer: viewer, live: true, data: [
            "rows": rows,
            "count_label": (t["tickets_shown"] ?? "%d").replacingOccurrences(of: "%d", with: "\(rows.count)"),
            "stages": Self.options(TicketStage.allCases, selected: stage, value: \.rawValue) { t["stage_\($0.rawValue)"] ?? $0.rawValue },
            "priorities": Self.options(Priority.allCases, selected: priority, value: \.rawValue) { $0.rawValue },
            "kinds": Self.options(TicketKind.allCases, selected: kind, value: \.rawValue) { t["kind_\($0.rawValue)"] ?? $0.rawValue },
            "services": Self.options(services, selected: service, value: { $0 }) { state.services[$0]?.name ?? $0 },
            "owner": owner ?? "", "breached": breachedOnly,
        ])
    }

    func ticketPage(_ request: Request, _ context: VigilRequestContext, _ viewer: Viewer) async -> Response {
        guard let id = context.parameters.get("id").flatMap(TicketID.init), id >= 1 else {
            return problem(request, viewer, status: .notFound, key: "not_found")
        }
        let state = await readState()
        guard let ticket = state.ticket(id) else { return problem(request, viewer, status: .notFound, key: "not_found") }
        let t = ConsoleCatalog.messages(Self.language(request))
        let now = HTTPAPI.nowMillis()
        var data: [String: Any] = [
            "id": "\(id)", "kind_label": t["kind_\(ticket.kind.rawValue)"] ?? ticket.kind.rawValue, "priority": ticket.priority.rawValue,
            "stage_label": t["stage_\(ticket.stage.rawValue)"] ?? ticket.stage.rawValue,
            "service": state.services[ticket.serviceID]?.name ?? ticket.serviceID, "customer": ticket.customerID ?? "—",
            "owner": Self.personName(ticket.ownerID, state), "waiting": ticket.waitingForCustomer,
            "waiting_toggle": ticket.waitingForCustomer ? "false" : "true",
            "clocks": ticket.clocks.map { Self.clockFields($0, t, now: now) },
            "people": Self.options(state.people.keys.sorted(), selected: ticket.ownerID, value: { $0 }) { Self.personName($0, state) },
            "stages": Self.options(TicketStage.allCases.filter { $0 != ticket.stage }, selected: nil, value: \.rawValue) { t["stage_\($0.rawValue)"] ?? $0.rawValue },
            "priorities": Self.options(Priority.allCases, selected: ticket.priority, value: \.rawValue) { $0.rawValue },
            "timeline": ticket.timeline.map { Self.timelineFields($0, t, state) },
        ]
        data.merge(Self.timeFields("registered", ticket.registeredAt)) { $1 }
        if let at = ticket.acknowledgedAt {
            data.merge(Self.timeFields("acknowledged", at)) { $1 }
            data["acknowledged_by"] = ticket.acknowledgedBy.map { Self.personName($0.rawValue, state) } ?? ""
        }
        if ticket.escalation != nil {
            var escalation: [String: Any] = [:]
            if let step = state.nextDueStep(id) {
                escalation["next_level"] = "\(step.levelIndex + 1)"
                escalation.merge(Self.timeFields("next_due", step.dueAt)) { $1 }
            }
            data["escalation"] = escalation
        }
        return page("ticket", title: "#\(id) \(ticket.title)", request: request, viewer: viewer, live: true, data: data)
    }

    /// One timeline line: who, what (from the catalog) and any text the entry carries, escaped by the template.
    static func timelineFields(_ entry: TimelineEntry, _ t: [String: String], _ state: DutyState) -> [String: Any] {
        func say(_ key: String, _ rest: String = "") -> String { (t[key] ?? key) + (rest.isEmpty ? "" : " " + rest) }
        var detail: String?
        let what: String
        switch entry.action {
        case let .registered(kind, priority): what = say("tl_registered", "\(t["kind_\(kind.rawValue)"] ?? kind.rawValue) \(priority.rawValue)")
        case let .stageChanged(_, to): what = say("tl_stage", t["stage_\(to.rawValue)"] ?? to.rawValue)
        case let .reopened(_, reason): what = say("tl_reopened"); detail = reason
        case .acknowledged: what = say("tl_acknowledged")
        case let .ownerChanged(_, to): what = say("tl_owner", personName(to, state))
        case let .note(text, customerVisible): what = say(customerVisible ? "tl_note_customer" : "tl_note"); detail = text
        case let .initialSolution(text): what = say("tl_initial_solution"); detail = text
        case let .waitingForCustomer(waiting): what = say(waiting ? "tl_waiting_on" : "tl_waiting_off")
        case let .slaWarning(target): what = say("tl_sla_warning", t["target_\(target.rawValue)"] ?? target.rawValue)
        case let .slaBreached(target): what = say("tl_sla_breached", t["target_\(target.rawValue)"] ?? target.rawValue)
        case let .escalated(_, level, personIDs, _): what = say("tl_escalated", "\(level + 1): " + personIDs.map { personName($0, state) }.joined(separator: ", "))
        case let .alertTriggered(dedupKey, summary): what = say("tl_alert_triggered", dedupKey); detail = summary
        case let .alertAcknowledged(dedupKey): what = say("tl_alert_acknowledged", dedupKey)
        case let .alertResolved(dedupKey): what = say("tl_alert_resolved", dedupKey)
        case let .articlesSuggested(ids): what = say("tl_articles", ids.joined(separator: ", "))
        case let .feedback(rating, comment): what = say("tl_feedback", "\(rating)/5"); detail = comment.isEmpty ? nil : comment
        case let .followUpOpened(id): what = say("tl_follow_up_opened", "#\(id)")
        case let .followUpOf(id): what = say("tl_follow_up_of", "#\(id)")
        case let .priorityChanged(_, to): what = say("tl_priority", to.rawValue)
        case let .paged(_, personID, channel, result, attempts):
            what = say("tl_paged", "\(personName(personID, state)) · \(channel.rawValue) · \(result.rawValue) (\(attempts))")
        case let .pagesCancelled(count): what = say("tl_pages_cancelled", "\(count)")
        case .acknowledgementExpired: what = say("tl_ack_expired")
        case let .alertDetails(source, json): what = say("tl_alert_details", source); detail = json
        case let .customerMailed(_, purpose, result, attempts):
            what = say("tl_customer_mailed", "\(t["mail_\(purpose.rawValue)"] ?? purpose.rawValue) · \(result.rawValue) (\(attempts))")
        case let .customerMessage(_, subject, text, attachments):
            what = say("tl_customer_message", subject)
            let files = attachments.map { "\($0.fileName) (\($0.byteCount) B)" }
            detail = files.isEmpty ? text : text + "\n\n" + (t["tl_attachments"] ?? "attachments") + ": " + files.joined(separator: ", ")
        }
        var fields: [String: Any] = ["actor": personName(entry.actor.rawValue, state), "what": what]
        fields.merge(timeFields("at", entry.at)) { $1 }
        if let detail, !detail.isEmpty { fields["detail"] = detail }
        return fields
    }

    func ticketAction(_ request: Request, _ context: VigilRequestContext, _ form: [String: String], _ viewer: Viewer) async -> Response {
        guard let id = context.parameters.get("id").flatMap(TicketID.init), id >= 1 else {
            return problem(request, viewer, status: .notFound, key: "not_found")
        }
        let text = form["text"] ?? ""
        let command: DutyCommand
        switch context.parameters.get("action") ?? "" {
        case "acknowledge": command = .acknowledgeTicket(ticketID: id)
        case "resolve": command = .resolveTicket(ticketID: id)
        case "assign": command = .assignTicket(ticketID: id, ownerID: form["owner_id"] ?? "")
        case "comment": command = .addNote(ticketID: id, text: text, customerVisible: form["customer_visible"] == "1")
        case "initial-solution": command = .provideInitialSolution(ticketID: id, text: text)
        case "waiting": command = .setWaitingForCustomer(ticketID: id, waiting: form["waiting"] == "true")
        case "reopen": command = .reopenTicket(ticketID: id, reason: form["reason"] ?? "")
        case "rate": command = .submitFeedback(ticketID: id, rating: Int(form["rating"] ?? "") ?? 0, comment: form["comment"] ?? "")
        case "transition":
            guard let stage = TicketStage(rawValue: form["stage"] ?? "") else { return problem(request, viewer, status: .badRequest, key: "invalid_input", argument: "stage") }
            command = .advanceTicket(ticketID: id, to: stage)
        case "priority":
            guard let priority = Priority(rawValue: form["priority"] ?? "") else { return problem(request, viewer, status: .badRequest, key: "invalid_input", argument: "priority") }
            command = .changePriority(ticketID: id, priority: priority)
        default:
            return problem(request, viewer, status: .notFound, key: "not_found")
        }
        let back = form["back"].map { Self.safeNext($0) } ?? "/console/tickets/\(id)"
        return afterWrite(await submitDuty(command, request, viewer), request, viewer, back: back)
    }

    func newTicketPage(_ request: Request, _ viewer: Viewer) async -> Response {
        let state = await readState()
        let t = ConsoleCatalog.messages(Self.language(request))
        return page("new_ticket", titleKey: "title_new_ticket", request: request, viewer: viewer, data: [
            "kinds": Self.options(TicketKind.allCases, selected: nil, value: \.rawValue) { t["kind_\($0.rawValue)"] ?? $0.rawValue },
            "priorities": Self.options(Priority.allCases, selected: .p3, value: \.rawValue) { $0.rawValue },
            "services": Self.options(state.services.keys.sorted(), selected: nil, value: { $0 }) { state.services[$0]?.name ?? $0 },
        ])
    }

    func registerTicket(_ request: Request, _ form: [String: String], _ viewer: Viewer) async -> Response {
        guard let kind = TicketKind(rawValue: form["kind"] ?? ""), let priority = Priority(rawValue: form["priority"] ?? "") else {
            return problem(request, viewer, status: .badRequest, key: "invalid_input", argument: "kind, priority")
        }
        let customer = (form["customer"] ?? "").trimmingCharacters(in: .whitespaces)
        let ticket = NewTicket(kind: kind, priority: priority, title: form["title"] ?? "", description: form["description"] ?? "",
                               serviceID: form["service"] ?? "", customerID: customer.isEmpty ? nil : customer)
        let result = await submitDuty(.registerTicket(ticket), request, viewer)
        if case let .success(events) = result, let id = events.lazy.compactMap(\.ticketID).first {
            return Self.redirect("/console/tickets/\(id)?done=1")
        }
        return afterWrite(result, request, viewer, back: "/console/tickets")
    }

    // MARK: - Knowledge base

    struct Suggestion: Codable { let id: String; let title: String }

    func suggest(_ request: Request) -> Response {
        let query = String((request.uri.queryParameters.get("q") ?? "").prefix(1024))
        let items: [Suggestion] = query.isEmpty ? [] : api.loop.state.duty { state in
            state.knowledgeBase.search(query, limit: 5).compactMap { match in
                state.knowledgeBase.articles[match.articleID].map { Suggestion(id: $0.id, title: $0.title) }
            }
        }
        let body = (try? JSONEncoder().encode(items)) ?? Data("[]".utf8)
        var headers = Self.pageHeaders
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    func knowledgeBasePage(_ request: Request, _ viewer: Viewer) async -> Response {
        let query = String((request.uri.queryParameters.get("q") ?? "").prefix(1024))
        let state = await readState()
        let results: [[String: Any]] = query.isEmpty
            ? state.knowledgeBase.articles.keys.sorted().prefix(50).compactMap { id in
                state.knowledgeBase.articles[id].map { ["id": $0.id, "title": $0.title, "category": $0.category] }
            }
            : state.knowledgeBase.search(query, limit: 20).compactMap { match in
                state.knowledgeBase.articles[match.articleID].map { ["id": $0.id, "title": $0.title, "category": $0.category] }
            }
        return page("kb", titleKey: "title_kb", request: request, viewer: viewer, data: ["q": query, "results": results, "searched": !query.isEmpty])
    }

    func articlePage(_ request: Request, _ context: VigilRequestContext, _ viewer: Viewer) async -> Response {
        let id = context.parameters.get("id")?.removingPercentEncoding ?? ""
        let state = await readState()
        guard let article = state.knowledgeBase.articles[id] else { return problem(request, viewer, status: .notFound, key: "not_found") }
        return page("article", title: article.title, request: request, viewer: viewer,
                    data: ["id": article.id, "category": article.category, "version": "\(article.version)",
                           "body_html": ConsoleMarkdown.html(from: article.body)])
    }

    func articleEditPage(_ request: Request, _ viewer: Viewer) async -> Response {
        let id = String((request.uri.queryParameters.get("id") ?? "").prefix(128))
        let state = await readState()
        let article = state.knowledgeBase.articles[id]
        return page("article_edit", titleKey: "title_article_edit", request: request, viewer: viewer,
                    data: ["id": id, "title": article?.title ?? "", "category": article?.category ?? "", "body": article?.body ?? ""])
    }

    func saveArticle(_ request: Request, _ form: [String: String], _ viewer: Viewer) async -> Response {
        let id = form["id"] ?? ""
        let draft = ArticleDraft(id: id, title: form["title"] ?? "", body: (form["body"] ?? "").replacingOccurrences(of: "\r\n", with: "\n"),
                                 category: form["category"] ?? "")
        return afterWrite(await submitDuty(.upsertArticle(draft), request, viewer), request, viewer, back: "/console/kb/\(Self.formEncode(id))")
    }

    // MARK: - Cluster

    func clusterPage(_ request: Request, _ viewer: Viewer) async -> Response {
        let view = await api.clusterView()
        let t = ConsoleCatalog.messages(Self.language(request))
        let outbox = api.loop.state.duty { $0.outbox.count }
        let members = view.members.map { member -> [String: Any] in
            let role = member.id == view.leader ? "leader" : member.isVoter ? "follower" : "learner"
            var row: [String: Any] = ["id": "\(member.id)", "role_label": t["role_\(role)"] ?? role, "http": member.httpAddress,
                                      "reachability": member.reachability, "match": member.matchIndex.map { "\($0)" } ?? "—",
                                      "lag": member.lag.map { "\($0)" } ?? "—", "version": member.version ?? "—"]
            if member.isSelf { row["is_self"] = true }
            return row
        }
        var data: [String: Any] = [
            "cluster_id": view.clusterID, "leader": "\(view.leader)", "term": "\(view.term)", "commit": "\(view.commitIndex)",
            "applied": "\(view.appliedIndex)", "outbox": "\(outbox)", "members": members,
        ]
        data.merge(Self.timeFields("cert", view.certificateExpiresAtMilliseconds)) { $1 }
        data["leader_changes"] = api.loop.status.recentLeaders.reversed().map { change -> [String: Any] in
            var fields: [String: Any] = ["term": "\(change.term)", "leader": change.leader == 0 ? "—" : "\(change.leader)"]
            fields.merge(Self.timeFields("at", change.atMilliseconds)) { $1 }
            return fields
        }
        return page("cluster", titleKey: "title_cluster", request: request, viewer: viewer, live: true, data: data)
    }
}
