import DutyModel
import Foundation
import Hummingbird
import Paging

/// The schedule and service pages: the final schedule as a server-drawn SVG timeline, overrides, escalation
/// policies, integration keys with their ready-to-paste URLs, maintenance windows.
extension Console {
    /// `YYYY-MM-DDTHH:MM[:SS]` (an HTML `datetime-local` value) read as wall time in `zone`; nil if malformed.
    static func instant(wall text: String, zone: String) -> Timestamp? {
        let parts = text.split(separator: "T")
        guard parts.count == 2, let clock = ZoneClock(identifier: zone) else { return nil }
        let date = parts[0].split(separator: "-").compactMap { Int($0) }
        let time = parts[1].split(separator: ":").compactMap { Int($0) }
        guard date.count == 3, time.count >= 2, (0..<24).contains(time[0]), (0..<60).contains(time[1]) else { return nil }
        let day = LocalDate(year: date[0], month: date[1], day: date[2])
        guard day.isValid, (1970...9999).contains(day.year) else { return nil }
        return clock.firstInstant(onOrAfterWall: day, minuteOfDay: time[0] * 60 + time[1])
    }

    /// The final shifts of seven days as one row per local day, placed by wall-clock time: a shift across midnight
    /// is drawn on both rows, and on a DST night the skipped (or repeated) hour shows in where the bar ends.
    static func timelineSVG(_ shifts: [OnCallSchedule.Shift], days: [(label: String, start: Timestamp, end: Timestamp)],
                            clock: ZoneClock, name: (String) -> String) -> String {
        let labelWidth = 90.0, hourWidth = 26.0, rowHeight = 26.0
        let width = labelWidth + 24 * hourWidth
        var svg = "<svg class=\"timeline\" role=\"img\" viewBox=\"0 0 \(Int(width)) \(Int(rowHeight * Double(days.count) + 20))\" xmlns=\"http://www.w3.org/2000/svg\">"
        for hour in stride(from: 0, through: 24, by: 6) {
            let x = labelWidth + Double(hour) * hourWidth
            svg += "<text x=\"\(x)\" y=\"12\">\(hour):00</text>"
        }
        for (row, day) in days.enumerated() {
            let y = 18 + Double(row) * rowHeight
            svg += "<text x=\"2\" y=\"\(y + 16)\">\(PageText.html(day.label))</text>"
            let dayWall = clock.wallMillis(at: day.start)
            for shift in shifts where shift.end > day.start && shift.start < day.end {
                let from = max(shift.start, day.start), to = min(shift.end, day.end)
                // The end of the day is 24:00 on the wall, whatever the offset then.
                let toWall = to == day.end ? dayWall + dayMillis : clock.wallMillis(at: to)
                let x = labelWidth + Double(clock.wallMillis(at: from) - dayWall) / Double(hourMillis) * hourWidth
                let w = max(1, Double(toWall - clock.wallMillis(at: from)) / Double(hourMillis) * hourWidth)
                svg += "<rect class=\"shift\" x=\"\(x)\" y=\"\(y)\" width=\"\(w)\" height=\"\(rowHeight - 4)\"><title>\(PageText.html(name(shift.personID)))</title></rect>"
                if w > 40 { svg += "<text x=\"\(x + 3)\" y=\"\(y + 15)\">\(PageText.html(String(shift.personID.prefix(Int(w / 7)))))</text>" }
            }
        }
        return svg + "</svg>"
    }

    func schedulesPage(_ request: Request, _ viewer: Viewer) async -> Response {
        let state = await readState()
        let query = request.uri.queryParameters
        let ids = state.schedules.keys.sorted()
        let chosen = query.get("id").flatMap { state.schedules[$0] != nil ? $0 : nil } ?? ids.first
        var data: [String: Any] = ["choices": Self.options(ids, selected: chosen, value: { $0 }) { state.schedules[$0]?.name ?? $0 }]
        guard let chosen, let schedule = state.schedules[chosen], let clock = ZoneClock(identifier: schedule.timeZoneIdentifier) else {
            return page("schedules", titleKey: "title_schedules", request: request, viewer: viewer, data: data)
        }
        let now = HTTPAPI.nowMillis()
        var firstDay = clock.localDate(at: now)
        if let text = query.get("from") {
            let parts = text.split(separator: "-").compactMap { Int($0) }
            if parts.count == 3 {
                let day = LocalDate(year: parts[0], month: parts[1], day: parts[2])
                if day.isValid, (1970...9998).contains(day.year) { firstDay = day }
            }
        }
        let days = (0..<7).map { offset -> (label: String, start: Timestamp, end: Timestamp) in
            let day = LocalDate(daysSinceEpoch: firstDay.daysSinceEpoch + Int64(offset))
            let next = LocalDate(daysSinceEpoch: day.daysSinceEpoch + 1)
            return (day.description, clock.firstInstant(onOrAfterWall: day, minuteOfDay: 0), clock.firstInstant(onOrAfterWall: next, minuteOfDay: 0))
        }
        let shifts = schedule.finalTimeline(from: days[0].start, to: days[6].end)
        var view: [String: Any] = [
            "id": chosen, "zone": schedule.timeZoneIdentifier,
            "svg": Self.timelineSVG(shifts, days: days, clock: clock) { Self.personName($0, state) },
            "shifts": shifts.map { shift -> [String: Any] in
                var fields: [String: Any] = ["person": Self.personName(shift.personID, state), "hours": Self.hours(shift.durationMillis)]
                fields.merge(Self.timeFields("start", shift.start)) { $1 }
                fields.merge(Self.timeFields("end", shift.end)) { $1 }
                return fields
            },
            "layers": schedule.layers.indices.map { index -> [String: Any] in
                let layer = schedule.layers[index]
                let shifts = schedule.layerShifts(index, from: days[0].start, to: days[6].end)
                return ["name": layer.name, "people": layer.userIDs.map { Self.personName($0, state) }.joined(separator: ", "),
                        "svg": Self.timelineSVG(shifts, days: days, clock: clock) { Self.personName($0, state) }]
            },
            "overrides": schedule.overrides.map { override -> [String: Any] in
                var fields: [String: Any] = ["person": Self.personName(override.personID, state), "person_id": override.personID, "id": chosen]
                fields.merge(Self.timeFields("start", override.start)) { $1 }
                fields.merge(Self.timeFields("end", override.end)) { $1 }
                return fields
            },
            "people": Self.options(state.people.keys.sorted(), selected: nil, value: { $0 }) { Self.personName($0, state) },
        ]
        if let at = query.get("at"), let instant = Self.instant(wall: at, zone: schedule.timeZoneIdentifier) {
            data["at"] = at
            view["at"] = at
            view["at_person"] = Self.personName(schedule.onCall(at: instant), state)
        }
        data["schedule"] = view
        data["from"] = firstDay.description
        return page("schedules", titleKey: "title_schedules", request: request, viewer: viewer, data: data)
    }

    func addOverride(_ request: Request, _ context: VigilRequestContext, _ form: [String: String], _ viewer: Viewer) async -> Response {
        let id = context.parameters.get("id")?.removingPercentEncoding ?? ""
        guard let zone = api.loop.state.duty({ $0.schedules[id]?.timeZoneIdentifier }) else {
            return problem(request, viewer, status: .notFound, key: "not_found")
        }
        guard let start = Self.instant(wall: form["start"] ?? "", zone: zone), let end = Self.instant(wall: form["end"] ?? "", zone: zone) else {
            return problem(request, viewer, status: .badRequest, key: "invalid_input", argument: "start, end")
        }
        let override = OnCallSchedule.Override(personID: form["person"] ?? "", start: start, end: end)
        return afterWrite(await submitDuty(.addScheduleOverride(scheduleID: id, override: override), request, viewer), request, viewer,
                          back: "/console/schedules?id=\(Self.formEncode(id))")
    }

    func removeOverride(_ request: Request, _ context: VigilRequestContext, _ form: [String: String], _ viewer: Viewer) async -> Response {
        let id = context.parameters.get("id")?.removingPercentEncoding ?? ""
        guard let start = form["start_ms"].flatMap(Timestamp.init), let end = form["end_ms"].flatMap(Timestamp.init) else {
            return problem(request, viewer, status: .badRequest, key: "invalid_input", argument: "start, end")
        }
        let override = OnCallSchedule.Override(personID: form["person"] ?? "", start: start, end: end)
        return afterWrite(await submitDuty(.removeScheduleOverride(scheduleID: id, override: override), request, viewer), request, viewer,
                          back: "/console/schedules?id=\(Self.formEncode(id))")
    }

    // MARK: - Services and escalation policies

    func servicesPage(_ request: Request, _ viewer: Viewer) async -> Response {
        let state = await readState()
        let t = ConsoleCatalog.messages(Self.language(request))
        let base = api.publicBase(request)
        let services = state.services.keys.sorted().compactMap { id -> [String: Any]? in
            guard let service = state.services[id] else { return nil }
            return [
                "id": id, "name": service.name, "team": service.teamID.flatMap { state.teams[$0]?.name } ?? "—",
                "policy": service.escalationPolicyID ?? "—", "sla": service.slaPolicyID ?? "—",
                "keys": service.integrationKeys.map { key in
                    ["key": key, "alertmanager": "\(base)/api/v1/integrations/alertmanager/\(key)", "pagerduty": "\(base)/v2/enqueue"]
                },
                "windows": service.maintenanceWindows.map { window -> [String: Any] in
                    var fields: [String: Any] = ["reason": window.reason]
                    fields.merge(Self.timeFields("start", window.start)) { $1 }
                    fields.merge(Self.timeFields("end", window.end)) { $1 }
                    return fields
                },
            ]
        }
        let policies = state.escalationPolicies.keys.sorted().compactMap { id -> [String: Any]? in
            guard let policy = state.escalationPolicies[id]?.last else { return nil }
            return ["id": id, "name": policy.name, "version": "\(policy.version)", "levels": policy.levels.map { level -> [String: Any] in
                let targets = level.targets.map { target -> String in
                    switch target {
                    case let .person(id): Self.personName(id, state)
                    case let .schedule(id): "\(t["schedule"] ?? "schedule"): \(state.schedules[id]?.name ?? id)"
                    case let .team(id): "\(t["team"] ?? "team"): \(state.teams[id]?.name ?? id)"
                    }
                }
                return ["delay": "\(level.delayMinutes)", "targets": targets.joined(separator: ", ")]
            }]
        }
        return page("services", titleKey: "title_services", request: request, viewer: viewer, data: ["services": services, "policies": policies])
    }

    func serviceEditPage(_ request: Request, _ context: VigilRequestContext, _ viewer: Viewer) async -> Response {
        let id = context.parameters.get("id")?.removingPercentEncoding ?? ""
        let state = await readState()
        guard let service = state.services[id] else { return problem(request, viewer, status: .notFound, key: "not_found") }
        let t = ConsoleCatalog.messages(Self.language(request))
        return page("service_edit", title: "\(t["title_service_edit"] ?? ""): \(service.name)", request: request, viewer: viewer, data: [
            "id": id, "zone": "UTC", "name": service.name,
            "teams": Self.options(state.teams.keys.sorted(), selected: service.teamID, value: { $0 }) { state.teams[$0]?.name ?? $0 },
            "policies": Self.options(state.escalationPolicies.keys.sorted(), selected: service.escalationPolicyID, value: { $0 }) {
                state.escalationPolicies[$0]?.last?.name ?? $0
            },
            "slas": Self.options(state.slaPolicies.keys.sorted(), selected: service.slaPolicyID, value: { $0 }) { state.slaPolicies[$0]?.last?.name ?? $0 },
        ])
    }

    /// `5 schedule:primary, person:carol` per line → levels; the number of the first bad line otherwise.
    static func levels(_ text: String) -> Result<[EscalationPolicy.Level], ConsoleFailure> {
        var levels: [EscalationPolicy.Level] = []
        for (number, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() where !line.allSatisfy(\.isWhitespace) {
            let parts = line.trimmingCharacters(in: .whitespaces).split(separator: " ", maxSplits: 1)
            var targets: [EscalationPolicy.Target] = []
            for item in (parts.count == 2 ? parts[1] : "").split(separator: ",") {
                let pair = item.trimmingCharacters(in: .whitespaces).split(separator: ":", maxSplits: 1).map(String.init)
                guard pair.count == 2 else { return .failure(ConsoleFailure("\(number + 1)")) }
                switch pair[0] {
                case "person": targets.append(.person(pair[1]))
                case "schedule": targets.append(.schedule(pair[1]))
                case "team": targets.append(.team(pair[1]))
                default: return .failure(ConsoleFailure("\(number + 1)"))
                }
            }
            guard let minutes = Int(parts.first ?? ""), !targets.isEmpty else { return .failure(ConsoleFailure("\(number + 1)")) }
            levels.append(EscalationPolicy.Level(targets: targets, delayMinutes: minutes))
        }
        return .success(levels)
    }

    static func levelsText(_ levels: [EscalationPolicy.Level]) -> String {
        levels.map { level in
            "\(level.delayMinutes) " + level.targets.map { target -> String in
                switch target {
                case let .person(id): "person:\(id)"
                case let .schedule(id): "schedule:\(id)"
                case let .team(id): "team:\(id)"
                }
            }.joined(separator: ", ")
        }.joined(separator: "\n")
    }

    func policyEditPage(_ request: Request, _ viewer: Viewer) async -> Response {
        let id = String((request.uri.queryParameters.get("id") ?? "").prefix(128))
        let policy = await readState().escalationPolicies[id]?.last
        return page("policy_edit", titleKey: "title_policy_edit", request: request, viewer: viewer, data: [
            "id": id, "name": policy?.name ?? "", "levels": policy.map { Self.levelsText($0.levels) } ?? "",
            "repeat_count": "\(policy?.repeatCount ?? 0)", "repeat_from_level": "\((policy?.repeatFromLevel ?? 0) + 1)",
        ])
    }

    func savePolicy(_ request: Request, _ form: [String: String], _ viewer: Viewer) async -> Response {
        let levels: [EscalationPolicy.Level]
        switch Self.levels(form["levels"] ?? "") {
        case let .success(value): levels = value
        case let .failure(line): return problem(request, viewer, status: .badRequest, key: "invalid_levels", argument: line.message)
        }
        let id = form["id"] ?? ""
        let draft = EscalationPolicy.Draft(id: id, name: form["name"] ?? "", levels: levels, repeatCount: Int(form["repeat_count"] ?? "") ?? 0,
                                           repeatFromLevel: max(0, (Int(form["repeat_from_level"] ?? "") ?? 1) - 1))
        return afterWrite(await submitDuty(.upsertEscalationPolicy(draft), request, viewer), request, viewer, back: "/console/services")
    }

    func editService(_ request: Request, _ context: VigilRequestContext, _ form: [String: String], _ viewer: Viewer) async -> Response {
        let id = context.parameters.get("id")?.removingPercentEncoding ?? ""
        let command: DutyCommand
        switch context.parameters.get("what") ?? "" {
        case "maintenance-windows":
            guard let start = Self.instant(wall: form["start"] ?? "", zone: "UTC"), let end = Self.instant(wall: form["end"] ?? "", zone: "UTC") else {
                return problem(request, viewer, status: .badRequest, key: "invalid_input", argument: "start, end")
            }
            command = .addMaintenanceWindow(serviceID: id, window: Service.MaintenanceWindow(start: start, end: end, reason: form["reason"] ?? ""))
        case "integration-keys":
            command = .addIntegrationKey(serviceID: id, key: form["key"] ?? "")
        case "settings":
            guard let current = api.loop.state.duty({ $0.services[id] }) else { return problem(request, viewer, status: .notFound, key: "not_found") }
            func chosen(_ name: String) -> String? { form[name].flatMap { $0.isEmpty ? nil : $0 } }
            command = .upsertService(Service(id: id, name: form["name"] ?? "", teamID: chosen("team_id"), escalationPolicyID: chosen("escalation_policy_id"),
                                             slaPolicyID: chosen("sla_policy_id"), acknowledgementTimeoutSeconds: current.acknowledgementTimeoutSeconds))
        default:
            return problem(request, viewer, status: .notFound, key: "not_found")
        }
        return afterWrite(await submitDuty(command, request, viewer), request, viewer, back: "/console/services")
    }
}
