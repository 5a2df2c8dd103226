import DutyModel

/// Hand-written JSON for the duty commands the paging scheduler proposes in bulk (page intents and outcomes, SLA
/// events, escalation steps, expiries, missed heartbeats, inspection results), PagerDuty and Alertmanager events,
/// heartbeats, new tickets, overrides and maintenance windows, and the one-ticket commands people send most
/// (acknowledge, resolve, reopen, advance, notes).
///
/// Why: these are most of the log, and Foundation's Codable JSON spent 20–90 µs on each of these 100–400 byte
/// entries, nearly all in generic dispatch, not in parsing. The members and values are those `JSONEncoder` writes
/// (in declaration order, where its order varies from process to process), so every release reads them. `decode`
/// takes only what it understands completely and answers nil for anything else, which `JSONDecoder` then decodes
/// as before: a test holds the two to the same value, or both to a refusal, on random and mutated entries.
package enum DutyProposalJSON {
    // MARK: Encoding

    /// The JSON of `proposal`, or nil when its command is not one of the commands written here.
    package static func encode(_ proposal: DutyProposal) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(contentsOf: #"{"command":{"#.utf8)
        switch proposal.command {
        case let .recordPageOutcomes(outcomes):
            out.append(contentsOf: #""recordPageOutcomes":{"_0":["#.utf8)
            for (index, outcome) in outcomes.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: #"{"key":"#.utf8)
                string(outcome.key, &out)
                out.append(contentsOf: #","result":"#.utf8)
                string(outcome.result.rawValue, &out)
                out.append(contentsOf: #","attempts":"#.utf8)
                integer(Int64(outcome.attempts), &out)
                out.append(contentsOf: #","detail":"#.utf8)
                string(outcome.detail, &out)
                out.append(UInt8(ascii: "}"))
            }
            out.append(contentsOf: "]}".utf8)
        case let .recordPageIntents(keys, leaderTerm):
            out.append(contentsOf: #""recordPageIntents":{"keys":["#.utf8)
            for (index, key) in keys.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                string(key, &out)
            }
            out.append(contentsOf: #"],"leaderTerm":"#.utf8)
            unsigned(leaderTerm, &out)
            out.append(UInt8(ascii: "}"))
        case let .recordSLAEvents(events):
            out.append(contentsOf: #""recordSLAEvents":{"_0":["#.utf8)
            for (index, event) in events.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: #"{"ticketID":"#.utf8)
                integer(Int64(event.ticketID), &out)
                out.append(contentsOf: #","target":"#.utf8)
                string(event.target.rawValue, &out)
                out.append(contentsOf: #","isBreach":"#.utf8)
                out.append(contentsOf: (event.isBreach ? "true" : "false").utf8)
                if let byCycle = event.keysNoticesByCycle {
                    out.append(contentsOf: #","keysNoticesByCycle":"#.utf8)
                    out.append(contentsOf: (byCycle ? "true" : "false").utf8)
                }
                out.append(UInt8(ascii: "}"))
            }
            out.append(contentsOf: "]}".utf8)
        case let .recordEscalationSteps(steps, leaderTerm):
            out.append(contentsOf: #""recordEscalationSteps":{"_0":["#.utf8)
            for (index, step) in steps.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: #"{"ticketID":"#.utf8)
                integer(Int64(step.ticketID), &out)
                out.append(contentsOf: #","stepIndex":"#.utf8)
                integer(Int64(step.stepIndex), &out)
                out.append(contentsOf: #","intendDuePages":"#.utf8)
                out.append(contentsOf: (step.intendDuePages ? "true" : "false").utf8)
                out.append(UInt8(ascii: "}"))
            }
            out.append(UInt8(ascii: "]"))
            if let leaderTerm {
                out.append(contentsOf: #","leaderTerm":"#.utf8)
                unsigned(leaderTerm, &out)
            }
            out.append(UInt8(ascii: "}"))
        case let .pagerDutyEvent(event):
            out.append(contentsOf: #""pagerDutyEvent":{"_0":{"routingKey":"#.utf8)
            string(event.routingKey, &out)
            out.append(contentsOf: #","action":"#.utf8)
            string(event.action.rawValue, &out)
            if let dedupKey = event.dedupKey {
                out.append(contentsOf: #","dedupKey":"#.utf8)
                string(dedupKey, &out)
            }
            for (name, value) in [("summary", event.summary), ("source", event.source), ("severity", event.severity)] {
                out.append(contentsOf: ",\"\(name)\":".utf8)
                string(value, &out)
            }
            if let details = event.details {
                out.append(contentsOf: #","details":"#.utf8)
                string(details, &out)
            }
            out.append(contentsOf: "}}".utf8)
        case let .acknowledgeTicket(ticketID):
            out.append(contentsOf: #""acknowledgeTicket":{"ticketID":"#.utf8)
            integer(Int64(ticketID), &out)
            out.append(UInt8(ascii: "}"))
        case let .resolveTicket(ticketID):
            out.append(contentsOf: #""resolveTicket":{"ticketID":"#.utf8)
            integer(Int64(ticketID), &out)
            out.append(UInt8(ascii: "}"))
        case let .alertmanagerNotification(notification):
            out.append(contentsOf: #""alertmanagerNotification":{"_0":{"routingKey":"#.utf8)
            string(notification.routingKey, &out)
            out.append(contentsOf: #","groupKey":"#.utf8)
            string(notification.groupKey, &out)
            out.append(contentsOf: #","severity":"#.utf8)
            string(notification.severity, &out)
            out.append(contentsOf: #","alerts":["#.utf8)
            for (index, alert) in notification.alerts.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: #"{"fingerprint":"#.utf8)
                string(alert.fingerprint, &out)
                out.append(contentsOf: #","firing":"#.utf8)
                bool(alert.firing, &out)
                out.append(contentsOf: #","summary":"#.utf8)
                string(alert.summary, &out)
                out.append(UInt8(ascii: "}"))
            }
            out.append(UInt8(ascii: "]"))
            if let details = notification.details {
                out.append(contentsOf: #","details":"#.utf8)
                string(details, &out)
            }
            out.append(contentsOf: "}}".utf8)
        case let .heartbeatPing(monitorID):
            out.append(contentsOf: #""heartbeatPing":{"monitorID":"#.utf8)
            string(monitorID, &out)
            out.append(UInt8(ascii: "}"))
        case let .heartbeatMissed(monitorID):
            out.append(contentsOf: #""heartbeatMissed":{"monitorID":"#.utf8)
            string(monitorID, &out)
            out.append(UInt8(ascii: "}"))
        case let .expireAcknowledgements(ticketIDs):
            out.append(contentsOf: #""expireAcknowledgements":{"ticketIDs":["#.utf8)
            for (index, ticketID) in ticketIDs.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                integer(Int64(ticketID), &out)
            }
            out.append(contentsOf: "]}".utf8)
        case let .recordInspectionResult(inspectionID, passed, detail):
            out.append(contentsOf: #""recordInspectionResult":{"inspectionID":"#.utf8)
            string(inspectionID, &out)
            out.append(contentsOf: #","passed":"#.utf8)
            bool(passed, &out)
            out.append(contentsOf: #","detail":"#.utf8)
            string(detail, &out)
            out.append(UInt8(ascii: "}"))
        case let .reopenTicket(ticketID, reason):
            ticketCommand("reopenTicket", ticketID, &out)
            out.append(contentsOf: #","reason":"#.utf8)
            string(reason, &out)
            out.append(UInt8(ascii: "}"))
        case let .advanceTicket(ticketID, stage):
            ticketCommand("advanceTicket", ticketID, &out)
            out.append(contentsOf: #","to":"#.utf8)
            string(stage.rawValue, &out)
            out.append(UInt8(ascii: "}"))
        case let .addNote(ticketID, text, customerVisible):
            ticketCommand("addNote", ticketID, &out)
            out.append(contentsOf: #","text":"#.utf8)
            string(text, &out)
            out.append(contentsOf: #","customerVisible":"#.utf8)
            bool(customerVisible, &out)
            out.append(UInt8(ascii: "}"))
        case let .provideInitialSolution(ticketID, text):
            ticketCommand("provideInitialSolution", ticketID, &out)
            out.append(contentsOf: #","text":"#.utf8)
            string(text, &out)
            out.append(UInt8(ascii: "}"))
        case let .setWaitingForCustomer(ticketID, waiting):
            ticketCommand("setWaitingForCustomer", ticketID, &out)
            out.append(contentsOf: #","waiting":"#.utf8)
            bool(waiting, &out)
            out.append(UInt8(ascii: "}"))
        case let .registerTicket(ticket):
            out.append(contentsOf: #""registerTicket":{"_0":{"kind":"#.utf8)
            string(ticket.kind.rawValue, &out)
            out.append(contentsOf: #","priority":"#.utf8)
            string(ticket.priority.rawValue, &out)
            out.append(contentsOf: #","title":"#.utf8)
            string(ticket.title, &out)
            out.append(contentsOf: #","description":"#.utf8)
            string(ticket.description, &out)
            out.append(contentsOf: #","serviceID":"#.utf8)
            string(ticket.serviceID, &out)
            if let customerID = ticket.customerID {
                out.append(contentsOf: #","customerID":"#.utf8)
                string(customerID, &out)
            }
            if let ownerID = ticket.ownerID {
                out.append(contentsOf: #","ownerID":"#.utf8)
                string(ownerID, &out)
            }
            out.append(contentsOf: "}}".utf8)
        case let .addScheduleOverride(scheduleID, override):
            out.append(contentsOf: #""addScheduleOverride":{"scheduleID":"#.utf8)
            string(scheduleID, &out)
            out.append(contentsOf: #","override":{"personID":"#.utf8)
            string(override.personID, &out)
            out.append(contentsOf: #","start":"#.utf8)
            integer(override.start, &out)
            out.append(contentsOf: #","end":"#.utf8)
            integer(override.end, &out)
            out.append(contentsOf: "}}".utf8)
        case let .addMaintenanceWindow(serviceID, window):
            out.append(contentsOf: #""addMaintenanceWindow":{"serviceID":"#.utf8)
            string(serviceID, &out)
            out.append(contentsOf: #","window":{"start":"#.utf8)
            integer(window.start, &out)
            out.append(contentsOf: #","end":"#.utf8)
            integer(window.end, &out)
            out.append(contentsOf: #","reason":"#.utf8)
            string(window.reason, &out)
            out.append(contentsOf: "}}".utf8)
        default:
            return nil
        }
        out.append(contentsOf: #"},"leaderTimestamp":"#.utf8)
        integer(proposal.leaderTimestamp, &out)
        out.append(contentsOf: #","actor":"#.utf8)
        string(proposal.actor.rawValue, &out)
        if let leaderTerm = proposal.leaderTerm {
            out.append(contentsOf: #","leaderTerm":"#.utf8)
            unsigned(leaderTerm, &out)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// `"name":{"ticketID":…`, the start of a command on one ticket; its other members follow.
    private static func ticketCommand(_ name: StaticString, _ ticketID: TicketID, _ out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        out.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        out.append(contentsOf: #"":{"ticketID":"#.utf8)
        integer(Int64(ticketID), &out)
    }

    private static func bool(_ value: Bool, _ out: inout [UInt8]) {
        out.append(contentsOf: (value ? "true" : "false").utf8)
    }

    private static func integer(_ value: Int64, _ out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        unsigned(value.magnitude, &out)
    }

    private static func unsigned(_ value: UInt64, _ out: inout [UInt8]) {
        var rest = value
        var count = 0
        repeat {
            count += 1
            rest /= 10
        } while rest > 0
        out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: count))
        var index = out.count
        rest = value
        repeat {
            index -= 1
            out[index] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        } while rest > 0
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// A JSON string: quotes, backslashes and control characters escaped, everything else as its UTF-8.
    private static func string(_ value: String, _ out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
            case 0x0A: out.append(contentsOf: #"\n"#.utf8)
            case 0x0D: out.append(contentsOf: #"\r"#.utf8)
            case 0x09: out.append(contentsOf: #"\t"#.utf8)
            case 0..<0x20:
                out.append(contentsOf: #"\u00"#.utf8)
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    // MARK: Decoding

    /// The proposal in `bytes` when they hold one of the commands written here in a shape read here; nil
    /// otherwise (the caller falls back to `JSONDecoder`).
    package static func decode(_ bytes: ArraySlice<UInt8>) -> DutyProposal? {
        bytes.withUnsafeBufferPointer { buffer in
            var reader = JSONReader(bytes: buffer)
            guard let proposal = reader.proposal() else { return nil }
            reader.skipSpace()
            return reader.atEnd ? proposal : nil
        }
    }
}

/// The duty commands `DutyProposalJSON` reads.
private extension JSONReader {
    mutating func proposal() -> DutyProposal? {
        var command: DutyCommand?
        var leaderTimestamp: Int64?
        var actor: String?
        var leaderTerm: UInt64?
        let read = object { reader, key in
            switch key {
            case "command": command = reader.command(); return command != nil
            case "leaderTimestamp": leaderTimestamp = reader.integer(); return leaderTimestamp != nil
            case "actor": actor = reader.string(); return actor != nil
            case "leaderTerm": leaderTerm = reader.unsigned(); return leaderTerm != nil
            default: return false
            }
        }
        guard read, let command, let leaderTimestamp, let actor else { return nil }
        return DutyProposal(command: command, leaderTimestamp: leaderTimestamp, actor: ActorID(actor), leaderTerm: leaderTerm)
    }

    /// One of the commands written here: an object with the case's name as its only key.
    mutating func command() -> DutyCommand? {
        var command: DutyCommand?
        let read = object { reader, name in
            guard command == nil else { return false }
            command = reader.arguments(of: name)
            return command != nil
        }
        return read ? command : nil
    }

    mutating func arguments(of name: String) -> DutyCommand? {
        switch name {
        case "recordPageOutcomes":
            return only("_0") { $0.array { $0.pageOutcome() } }.map { .recordPageOutcomes($0) }
        case "recordPageIntents":
            var keys: [String]?
            var leaderTerm: UInt64?
            guard object({ reader, key in
                switch key {
                case "keys": keys = reader.array { $0.string() }; return keys != nil
                case "leaderTerm": leaderTerm = reader.unsigned(); return leaderTerm != nil
                default: return false
                }
            }), let keys, let leaderTerm else { return nil }
            return .recordPageIntents(keys: keys, leaderTerm: leaderTerm)
        case "recordSLAEvents":
            return only("_0") { $0.array { $0.slaEvent() } }.map { .recordSLAEvents($0) }
        case "recordEscalationSteps":
            var steps: [EscalationStepRecord]?
            var leaderTerm: UInt64?
            guard object({ reader, key in
                switch key {
                case "_0": steps = reader.array { $0.escalationStep() }; return steps != nil
                case "leaderTerm": leaderTerm = reader.unsigned(); return leaderTerm != nil
                default: return false
                }
            }), let steps else { return nil }
            return .recordEscalationSteps(steps, leaderTerm: leaderTerm)
        case "pagerDutyEvent":
            return only("_0") { $0.pagerDutyEvent() }.map { .pagerDutyEvent($0) }
        case "acknowledgeTicket", "resolveTicket":
            guard let ticketID = only("ticketID", { $0.int() }) else { return nil }
            return name == "acknowledgeTicket" ? .acknowledgeTicket(ticketID: ticketID) : .resolveTicket(ticketID: ticketID)
        case "alertmanagerNotification":
            return only("_0") { $0.alertmanagerNotification() }.map { .alertmanagerNotification($0) }
        case "heartbeatPing", "heartbeatMissed":
            guard let monitorID = only("monitorID", { $0.string() }) else { return nil }
            return name == "heartbeatPing" ? .heartbeatPing(monitorID: monitorID) : .heartbeatMissed(monitorID: monitorID)
        case "expireAcknowledgements":
            return only("ticketIDs") { $0.array { $0.int() } }.map { .expireAcknowledgements(ticketIDs: $0) }
        case "recordInspectionResult":
            var inspectionID: String?, passed: Bool?, detail: String?
            guard object({ reader, key in
                switch key {
                case "inspectionID": inspectionID = reader.string(); return inspectionID != nil
                case "passed": passed = reader.bool(); return passed != nil
                case "detail": detail = reader.string(); return detail != nil
                default: return false
                }
            }), let inspectionID, let passed, let detail else { return nil }
            return .recordInspectionResult(inspectionID: inspectionID, passed: passed, detail: detail)
        case "reopenTicket", "advanceTicket", "addNote", "provideInitialSolution", "setWaitingForCustomer":
            return ticketCommand(name)
        case "registerTicket":
            return only("_0") { $0.newTicket() }.map { .registerTicket($0) }
        case "addScheduleOverride":
            var scheduleID: String?, override: OnCallSchedule.Override?
            guard object({ reader, key in
                switch key {
                case "scheduleID": scheduleID = reader.string(); return scheduleID != nil
                case "override": override = reader.scheduleOverride(); return override != nil
                default: return false
                }
            }), let scheduleID, let override else { return nil }
            return .addScheduleOverride(scheduleID: scheduleID, override: override)
        case "addMaintenanceWindow":
            var serviceID: String?, window: Service.MaintenanceWindow?
            guard object({ reader, key in
                switch key {
                case "serviceID": serviceID = reader.string(); return serviceID != nil
                case "window": window = reader.maintenanceWindow(); return window != nil
                default: return false
                }
            }), let serviceID, let window else { return nil }
            return .addMaintenanceWindow(serviceID: serviceID, window: window)
        default:
            return nil
        }
    }

    /// A command on one ticket: its `ticketID` and the members `name` has besides, all of them and no other.
    mutating func ticketCommand(_ name: String) -> DutyCommand? {
        var ticketID: Int?, text: String?, flag: Bool?
        // The one string and the one flag each command carries besides its ticket, if any.
        let (textKey, flagKey): (String?, String?)
        switch name {
        case "reopenTicket": (textKey, flagKey) = ("reason", nil)
        case "advanceTicket": (textKey, flagKey) = ("to", nil)
        case "addNote": (textKey, flagKey) = ("text", "customerVisible")
        case "provideInitialSolution": (textKey, flagKey) = ("text", nil)
        case "setWaitingForCustomer": (textKey, flagKey) = (nil, "waiting")
        default: return nil
        }
        guard object({ reader, key in
            switch key {
            case "ticketID": ticketID = reader.int(); return ticketID != nil
            case textKey: text = reader.string(); return text != nil
            case flagKey: flag = reader.bool(); return flag != nil
            default: return false
            }
        }), let ticketID, (text != nil) == (textKey != nil), (flag != nil) == (flagKey != nil) else { return nil }
        switch name {
        case "reopenTicket": return .reopenTicket(ticketID: ticketID, reason: text!)
        case "advanceTicket": return TicketStage(rawValue: text!).map { .advanceTicket(ticketID: ticketID, to: $0) }
        case "addNote": return .addNote(ticketID: ticketID, text: text!, customerVisible: flag!)
        case "provideInitialSolution": return .provideInitialSolution(ticketID: ticketID, text: text!)
        case "setWaitingForCustomer": return .setWaitingForCustomer(ticketID: ticketID, waiting: flag!)
        default: return nil
        }
    }

    mutating func newTicket() -> NewTicket? {
        var kind: TicketKind?, priority: Priority?, title: String?, description: String?, serviceID: String?
        var customerID: String?, ownerID: String?
        guard object({ reader, key in
            switch key {
            case "kind": kind = reader.string().flatMap(TicketKind.init(rawValue:)); return kind != nil
            case "priority": priority = reader.string().flatMap(Priority.init(rawValue:)); return priority != nil
            case "title": title = reader.string(); return title != nil
            case "description": description = reader.string(); return description != nil
            case "serviceID": serviceID = reader.string(); return serviceID != nil
            case "customerID": customerID = reader.string(); return customerID != nil
            case "ownerID": ownerID = reader.string(); return ownerID != nil
            default: return false
            }
        }), let kind, let priority, let title, let description, let serviceID else { return nil }
        return NewTicket(kind: kind, priority: priority, title: title, description: description, serviceID: serviceID,
                         customerID: customerID, ownerID: ownerID)
    }

    mutating func scheduleOverride() -> OnCallSchedule.Override? {
        var personID: String?, start: Int64?, end: Int64?
        guard object({ reader, key in
            switch key {
            case "personID": personID = reader.string(); return personID != nil
            case "start": start = reader.integer(); return start != nil
            case "end": end = reader.integer(); return end != nil
            default: return false
            }
        }), let personID, let start, let end else { return nil }
        return OnCallSchedule.Override(personID: personID, start: start, end: end)
    }

    mutating func maintenanceWindow() -> Service.MaintenanceWindow? {
        var start: Int64?, end: Int64?, reason: String?
        guard object({ reader, key in
            switch key {
            case "start": start = reader.integer(); return start != nil
            case "end": end = reader.integer(); return end != nil
            case "reason": reason = reader.string(); return reason != nil
            default: return false
            }
        }), let start, let end, let reason else { return nil }
        return Service.MaintenanceWindow(start: start, end: end, reason: reason)
    }

    mutating func alertmanagerNotification() -> AlertmanagerNotification? {
        var routingKey: String?, groupKey: String?, severity: String?, alerts: [AlertmanagerNotification.Alert]?, details: String?
        guard object({ reader, key in
            switch key {
            case "routingKey": routingKey = reader.string(); return routingKey != nil
            case "groupKey": groupKey = reader.string(); return groupKey != nil
            case "severity": severity = reader.string(); return severity != nil
            case "alerts": alerts = reader.array { $0.alertmanagerAlert() }; return alerts != nil
            case "details": details = reader.string(); return details != nil
            default: return false
            }
        }), let routingKey, let groupKey, let severity, let alerts else { return nil }
        return AlertmanagerNotification(routingKey: routingKey, groupKey: groupKey, severity: severity, alerts: alerts, details: details)
    }

    mutating func alertmanagerAlert() -> AlertmanagerNotification.Alert? {
        var fingerprint: String?, firing: Bool?, summary: String?
        guard object({ reader, key in
            switch key {
            case "fingerprint": fingerprint = reader.string(); return fingerprint != nil
            case "firing": firing = reader.bool(); return firing != nil
            case "summary": summary = reader.string(); return summary != nil
            default: return false
            }
        }), let fingerprint, let firing, let summary else { return nil }
        return AlertmanagerNotification.Alert(fingerprint: fingerprint, firing: firing, summary: summary)
    }

    mutating func pageOutcome() -> PageOutcome? {
        var key: String?
        var result: PageOutcome.Result?
        var attempts: Int?
        var detail: String?
        guard object({ reader, name in
            switch name {
            case "key": key = reader.string(); return key != nil
            case "result": result = reader.string().flatMap(PageOutcome.Result.init(rawValue:)); return result != nil
            case "attempts": attempts = reader.int(); return attempts != nil
            case "detail": detail = reader.string(); return detail != nil
            default: return false
            }
        }), let key, let result, let attempts, let detail else { return nil }
        return PageOutcome(key: key, result: result, attempts: attempts, detail: detail)
    }

    mutating func pagerDutyEvent() -> PagerDutyEvent? {
        var routingKey: String?
        var action: PagerDutyEvent.Action?
        var dedupKey: String?
        var summary: String?
        var source: String?
        var severity: String?
        var details: String?
        guard object({ reader, name in
            switch name {
            case "routingKey": routingKey = reader.string(); return routingKey != nil
            case "action": action = reader.string().flatMap(PagerDutyEvent.Action.init(rawValue:)); return action != nil
            case "dedupKey": dedupKey = reader.string(); return dedupKey != nil
            case "summary": summary = reader.string(); return summary != nil
            case "source": source = reader.string(); return source != nil
            case "severity": severity = reader.string(); return severity != nil
            case "details": details = reader.string(); return details != nil
            default: return false
            }
        }), let routingKey, let action, let summary, let source, let severity else { return nil }
        return PagerDutyEvent(routingKey: routingKey, action: action, dedupKey: dedupKey, summary: summary, source: source,
                              severity: severity, details: details)
    }

    mutating func slaEvent() -> SLAEventRecord? {
        var ticketID: Int?
        var target: SLATarget?
        var isBreach: Bool?
        var byCycle: Bool?
        guard object({ reader, name in
            switch name {
            case "ticketID": ticketID = reader.int(); return ticketID != nil
            case "target": target = reader.string().flatMap(SLATarget.init(rawValue:)); return target != nil
            case "isBreach": isBreach = reader.bool(); return isBreach != nil
            case "keysNoticesByCycle": byCycle = reader.bool(); return byCycle != nil
            default: return false
            }
        }), let ticketID, let target, let isBreach else { return nil }
        // The record's initialiser keeps only `true`; an explicit false (which no encoder writes) goes to JSONDecoder.
        guard byCycle != false else { return nil }
        return SLAEventRecord(ticketID: ticketID, target: target, isBreach: isBreach, keysNoticesByCycle: byCycle == true)
    }

    mutating func escalationStep() -> EscalationStepRecord? {
        var ticketID: Int?
        var stepIndex: Int?
        var intend: Bool?
        guard object({ reader, name in
            switch name {
            case "ticketID": ticketID = reader.int(); return ticketID != nil
            case "stepIndex": stepIndex = reader.int(); return stepIndex != nil
            case "intendDuePages": intend = reader.bool(); return intend != nil
            default: return false
            }
        }), let ticketID, let stepIndex, let intend else { return nil }
        return EscalationStepRecord(ticketID: ticketID, stepIndex: stepIndex, intendDuePages: intend)
    }
}
