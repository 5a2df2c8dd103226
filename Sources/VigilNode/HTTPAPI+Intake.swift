import DutyModel
import Foundation
import Hummingbird
import NIOCore

/// Alert intake in the formats monitoring tools already speak: PagerDuty Events API v2 and the Prometheus
/// Alertmanager webhook (version 4). Both answer 2xx only once the event is committed and applied.
extension HTTPAPI {
    func addIntakeRoutes(to router: RouterGroup<VigilRequestContext>) {
        let api = self
        router.post("/v2/enqueue") { request, _ in await api.pagerDuty(request) }
        router.post("/v2/change/enqueue") { request, _ in await api.pagerDutyChange(request) }
        router.post("/api/v1/integrations/alertmanager/{key}") { request, context in
            await api.alertmanager(request, key: (context.parameters.get("key")?.removingPercentEncoding ?? ""))
        }
    }

    // MARK: - PagerDuty Events API v2

    func pagerDuty(_ request: Request) async -> Response {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: PagerDutyIntake.maximumBodyBytes)
        } catch {
            return PagerDutyIntake.invalid(status: 413, ["the event exceeds \(PagerDutyIntake.maximumBodyBytes) bytes"])
        }
        let event: PagerDutyEvent
        switch PagerDutyIntake.parse(Data(buffer.readableBytesView)) {
        case let .success(value): event = value
        case let .failure(problems): return PagerDutyIntake.invalid(status: 400, problems.messages)
        }
        guard integrationLimiter.allow(event.routingKey) else {
            return PagerDutyIntake.invalid(status: 429, ["routing key over its rate of \(config.api.integrationRequestsPerSecond) events/s"])
        }
        let actor = ActorID("pagerduty:\(event.routingKey.prefix(6))")
        let proposal = DutyProposal(command: .pagerDutyEvent(event), leaderTimestamp: 0, actor: actor, leaderTerm: await intakeTerm())
        return await submit(.duty(proposal), request: request, body: buffer) { outcome in
            switch outcome {
            case .duty(.success):
                return PagerDutyIntake.accepted(dedupKey: event.dedupKey ?? "")
            case let .duty(.failure(error)) where error.field == "dedupKey" && (error.reason == .notFound || error.reason == .conflict):
                // As PagerDuty does: acknowledging or resolving an alert that is not open (never was, already resolved,
                // already acknowledged) is accepted and changes nothing, so a monitor's retries and late resolves are not errors.
                return PagerDutyIntake.accepted(dedupKey: event.dedupKey ?? "")
            case let .duty(.failure(error)) where error.reason == .notFound:
                return PagerDutyIntake.invalid(status: 400, ["\(APIJSON.snake(error.field)): \(error.message)"])
            case let .duty(.failure(error)):
                return PagerDutyIntake.invalid(status: error.reason == .limitExceeded ? 429 : 400, ["\(APIJSON.snake(error.field)): \(error.message)"])
            default:
                return PagerDutyIntake.invalid(status: 500, ["the event was applied as something else"])
            }
        }
    }

    /// PagerDuty change events: recorded on the service's timeline (`GET /api/v1/services/{id}/changes`).
    func pagerDutyChange(_ request: Request) async -> Response {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: PagerDutyIntake.maximumBodyBytes)
        } catch {
            return PagerDutyIntake.invalid(status: 413, ["the event exceeds \(PagerDutyIntake.maximumBodyBytes) bytes"])
        }
        let event: ChangeEvent
        switch PagerDutyIntake.parseChange(Data(buffer.readableBytesView)) {
        case let .success(value): event = value
        case let .failure(problems): return PagerDutyIntake.invalid(status: 400, problems.messages)
        }
        guard integrationLimiter.allow(event.routingKey) else {
            return PagerDutyIntake.invalid(status: 429, ["routing key over its rate of \(config.api.integrationRequestsPerSecond) events/s"])
        }
        let actor = ActorID("pagerduty:\(event.routingKey.prefix(6))")
        return await submit(.duty(DutyProposal(command: .changeEvent(event), leaderTimestamp: 0, actor: actor)), request: request, body: buffer) { outcome in
            switch outcome {
            case .duty(.success):
                return JSONResponse.make(status: .accepted, ["status": "success", "message": "Change event processed"])
            case let .duty(.failure(error)):
                return PagerDutyIntake.invalid(status: 400, ["\(APIJSON.snake(error.field)): \(error.message)"])
            default:
                return PagerDutyIntake.invalid(status: 500, ["the event was applied as something else"])
            }
        }
    }

    // MARK: - Alertmanager webhook

    func alertmanager(_ request: Request, key: String) async -> Response {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: Self.maximumBodyBytes)
        } catch {
            return APIError(status: 413, code: "body_too_large", message: "the notification exceeds \(Self.maximumBodyBytes) bytes").response
        }
        let notification: AlertmanagerNotification
        switch AlertmanagerIntake.parse(Data(buffer.readableBytesView), routingKey: key) {
        case let .success(value): notification = value
        case let .failure(error): return error.response
        }
        let actor = ActorID("alertmanager:\(key.prefix(6))")
        let proposal = DutyProposal(command: .alertmanagerNotification(notification), leaderTimestamp: 0, actor: actor,
                                    leaderTerm: await intakeTerm())
        return await submit(.duty(proposal), request: request, body: buffer) { outcome in
            switch outcome {
            case let .duty(.success(events)):
                return JSONResponse.api(WriteAnswer<Ticket>(events: events, object: events.lazy.compactMap(\.ticketID).first.flatMap { id in
                    self.loop.state.duty { $0.ticket(id) }
                }))
            case let .duty(.failure(error)):
                // 4xx: Alertmanager does not retry these, which is right for an event that can never apply.
                return APIError(error).response
            default:
                return APIError(status: 500, code: "internal", message: "the notification was applied as something else").response
            }
        }
    }
}

/// Parsing and answers of the PagerDuty Events API v2 (`POST /v2/enqueue`), as PagerDuty documents them.
enum PagerDutyIntake {
    static let maximumBodyBytes = 512 * 1024
    static let severities: Set<String> = ["critical", "error", "warning", "info"]

    struct Body: Decodable {
        let routingKey: String?
        let eventAction: String?
        let dedupKey: String?
        let payload: Payload?
        let client: String?
        let clientURL: String?
        let links: [Link]?
        let images: [Image]?

        enum CodingKeys: String, CodingKey {
            case routingKey = "routing_key", eventAction = "event_action", dedupKey = "dedup_key", payload, client
            case clientURL = "client_url", links, images
        }
    }

    struct Payload: Decodable {
        let summary: String?
        let source: String?
        let severity: String?
        let timestamp: String?
        let component: String?
        let group: String?
        let `class`: String?
    }

    struct Link: Decodable {
        let href: String?
        let text: String?
    }

    struct Image: Decodable {
        let src: String?
        let href: String?
        let alt: String?
    }

    /// The event, or every problem found (PagerDuty lists them all in `errors`).
    static func parse(_ data: Data) -> Result<PagerDutyEvent, Problems> {
        let body: Body
        do {
            body = try JSONDecoder().decode(Body.self, from: data)
        } catch DecodingError.typeMismatch(_, let context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            return .failure(Problems(["'\(field)' has the wrong type"]))
        } catch {
            return .failure(Problems(["the body is not a JSON object"]))
        }
        var errors: [String] = []
        let key = body.routingKey ?? ""
        if key.isEmpty { errors.append("'routing_key' is missing") } else if key.utf8.count != 32 { errors.append("'routing_key' must be 32 characters") }
        let action = PagerDutyEvent.Action(rawValue: body.eventAction ?? "")
        if action == nil { errors.append("'event_action' must be trigger, acknowledge or resolve") }
        if let dedup = body.dedupKey, dedup.isEmpty || dedup.utf8.count > 255 { errors.append("'dedup_key' must be 1–255 characters") }
        if action == .acknowledge || action == .resolve, body.dedupKey == nil { errors.append("'dedup_key' is required to \(body.eventAction!)") }
        if action == .trigger {
            if let payload = body.payload {
                let summary = payload.summary ?? ""
                if summary.isEmpty { errors.append("'payload.summary' is missing") } else if summary.utf8.count > 1024 { errors.append("'payload.summary' is longer than 1024 characters") }
                if (payload.source ?? "").isEmpty { errors.append("'payload.source' is missing") }
                if !severities.contains(payload.severity ?? "") { errors.append("'payload.severity' must be critical, error, warning or info") }
                if let timestamp = payload.timestamp, ISO8601.parse(timestamp) == nil { errors.append("'payload.timestamp' is not an ISO 8601 date-time") }
            } else {
                errors.append("'payload' is missing")
            }
        }
        if (body.links?.count ?? 0) > 50 { errors.append("'links' has more than 50 entries") }
        if (body.images?.count ?? 0) > 50 { errors.append("'images' has more than 50 entries") }
        guard errors.isEmpty, let action else { return .failure(Problems(errors)) }
        // A trigger without a key gets one here, on the node that accepted it, so the answer can return it.
        let dedupKey = body.dedupKey ?? (action == .trigger ? UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "") : nil)
        return .success(PagerDutyEvent(routingKey: key, action: action, dedupKey: dedupKey, summary: body.payload?.summary ?? "",
                                       source: body.payload?.source ?? "", severity: body.payload?.severity ?? "error",
                                       details: action == .trigger ? details(of: data) : nil))
    }

    /// What a trigger carries beside summary, source and severity, as canonical JSON for the ticket's
    /// timeline; custom_details (then links and images) are left out, with their size, when it would not fit.
    static func details(of data: Data) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        let payload = object["payload"] as? [String: Any] ?? [:]
        var kept: [String: Any] = [:]
        for key in ["component", "group", "class", "custom_details", "timestamp"] { kept[key] = payload[key] }
        for key in ["links", "images", "client", "client_url"] { kept[key] = object[key] }
        return AlertDetails.canonical(kept, droppingInTurn: ["custom_details", "links", "images"])
    }

    struct ChangeBody: Decodable {
        let routingKey: String?
        let payload: ChangePayload?
        let links: [Link]?

        enum CodingKeys: String, CodingKey { case routingKey = "routing_key", payload, links }
    }

    struct ChangePayload: Decodable {
        let summary: String?
        let source: String?
        let timestamp: String?
    }

    /// A change event (`/v2/change/enqueue`), or every problem found.
    static func parseChange(_ data: Data) -> Result<ChangeEvent, Problems> {
        let body: ChangeBody
        do {
            body = try JSONDecoder().decode(ChangeBody.self, from: data)
        } catch {
            return .failure(Problems(["the body is not a JSON object of the change-event form"]))
        }
        var errors: [String] = []
        let key = body.routingKey ?? ""
        if key.utf8.count != 32 { errors.append("'routing_key' must be 32 characters") }
        let summary = body.payload?.summary ?? ""
        if summary.isEmpty { errors.append("'payload.summary' is missing") } else if summary.utf8.count > 1024 { errors.append("'payload.summary' is longer than 1024 characters") }
        var occurredAt: Int64?
        if let text = body.payload?.timestamp {
            if let date = ISO8601.parse(text) { occurredAt = Int64((date.timeIntervalSince1970 * 1000).rounded()) } else { errors.append("'payload.timestamp' is not an ISO 8601 date-time") }
        }
        if (body.links?.count ?? 0) > 20 { errors.append("'links' has more than 20 entries") }
        guard errors.isEmpty else { return .failure(Problems(errors)) }
        return .success(ChangeEvent(routingKey: key, summary: summary, source: body.payload?.source ?? "", occurredAt: occurredAt,
                                    links: (body.links ?? []).compactMap(\.href)))
    }

    /// Everything wrong with one event.
    struct Problems: Error {
        let messages: [String]
        init(_ messages: [String]) { self.messages = messages }
    }

    static func accepted(dedupKey: String) -> Response {
        JSONResponse.make(status: .accepted, ["status": "success", "message": "Event processed", "dedup_key": dedupKey])
    }

    static func invalid(status: Int, _ errors: [String]) -> Response {
        struct Answer: Encodable {
            let status: String
            let message: String
            let errors: [String]
        }
        let message = status == 429 ? "Too many requests" : status == 413 ? "Request too large" : "Event object is invalid"
        return JSONResponse.make(status: HTTPResponse.Status(code: status),
                                 Answer(status: status == 429 ? "throttle event" : "invalid event", message: message, errors: errors))
    }
}

/// ISO 8601 date-times as PagerDuty and Alertmanager send them (with or without fractional seconds).
enum ISO8601 {
    static func parse(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }
}

/// Parsing of the Alertmanager webhook payload (version 4).
enum AlertmanagerIntake {
    struct Body: Decodable {
        let version: String
        let groupKey: String
        let status: String
        let receiver: String?
        let groupLabels: [String: String]?
        let commonLabels: [String: String]?
        let commonAnnotations: [String: String]?
        let externalURL: String?
        let alerts: [Alert]
    }

    struct Alert: Decodable {
        let status: String
        let labels: [String: String]
        let annotations: [String: String]?
        let startsAt: String?
        let endsAt: String?
        let generatorURL: String?
        let fingerprint: String?
    }

    static func parse(_ data: Data, routingKey: String) -> Result<AlertmanagerNotification, APIError> {
        let body: Body
        do {
            body = try JSONDecoder().decode(Body.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            let field = (context.codingPath + [key]).map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return .failure(APIError(status: 400, code: "missing_field", message: "'\(field)' is required", field: field))
        } catch let DecodingError.typeMismatch(_, context) {
            let field = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return .failure(APIError(status: 400, code: "invalid_field", message: "'\(field)' has the wrong type", field: field))
        } catch {
            return .failure(APIError(status: 400, code: "invalid_json", message: "the body is not an Alertmanager webhook notification"))
        }
        guard body.version == "4" else {
            return .failure(APIError(status: 400, code: "invalid_field", message: "only webhook version \"4\" is understood, not \"\(body.version)\"", field: "version"))
        }
        var alerts: [AlertmanagerNotification.Alert] = []
        for (index, alert) in body.alerts.enumerated() {
            guard alert.status == "firing" || alert.status == "resolved" else {
                return .failure(APIError(status: 400, code: "invalid_field", message: "status must be firing or resolved", field: "alerts[\(index)].status"))
            }
            // Alertmanager always sends a fingerprint; older senders may not, so the sorted labels stand in.
            let fingerprint = alert.fingerprint ?? alert.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            let summary = alert.annotations?["summary"] ?? alert.labels["alertname"] ?? ""
            alerts.append(.init(fingerprint: fingerprint, firing: alert.status == "firing", summary: summary))
        }
        let severity = body.commonLabels?["severity"] ?? body.alerts.first?.labels["severity"] ?? "critical"
        let details = body.alerts.map { alert -> [String: Any] in
            var entry: [String: Any] = ["status": alert.status, "labels": alert.labels]
            entry["fingerprint"] = alert.fingerprint
            entry["annotations"] = alert.annotations
            entry["generator_url"] = alert.generatorURL
            return entry
        }
        var kept: [String: Any] = ["alerts": details]
        kept["external_url"] = body.externalURL
        return .success(AlertmanagerNotification(routingKey: routingKey, groupKey: body.groupKey, severity: severity, alerts: alerts,
                                                 details: AlertDetails.canonical(kept, droppingInTurn: ["alerts"])))
    }
}

/// Alert details as the ticket keeps them: JSON with sorted keys, at most `DutyLimits.maxAlertDetailsBytes`.
enum AlertDetails {
    /// Nil when nothing is left; keys of `droppingInTurn` are replaced by their size until the rest fits.
    static func canonical(_ object: [String: Any], droppingInTurn keys: [String]) -> String? {
        var object = object
        var candidates = keys[...]
        while !object.isEmpty {
            guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
                return nil
            }
            if data.count <= DutyLimits.maxAlertDetailsBytes { return String(decoding: data, as: UTF8.self) }
            guard let key = candidates.popFirst() else { return nil }
            if let value = object[key], let size = try? JSONSerialization.data(withJSONObject: ["v": value]).count {
                object[key] = nil
                object["\(key)_omitted_bytes"] = size
            }
        }
        return nil
    }
}

extension HTTPAPI {
    /// An alert that opens a ticket records its first escalation step and intends its due pages in the entry that
    /// registers it, once every member can apply that (`pagingAtIntakeSince`): the leader fills in its term.
    func intakeTerm() async -> UInt64? {
        await everyMemberRuns(Self.pagingAtIntakeSince) ? DutyProposal.termRequested : nil
    }
}
