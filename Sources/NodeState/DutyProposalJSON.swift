import DutyModel

/// Hand-written JSON for the duty commands the paging scheduler proposes in bulk (page intents and outcomes, SLA
/// events, escalation steps), PagerDuty events, and the one-ticket commands people send most (acknowledge, resolve).
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
        default:
            return nil
        }
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
