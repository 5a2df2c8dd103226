import DutyModel
import Foundation
import Hummingbird
import NIOCore
import RaftCore

/// The duty service's REST routes under `/api/v1`: tickets, configuration objects, schedules, knowledge base
/// and reports. Writes go through Raft (any node accepts them; followers forward) and answer once applied.
extension HTTPAPI {
    static let maximumBodyBytes = 512 << 10

    func addTicketRoutes(to router: RouterGroup<VigilRequestContext>) {
        let api = self
        router.post("/api/v1/tickets") { request, _ in
            await api.write(request) { body in
                APIJSON.decodeStrict(NewTicket.self, from: body, defaults: ["description": ""]).map { .registerTicket($0) }
            } answer: { events in api.ticketAnswer(events, status: .created) }
        }
        router.get("/api/v1/tickets") { request, _ in await api.read(request) { api.listTickets(request, $0) } }
        router.get("/api/v1/tickets/{id}") { request, context in
            await api.read(request) { state in
                switch api.ticketID(context) {
                case let .failure(error): return error.response
                case let .success(id):
                    guard let ticket = state.ticket(id) else { return APIError.notFound("ticket", "\(id)").response }
                    return JSONResponse.api(ticket)
                }
            }
        }
        router.post("/api/v1/tickets/{id}/{action}") { request, context in
            await api.ticketAction(request, context)
        }
    }

    /// Configuration objects, schedules, knowledge base, supervision and reports: managers write, everyone reads.
    /// A heartbeat's ping (a responder's script) and contact data (managers only, even to read) have groups of their own.
    func addConfigurationRoutes(to router: RouterGroup<VigilRequestContext>, heartbeatPings: RouterGroup<VigilRequestContext>,
                                contactData: RouterGroup<VigilRequestContext>) {
        let api = self
        heartbeatPings.post("/api/v1/heartbeats/{id}/ping") { request, context in
            let id = (context.parameters.get("id")?.removingPercentEncoding ?? "")
            return await api.write(request, allowEmptyBody: true) { _ in .success(.heartbeatPing(monitorID: id)) } answer: { events in
                JSONResponse.api(WriteAnswer<HeartbeatMonitor>(events: events, object: api.loop.state.duty { $0.heartbeatMonitors[id] }))
            }
        }

        contactData.get("/api/v1/people/{id}/contact-methods") { request, context in
            await api.contactMethods(request, context)
        }
        // Configuration objects, each upserted by id.
        router.put("/api/v1/people/{id}") { request, context in
            await api.upsert(request, context, Person.self, \.id,
                             defaults: ["time_zone_identifier": "UTC", "contact_methods": [String](), "notification_rules": [String]()]) { .upsertPerson($0) }
        }
        router.put("/api/v1/teams/{id}") { request, context in
            await api.upsert(request, context, Team.self, \.id) { .upsertTeam($0) }
        }
        router.put("/api/v1/schedules/{id}") { request, context in
            await api.upsert(request, context, OnCallSchedule.self, \.id,
                             defaults: ["overrides": [String](), "layers.*.restrictions": [String](),
                                        "layers.*.restrictions.*.iso_weekdays": [Int]()]) { .upsertSchedule($0) }
        }
        router.post("/api/v1/schedules/{id}/overrides") { request, context in
            let id = (context.parameters.get("id")?.removingPercentEncoding ?? "")
            return await api.write(request) { body in
                APIJSON.decodeStrict(OnCallSchedule.Override.self, from: body).map { .addScheduleOverride(scheduleID: id, override: $0) }
            } answer: { events in JSONResponse.api(status: .created, WriteAnswer<OnCallSchedule>(events: events, object: api.loop.state.duty { $0.schedules[id] })) }
        }
        router.put("/api/v1/escalation-policies/{id}") { request, context in
            await api.upsert(request, context, EscalationPolicy.Draft.self, \.id,
                             defaults: ["repeat_count": 0, "repeat_from_level": 0, "levels.*.mode": "all"]) { .upsertEscalationPolicy($0) }
        }
        router.put("/api/v1/sla-policies/{id}") { request, context in
            await api.upsert(request, context, SLAPolicy.Draft.self, \.id) { .upsertSLAPolicy($0) }
        }
        router.put("/api/v1/calendars/{id}") { request, context in
            await api.upsert(request, context, BusinessCalendar.self, \.id, defaults: ["holidays": [String]()]) { .upsertCalendar($0) }
        }
        router.put("/api/v1/services/{id}") { request, context in
            await api.upsert(request, context, Service.self, \.id,
                             defaults: ["integration_keys": [String](), "maintenance_windows": [String]()]) { .upsertService($0) }
        }
        router.post("/api/v1/services/{id}/integration-keys") { request, context in
            let id = (context.parameters.get("id")?.removingPercentEncoding ?? "")
            return await api.write(request) { body in
                APIJSON.decodeStrict(IntegrationKeyBody.self, from: body).map { .addIntegrationKey(serviceID: id, key: $0.key) }
            } answer: { events in JSONResponse.api(status: .created, WriteAnswer<Service>(events: events, object: api.loop.state.duty { $0.services[id] })) }
        }
        router.post("/api/v1/services/{id}/maintenance-windows") { request, context in
            let id = (context.parameters.get("id")?.removingPercentEncoding ?? "")
            return await api.write(request) { body in
                APIJSON.decodeStrict(Service.MaintenanceWindow.self, from: body).map { .addMaintenanceWindow(serviceID: id, window: $0) }
            } answer: { events in JSONResponse.api(status: .created, WriteAnswer<Service>(events: events, object: api.loop.state.duty { $0.services[id] })) }
        }
        router.put("/api/v1/articles/{id}") { request, context in
            await api.upsert(request, context, ArticleDraft.self, \.id) { .upsertArticle($0) }
        }
        router.put("/api/v1/heartbeats/{id}") { request, context in
            let id = (context.parameters.get("id")?.removingPercentEncoding ?? "")
            return await api.write(request) { body in
                APIJSON.decodeStrict(HeartbeatBody.self, from: body).map {
                    .upsertHeartbeatMonitor(id: id, serviceID: $0.serviceID, intervalSeconds: $0.intervalSeconds, graceSeconds: $0.graceSeconds ?? 0)
                }
            } answer: { events in JSONResponse.api(WriteAnswer<HeartbeatMonitor>(events: events, object: api.loop.state.duty { $0.heartbeatMonitors[id] })) }
        }
        // S12 supervision samples and S8 channel inspections.
        router.post("/api/v1/samples") { request, _ in
            await api.write(request) { body in
                APIJSON.decodeStrict(SampleBody.self, from: body).map {
                    // Drawn from this seed on every replica; a random one when the caller gives none.
                    .drawSupervisionSample(sampleID: $0.id, seed: $0.seed ?? UInt64.random(in: 0...UInt64.max), size: $0.size)
                }
            } answer: { events in
                JSONResponse.api(status: .created, WriteAnswer<SupervisionSample>(events: events, object: events.lazy.compactMap { event -> SupervisionSample? in
                    guard case let .sampleDrawn(id, _) = event.kind else { return nil }
                    return api.loop.state.duty { $0.samples[id] }
                }.first))
            }
        }
        router.post("/api/v1/samples/{id}/verdicts") { request, context in
            let id = (context.parameters.get("id")?.removingPercentEncoding ?? "")
            return await api.write(request) { body in
                APIJSON.decodeStrict(VerdictBody.self, from: body, defaults: ["note": ""]).map {
                    .recordReviewVerdict(sampleID: id, ticketID: $0.ticketID, verdict: $0.verdict, note: $0.note)
                }
            } answer: { events in JSONResponse.api(WriteAnswer<SupervisionSample>(events: events, object: api.loop.state.duty { $0.samples[id] })) }
        }
        router.put("/api/v1/inspections/{id}") { request, context in
            let id = (context.parameters.get("id")?.removingPercentEncoding ?? "")
            return await api.write(request) { body in
                APIJSON.decodeStrict(InspectionBody.self, from: body).map {
                    .upsertChannelInspection(id: id, channel: $0.channel, timesPerDay: $0.timesPerDay, serviceID: $0.serviceID)
                }
            } answer: { events in JSONResponse.api(WriteAnswer<ChannelInspection>(events: events, object: api.loop.state.duty { $0.channelInspections[id] })) }
        }
        router.post("/api/v1/inspections/{id}/results") { request, context in
            let id = (context.parameters.get("id")?.removingPercentEncoding ?? "")
            return await api.write(request) { body in
                APIJSON.decodeStrict(InspectionResultBody.self, from: body, defaults: ["detail": ""]).map {
                    .recordInspectionResult(inspectionID: id, passed: $0.passed, detail: $0.detail)
                }
            } answer: { events in JSONResponse.api(status: .created, WriteAnswer<ChannelInspection>(events: events, object: api.loop.state.duty { $0.channelInspections[id] })) }
        }
        api.addObjectReads(router, "samples") { $0.samples }
        api.addObjectReads(router, "inspections") { $0.channelInspections }

        // Reads of configuration.
        router.get("/api/v1/people") { request, _ in
            await api.read(request) { state in
                JSONResponse.api(ListPage(items: state.people.keys.sorted().map { PersonView(state.people[$0]!, contactMethods: nil) }, next: nil))
            }
        }
        router.get("/api/v1/people/{id}") { request, context in
            await api.read(request) { state in
                let id = (context.parameters.get("id")?.removingPercentEncoding ?? "")
                guard let person = state.people[id] else { return APIError.notFound("person", id).response }
                return JSONResponse.api(PersonView(person, contactMethods: nil))
            }
        }
        api.addObjectReads(router, "teams") { $0.teams }
        api.addObjectReads(router, "schedules") { $0.schedules }
        api.addObjectReads(router, "services") { $0.services }
        api.addObjectReads(router, "calendars") { $0.calendars }
        api.addObjectReads(router, "heartbeats") { $0.heartbeatMonitors }
        api.addObjectReads(router, "articles") { $0.knowledgeBase.articles }
        api.addObjectReads(router, "escalation-policies") { $0.escalationPolicies.compactMapValues(\.last) }
        api.addObjectReads(router, "sla-policies") { $0.slaPolicies.compactMapValues(\.last) }
        router.get("/api/v1/services/{id}/changes") { request, context in
            await api.read(request) { state in
                let id = (context.parameters.get("id")?.removingPercentEncoding ?? "")
                guard state.services[id] != nil else { return APIError.notFound("service", id).response }
                return JSONResponse.api(ListPage(items: state.serviceChanges[id] ?? [], next: nil))
            }
        }
        router.get("/api/v1/schedules/{id}/oncall") { request, context in
            await api.read(request) { state in api.onCall(request, context, state) }
        }
        router.get("/api/v1/kb/search") { request, _ in
            await api.read(request) { state in
                let query = request.uri.queryParameters.get("q") ?? ""
                guard !query.isEmpty, query.utf8.count <= 1024 else {
                    return APIError(status: 400, code: "invalid_parameter", message: "q must be 1–1024 bytes", field: "q").response
                }
                let matches = state.knowledgeBase.search(query, limit: 10).compactMap { match -> ArticleMatch? in
                    guard let article = state.knowledgeBase.articles[match.articleID] else { return nil }
                    return ArticleMatch(articleID: article.id, title: article.title, category: article.category, score: match.score)
                }
                return JSONResponse.api(ListPage(items: matches, next: nil))
            }
        }
        router.get("/api/v1/reports") { request, _ in await api.read(request, copyingState: true) { api.report(request, $0) } }
        router.get("/api/v1/reports/breaches") { request, _ in
            await api.read(request, copyingState: true) { api.reportBreaches(request, $0) }
        }
    }

    // MARK: - The write path

    /// Reads the body, builds the command, and either forwards the request to the leader or proposes the
    /// command stamped with this leader's clock. Nothing is proposed when the body or the command is invalid.
    func write(_ request: Request, allowEmptyBody: Bool = false,
               build: (Data) -> Result<DutyCommand, APIError>,
               answer: @Sendable ([DutyEvent]) -> Response) async -> Response {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: Self.maximumBodyBytes)
        } catch {
            return APIError(status: 413, code: "body_too_large", message: "the body exceeds \(Self.maximumBodyBytes) bytes").response
        }
        let body = Data(buffer.readableBytesView)
        if body.isEmpty && !allowEmptyBody {
            return APIError(status: 400, code: "invalid_json", message: "the body is empty; a JSON object is expected").response
        }
        let command: DutyCommand
        switch build(body.isEmpty ? Data("{}".utf8) : body) {
        case let .success(value): command = value
        case let .failure(error): return error.response
        }
        let actor = Principal.current?.actor ?? ActorID("anonymous")
        return await submit(.duty(DutyProposal(command: command, leaderTimestamp: 0, actor: actor)), request: request, body: buffer) { outcome in
            switch outcome {
            case let .duty(.success(events)): return answer(events)
            case let .duty(.failure(error)): return APIError(error).response
            default: return APIError(status: 500, code: "internal", message: "the command was applied as something else").response
            }
        }
    }

    /// Proposes on the leader (stamping duty commands with its clock) or forwards to it: over the peer connection
    /// when every member can apply a forwarded entry, else as a second HTTP request (a rolling upgrade from 0.6).
    func submit(_ command: ReplicatedCommand, request: Request, body: ByteBuffer?,
                answer: (ApplyOutcome) -> Response) async -> Response {
        if let needed = command.requiredRelease, !(await everyMemberRuns(needed)) {
            return APIError(status: 503, code: "upgrade_in_progress",
                            message: "every member must run \(needed) or later for this; finish the rolling upgrade first").response
        }
        let status = loop.status
        let forwarded = request.headers.first(where: { $0.name.canonicalName == Self.forwardedHeaderCanonicalName }) != nil
        if status.leader != config.nodeID {
            guard status.leader != noNode, !forwarded else {
                return Self.unavailable(.notLeader(leaderHint: forwarded ? noNode : status.leader)).response
            }
            guard await peersForward() else { return await forward(request, body: body, to: status.leader) }
            switch await loop.forward(command, timeout: Self.proposalTimeout) {
            case let .success(outcome): return answer(outcome)
            case let .failure(error): return Self.unavailable(error).response
            }
        }
        switch await loop.propose(RaftLoop.stamped(command), timeout: Self.proposalTimeout) {
        case let .success(outcome):
            return answer(outcome)
        case let .failure(.notLeader(hint)) where hint != noNode && hint != config.nodeID && !forwarded:
            return await forward(request, body: body, to: hint)
        case let .failure(error):
            return Self.unavailable(error).response
        }
    }

    /// `submit` for what does not come as an HTTP request (the SMTP intake): proposes on the leader or forwards over
    /// the peer connection, and says in words why not when neither can be done now.
    func propose(_ command: ReplicatedCommand) async -> Result<ApplyOutcome, NotProposed> {
        if let needed = command.requiredRelease, !(await everyMemberRuns(needed)) {
            return .failure(NotProposed(description: "every member must run \(needed) or later"))
        }
        let leader = loop.status.leader
        guard leader != noNode else { return .failure(NotProposed(description: "no leader is known")) }
        let result = leader == config.nodeID
            ? await loop.propose(RaftLoop.stamped(command), timeout: Self.proposalTimeout)
            : await loop.forward(command, timeout: Self.proposalTimeout)
        return result.mapError { NotProposed(description: $0.description) }
    }

    /// Why `propose` could not have a command applied now; worth trying again later.
    struct NotProposed: Error, CustomStringConvertible {
        let description: String
    }

    static func nowMillis() -> Timestamp { Timestamp((Date().timeIntervalSince1970 * 1000).rounded()) }

    /// Serves a read from the duty state, after a ReadIndex barrier unless `consistency=local`.
    /// Serves a read at the consistency the request asks for. `copyingState` is for reads that walk every ticket of a
    /// month (reports): they run on a copy taken under the lock (copy-on-write, so O(1) to take), so the Raft loop
    /// is not held for their whole length. Other reads are short and run under the lock, since a live copy costs
    /// the loop's next apply a copy of the working-set table.
    func read(_ request: Request, copyingState: Bool = false, _ body: @Sendable (DutyState) -> Response) async -> Response {
        switch request.uri.queryParameters.get("consistency") {
        case nil, "linearizable":
            if case let .failure(error) = await loop.readBarrier(timeout: Self.readTimeout) {
                return Self.unavailable(error).response
            }
        case "local":
            break
        case let other?:
            return APIError(status: 400, code: "invalid_parameter",
                            message: "consistency must be 'linearizable' or 'local', not '\(other)'", field: "consistency").response
        }
        guard copyingState else { return loop.state.duty(body) }
        return body(loop.state.duty { $0 })
    }

    func upsert<T: Codable & Sendable>(_ request: Request, _ context: VigilRequestContext, _ type: T.Type,
                                               _ id: KeyPath<T, String> & Sendable, defaults: [String: any Sendable] = [:],
                                               make: @escaping (T) -> DutyCommand) async -> Response {
        let pathID = (context.parameters.get("id")?.removingPercentEncoding ?? "")
        return await write(request) { body in
            switch APIJSON.decodeStrict(type, from: body, defaults: defaults) {
            case let .failure(error): return .failure(error)
            case let .success(object):
                guard object[keyPath: id] == pathID else {
                    return .failure(APIError(status: 400, code: "invalid_field",
                                             message: "the body's id '\(object[keyPath: id])' differs from the path's '\(pathID)'", field: "id"))
                }
                return .success(make(object))
            }
        } answer: { events in
            JSONResponse.api(WriteAnswer<String>(events: events, object: pathID))
        }
    }

    private func addObjectReads<T: Codable & Sendable>(_ router: RouterGroup<VigilRequestContext>, _ name: String,
                                                       _ objects: @escaping @Sendable (DutyState) -> [String: T]) {
        let api = self
        router.get("/api/v1/\(name)") { request, _ in
            await api.read(request) { state in
                let all = objects(state)
                return JSONResponse.api(ListPage(items: all.keys.sorted().map { all[$0]! }, next: nil))
            }
        }
        router.get("/api/v1/\(name)/{id}") { request, context in
            await api.read(request) { state in
                let id = (context.parameters.get("id")?.removingPercentEncoding ?? "")
                guard let object = objects(state)[id] else { return APIError.notFound(String(name.dropLast()), id).response }
                return JSONResponse.api(object)
            }
        }
    }

    /// S16: contact data only for roles allowed to read it, and every reading is recorded (with a reason)
    /// in the audit trail through the log before the data is shown.
    func contactMethods(_ request: Request, _ context: VigilRequestContext) async -> Response {
        let id = (context.parameters.get("id")?.removingPercentEncoding ?? "")
        let reason = request.uri.queryParameters.get("reason") ?? ""
        guard !reason.isEmpty, reason.utf8.count <= 200 else {
            return APIError(status: 400, code: "invalid_parameter", message: "say why in reason= (1–200 bytes); it goes to the audit trail", field: "reason").response
        }
        let role = Principal.current?.role ?? .viewer
        return await write(request, allowEmptyBody: true) { _ in
            .success(.recordContactAccess(personID: id, reason: reason))
        } answer: { _ in
            switch self.loop.state.duty({ $0.contactMethods(of: id, readerRole: role) }) {
            case let .success(methods): return JSONResponse.api(ListPage(items: methods, next: nil))
            case let .failure(error): return APIError(error).response
            }
        }
    }

    // MARK: - Tickets

    func ticketID(_ context: VigilRequestContext) -> Result<TicketID, APIError> {
        let text = (context.parameters.get("id")?.removingPercentEncoding ?? "")
        guard let id = TicketID(text), id >= 1 else {
            return .failure(APIError(status: 400, code: "invalid_parameter", message: "a ticket id is a positive integer, not '\(text)'", field: "id"))
        }
        return .success(id)
    }

    func ticketAnswer(_ events: [DutyEvent], status: HTTPResponse.Status = .ok, id: TicketID? = nil) -> Response {
        let touched = id ?? events.lazy.compactMap(\.ticketID).first
        let ticket = touched.flatMap { id in loop.state.duty { $0.ticket(id) } }
        return JSONResponse.api(status: status, WriteAnswer<Ticket>(events: events, object: ticket))
    }

    func ticketAction(_ request: Request, _ context: VigilRequestContext) async -> Response {
        let id: TicketID
        switch ticketID(context) {
        case let .success(value): id = value
        case let .failure(error): return error.response
        }
        let action = context.parameters.get("action") ?? ""
        let build: (Data) -> Result<DutyCommand, APIError>
        var allowEmpty = false
        switch action {
        case "acknowledge":
            allowEmpty = true
            build = { _ in .success(.acknowledgeTicket(ticketID: id)) }
        case "resolve":
            allowEmpty = true
            build = { _ in .success(.resolveTicket(ticketID: id)) }
        case "transition":
            build = { body in APIJSON.decodeStrict(TransitionBody.self, from: body).map { .advanceTicket(ticketID: id, to: $0.stage) } }
        case "reopen":
            build = { body in APIJSON.decodeStrict(ReopenBody.self, from: body).map { .reopenTicket(ticketID: id, reason: $0.reason) } }
        case "assign":
            build = { body in APIJSON.decodeStrict(AssignBody.self, from: body).map { .assignTicket(ticketID: id, ownerID: $0.ownerID) } }
        case "priority":
            build = { body in APIJSON.decodeStrict(PriorityBody.self, from: body).map { .changePriority(ticketID: id, priority: $0.priority) } }
        case "comment":
            build = { body in
                APIJSON.decodeStrict(CommentBody.self, from: body).map { .addNote(ticketID: id, text: $0.text, customerVisible: $0.customerVisible ?? false) }
            }
        case "initial-solution":
            build = { body in APIJSON.decodeStrict(TextBody.self, from: body).map { .provideInitialSolution(ticketID: id, text: $0.text) } }
        case "waiting":
            build = { body in APIJSON.decodeStrict(WaitingBody.self, from: body).map { .setWaitingForCustomer(ticketID: id, waiting: $0.waiting) } }
        case "rate":
            build = { body in APIJSON.decodeStrict(RateBody.self, from: body).map { .submitFeedback(ticketID: id, rating: $0.rating, comment: $0.comment ?? "") } }
        default:
            return APIError(status: 404, code: "not_found",
                            message: "no ticket action '\(action)'; one of acknowledge, resolve, transition, reopen, assign, priority, comment, initial-solution, waiting, rate",
                            field: "action").response
        }
        return await write(request, allowEmptyBody: allowEmpty, build: build) { events in self.ticketAnswer(events, id: id) }
    }

    /// `limit` and `after` (a ticket id) of a paged list, or the 400 naming the bad one.
    static func cursor(_ query: Parameters, defaultLimit: Int, maximumLimit: Int) -> Result<(limit: Int, after: Int), APIError> {
        var limit = defaultLimit
        if let text = query.get("limit") {
            guard let value = Int(text), (1...maximumLimit).contains(value) else {
                return .failure(APIError(status: 400, code: "invalid_parameter", message: "limit must be 1–\(maximumLimit)", field: "limit"))
            }
            limit = value
        }
        var after = 0
        if let text = query.get("after") {
            guard let value = Int(text), value >= 0, value < Int(Int32.max) else {
                return .failure(APIError(status: 400, code: "invalid_parameter", message: "after must be a ticket id (0 … 2147483646)", field: "after"))
            }
            after = value
        }
        return .success((limit, after))
    }

    func listTickets(_ request: Request, _ state: DutyState) -> Response {
        let query = request.uri.queryParameters
        let limit: Int, after: Int
        switch Self.cursor(query, defaultLimit: 50, maximumLimit: 500) {
        case let .success(value): (limit, after) = value
        case let .failure(error): return error.response
        }
        var stage: TicketStage?
        if let text = query.get("stage") {
            guard let value = TicketStage(rawValue: text) else {
                return APIError(status: 400, code: "invalid_parameter", message: "unknown stage '\(text)'", field: "stage").response
            }
            stage = value
        }
        var priority: Priority?
        if let text = query.get("priority") {
            guard let value = Priority(rawValue: text.uppercased()) else {
                return APIError(status: 400, code: "invalid_parameter", message: "priority is P1–P4", field: "priority").response
            }
            priority = value
        }
        let openOnly = query.get("open") == "true"
        let service = query.get("service_id")
        let owner = query.get("owner_id")
        var items: [TicketSummary] = []
        var next: String?
        var id = after + 1
        while let ticket = state.ticket(id) {
            id += 1
            if let stage, ticket.stage != stage { continue }
            if let priority, ticket.priority != priority { continue }
            if openOnly, !ticket.stage.isOpen { continue }
            if let service, ticket.serviceID != service { continue }
            if let owner, ticket.ownerID != owner { continue }
            if items.count == limit {
                next = String(items.last!.id)
                break
            }
            items.append(TicketSummary(ticket))
        }
        return JSONResponse.api(ListPage(items: items, next: next))
    }

    // MARK: - Schedules and reports

    func onCall(_ request: Request, _ context: VigilRequestContext, _ state: DutyState) -> Response {
        let id = (context.parameters.get("id")?.removingPercentEncoding ?? "")
        guard let schedule = state.schedules[id] else { return APIError.notFound("schedule", id).response }
        var at = Self.nowMillis()
        if let text = request.uri.queryParameters.get("at") {
            // The schedule's calendar maths needs instants in 1970 … 9999, as every command's timestamps.
            guard let value = Timestamp(text), (0...253_402_300_799_999).contains(value) else {
                return APIError(status: 400, code: "invalid_parameter", message: "at is milliseconds since the epoch, 1970 … 9999", field: "at").response
            }
            at = value
        }
        var count = 5
        if let text = request.uri.queryParameters.get("next") {
            guard let value = Int(text), (0...100).contains(value) else {
                return APIError(status: 400, code: "invalid_parameter", message: "next must be 0–100", field: "next").response
            }
            count = value
        }
        return JSONResponse.api(OnCallAnswer(scheduleID: id, at: at, personID: schedule.onCall(at: at),
                                             nextShifts: schedule.nextShifts(after: at, count: count)))
    }

    /// Month, grouping and time zone of a report request, or the 400 that names the bad parameter.
    func reportParameters(_ request: Request) -> Result<(year: Int, month: Int, grouping: DutyReport.Grouping, timeZone: String), APIError> {
        let query = request.uri.queryParameters
        let month = query.get("month") ?? ""
        let parts = month.split(separator: "-")
        guard parts.count == 2, let year = Int(parts[0]), let number = Int(parts[1]) else {
            return .failure(APIError(status: 400, code: "invalid_parameter", message: "month is YYYY-MM, not '\(month)'", field: "month"))
        }
        guard let grouping = DutyReport.Grouping(rawValue: query.get("group") ?? "overall") else {
            return .failure(APIError(status: 400, code: "invalid_parameter", message: "group is overall, team or person", field: "group"))
        }
        return .success((year, number, grouping, query.get("time_zone") ?? "UTC"))
    }

    func report(_ request: Request, _ state: DutyState) -> Response {
        let parameters: (year: Int, month: Int, grouping: DutyReport.Grouping, timeZone: String)
        switch reportParameters(request) {
        case let .success(value): parameters = value
        case let .failure(error): return error.response
        }
        let report: DutyReport
        do {
            report = try DutyReport(state: state, year: parameters.year, month: parameters.month, timeZoneIdentifier: parameters.timeZone,
                                    grouping: parameters.grouping, asOf: Self.nowMillis())
        } catch {
            return APIError(error).response
        }
        if request.uri.queryParameters.get("format") == "csv" {
            return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: report.csv())))
        }
        return JSONResponse.api(ReportView(report, timeZone: parameters.timeZone))
    }

    /// Every breach of the month, a page at a time (the report lists only the first few of each group).
    func reportBreaches(_ request: Request, _ state: DutyState) -> Response {
        let parameters: (year: Int, month: Int, grouping: DutyReport.Grouping, timeZone: String)
        switch reportParameters(request) {
        case let .success(value): parameters = value
        case let .failure(error): return error.response
        }
        let query = request.uri.queryParameters
        let limit: Int, after: Int
        switch Self.cursor(query, defaultLimit: 100, maximumLimit: 1_000) {
        case let .success(value): (limit, after) = value
        case let .failure(error): return error.response
        }
        let group = query.get("group_name")
        if let group, group.isEmpty || group.utf8.count > 128 {
            return APIError(status: 400, code: "invalid_parameter", message: "group_name is a report row's group, 1–128 bytes", field: "group_name").response
        }
        do {
            let page = try DutyReport.breaches(state: state, year: parameters.year, month: parameters.month, timeZoneIdentifier: parameters.timeZone,
                                               grouping: parameters.grouping, group: group, afterTicketID: after, limit: limit,
                                               asOf: Self.nowMillis())
            return JSONResponse.api(ListPage(items: page.items.map(ReportView.BreachView.init), next: page.next.map { String($0) }))
        } catch {
            return APIError(error).response
        }
    }
}

// MARK: - Request bodies

struct IntegrationKeyBody: Codable, Sendable { let key: String }
struct HeartbeatBody: Codable, Sendable {
    let serviceID: String
    let intervalSeconds: Int64
    let graceSeconds: Int64?
}
struct TransitionBody: Codable, Sendable { let stage: TicketStage }
struct SampleBody: Codable, Sendable {
    let id: String
    let size: Int
    let seed: UInt64?
}
struct VerdictBody: Codable, Sendable {
    let ticketID: TicketID
    let verdict: SupervisionSample.Verdict
    let note: String
}
struct InspectionBody: Codable, Sendable {
    let channel: String
    let timesPerDay: Int
    let serviceID: String?
}
struct InspectionResultBody: Codable, Sendable {
    let passed: Bool
    let detail: String
}
struct ReopenBody: Codable, Sendable { let reason: String }
struct AssignBody: Codable, Sendable { let ownerID: String }
struct PriorityBody: Codable, Sendable { let priority: Priority }
struct CommentBody: Codable, Sendable {
    let text: String
    let customerVisible: Bool?
}
struct TextBody: Codable, Sendable { let text: String }
struct WaitingBody: Codable, Sendable { let waiting: Bool }
struct RateBody: Codable, Sendable {
    let rating: Int
    let comment: String?
}

extension DutyEvent {
    /// The ticket the event is about, if any.
    var ticketID: TicketID? {
        switch kind {
        case let .ticketRegistered(id, _, _), let .stageChanged(id, _, _), let .ticketReopened(id), let .ticketAcknowledged(id),
             let .ownerChanged(id, _, _), let .priorityChanged(id, _, _), let .noteAdded(id, _), let .initialSolutionProvided(id),
             let .waitingForCustomerChanged(id, _), let .slaMet(id, _), let .slaWarning(id, _, _), let .slaBreached(id, _, _),
             let .escalationSuppressed(id, _), let .alertDeduplicated(id, _, _), let .alertResolved(id, _),
             let .articlesSuggested(id, _), let .feedbackRecorded(id, _), let .heartbeatMissed(_, id):
            return id
        case let .followUpOpened(original, _): return original
        case let .escalationStepFired(step): return step.ticketID
        default: return nil
        }
    }
}

extension APIError {
    /// A rejected command: the model names the field and the reason.
    init(_ error: DutyError) {
        let status: Int
        switch error.reason {
        case .invalid, .limitExceeded: status = 400
        case .notFound: status = 404
        case .conflict, .illegalTransition, .notDue: status = 409
        case .forbidden: status = 403
        case .storage: status = 500
        }
        self.init(status: status, code: APIJSON.snake(error.reason.rawValue), message: error.message, field: APIJSON.snake(error.field))
    }

    static func notFound(_ what: String, _ id: String) -> APIError {
        APIError(status: 404, code: "not_found", message: "no \(what) '\(id)'", field: "id")
    }
}

extension JSONResponse {
    /// A JSON answer in the API's snake_case spelling.
    static func api(status: HTTPResponse.Status = .ok, _ value: some Encodable) -> Response {
        let data = (try? APIJSON.encoder().encode(value)) ?? Data("{}".utf8)
        var buffer = ByteBuffer()
        buffer.writeBytes(data)
        buffer.writeString("\n")
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: buffer))
    }
}
