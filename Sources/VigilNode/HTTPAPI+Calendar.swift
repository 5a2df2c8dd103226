import DutyModel
import Foundation
import Hummingbird
import NIOCore

/// iCal feeds of the final on-call shifts (S9): per schedule or per person, at a secret URL that calendar apps
/// poll, revocable. `/api/v1/calendar-feeds` manages them (managers); `/calendar/{secret}` serves one (the secret is
/// the credential, as calendar apps send no token).
extension HTTPAPI {
    struct CalendarFeedRequest: Codable, Sendable {
        let id: String
        let scheduleID: String?
        let personID: String?
    }

    struct CalendarFeedInfo: Codable, Sendable {
        let id: String
        let scheduleID: String?
        let personID: String?
        let createdAt: Int64
        /// Only when created: the feed's address, with its secret.
        let url: String?
    }

    static let calendarFeedPrefix = "vgc_"
    /// Weeks a feed covers from today, unless `days` asks otherwise.
    static let calendarFeedDefaultDays = 56
    static let calendarFeedMaximumDays = 400

    /// `scheme://host` as the client reached this node, for addresses handed back to it (feeds, set-password links).
    func publicBase(_ request: Request) -> String {
        let host = request.head.authority ?? MemberDirectory.member(config.nodeID, config: config, state: loop.state).map { "\($0.http)" } ?? "localhost"
        return "\(config.api.scheme)://\(host)"
    }

    func addCalendarFeedRoutes(to router: RouterGroup<VigilRequestContext>) {
        let api = self
        router.get("/api/v1/calendar-feeds") { request, _ in
            // After the barrier `read` gives, but not inside its lock: the feed list takes the same lock.
            let barrier = await api.read(request) { _ in Response(status: .ok) }
            guard barrier.status == .ok else { return barrier }
            return JSONResponse.api(ListPage(items: api.loop.state.calendarFeeds.map {
                CalendarFeedInfo(id: $0.id, scheduleID: $0.scheduleID, personID: $0.personID, createdAt: $0.createdAt, url: nil)
            }, next: nil))
        }
        router.post("/api/v1/calendar-feeds") { request, _ in await api.createCalendarFeed(request) }
        router.delete("/api/v1/calendar-feeds/{id}") { request, context in
            let id = context.parameters.get("id")?.removingPercentEncoding ?? ""
            return await api.submit(.tokens(.revokeCalendarFeed(id: id)), request: request, body: nil) { outcome in
                switch outcome {
                case .tokens(.calendarFeedRevoked): return JSONResponse.api(["revoked": id])
                case .tokens(.notFound): return APIError.notFound("calendar feed", id).response
                default: return APIError(status: 500, code: "internal", message: "unexpected outcome revoking a feed").response
                }
            }
        }
    }

    func createCalendarFeed(_ request: Request) async -> Response {
        var request = request
        guard let buffer = try? await request.collectBody(upTo: 4096) else {
            return APIError(status: 413, code: "body_too_large", message: "a feed request has at most 4096 bytes").response
        }
        let body: CalendarFeedRequest
        switch APIJSON.decodeStrict(CalendarFeedRequest.self, from: Data(buffer.readableBytesView)) {
        case let .success(value): body = value
        case let .failure(error): return error.response
        }
        let secret = Self.calendarFeedPrefix + String(APIToken.generate().dropFirst(APIToken.prefix.count))
        let feed = TokenRegistry.CalendarFeed(id: body.id, sha256: APIToken.sha256Hex(secret), scheduleID: body.scheduleID,
                                              personID: body.personID, createdAt: Self.nowMillis())
        return await submit(.tokens(.createCalendarFeed(feed)), request: request, body: buffer) { outcome in
            switch outcome {
            case let .tokens(.calendarFeedCreated(feed)):
                return JSONResponse.api(status: .created, CalendarFeedInfo(id: feed.id, scheduleID: feed.scheduleID, personID: feed.personID,
                                                                           createdAt: feed.createdAt, url: "\(publicBase(request))/calendar/\(secret)"))
            case let .tokens(.notFound(what)): return APIError(status: 404, code: "not_found", message: "no schedule or person '\(what)'").response
            case let .tokens(.conflict(message)): return APIError(status: 409, code: "conflict", message: message, field: "id").response
            case let .tokens(.rejected(field, message)): return APIError(status: 400, code: "invalid_field", message: message, field: field).response
            default: return APIError(status: 500, code: "internal", message: "unexpected outcome creating a feed").response
            }
        }
    }

    /// The feed itself: shifts from `from` (a date, in the schedule's zone; today by default) for `days` days.
    func calendarFeed(_ request: Request, secret: String) async -> Response {
        guard secret.hasPrefix(Self.calendarFeedPrefix), secret.utf8.count < 128 else { return APIError.notFound("calendar feed", "?").response }
        let sha256 = APIToken.sha256Hex(secret)
        var feed = loop.state.calendarFeed(sha256: sha256)
        if feed == nil, case .success = await loop.readBarrier(timeout: Self.readTimeout) { feed = loop.state.calendarFeed(sha256: sha256) }
        // The secret is not echoed: it may be a real one, mistyped.
        guard let feed else { return APIError(status: 404, code: "not_found", message: "no such calendar feed (revoked?)").response }
        let query = request.uri.queryParameters
        var days = Self.calendarFeedDefaultDays
        if let text = query.get("days") {
            guard let value = Int(text), (1...Self.calendarFeedMaximumDays).contains(value) else {
                return APIError(status: 400, code: "invalid_parameter", message: "days is 1–\(Self.calendarFeedMaximumDays)", field: "days").response
            }
            days = value
        }
        var fromDate: LocalDate?
        if let text = query.get("from") {
            let parts = text.split(separator: "-").compactMap { Int($0) }
            let date = parts.count == 3 ? LocalDate(year: parts[0], month: parts[1], day: parts[2]) : nil
            guard let date, date.isValid, (1970...9998).contains(date.year) else {
                return APIError(status: 400, code: "invalid_parameter", message: "from is a date, YYYY-MM-DD", field: "from").response
            }
            fromDate = date
        }
        let now = Self.nowMillis()
        let clusterID = config.clusterID
        let rendered: String = loop.state.duty { state in
            let schedules = feed.scheduleID.map { id in [state.schedules[id]].compactMap { $0 } } ?? state.schedules.keys.sorted().compactMap { state.schedules[$0] }
            var events: [CalendarFeedRenderer.Event] = []
            for schedule in schedules {
                guard let clock = ZoneClock(identifier: schedule.timeZoneIdentifier) else { continue }
                let first = fromDate ?? clock.localDate(at: now)
                let start = clock.firstInstant(onOrAfterWall: first, minuteOfDay: 0)
                let end = clock.firstInstant(onOrAfterWall: LocalDate(daysSinceEpoch: first.daysSinceEpoch + Int64(days)), minuteOfDay: 0)
                for shift in schedule.finalTimeline(from: start, to: end) where feed.personID == nil || shift.personID == feed.personID {
                    let person = state.people[shift.personID]?.name ?? shift.personID
                    events.append(.init(uid: "\(schedule.id)-\(shift.start)-\(shift.personID)@vigil-\(clusterID)", personID: shift.personID,
                                        start: shift.start, end: shift.end,
                                        summary: "On call: \(person) (\(schedule.name))"))
                }
            }
            let name = feed.scheduleID.flatMap { state.schedules[$0]?.name } ?? feed.personID.flatMap { state.people[$0]?.name } ?? feed.id
            let zone = feed.scheduleID.flatMap { state.schedules[$0]?.timeZoneIdentifier }
                ?? feed.personID.flatMap { state.people[$0]?.timeZoneIdentifier } ?? "UTC"
            return CalendarFeedRenderer.render(name: "Vigil: \(name)", timeZone: zone, events: events.sorted { $0.start < $1.start }, stamp: now)
        }
        return Response(status: .ok, headers: [.contentType: "text/calendar; charset=utf-8", .cacheControl: "private, max-age=300"],
                        body: .init(byteBuffer: ByteBuffer(string: rendered)))
    }
}
