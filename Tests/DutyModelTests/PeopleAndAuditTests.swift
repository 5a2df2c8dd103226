import Foundation
import Testing
@testable import DutyModel

@Suite struct PeopleAndAuditTests {
    @Test(arguments: [(Role.viewer, false), (.responder, false), (.manager, true), (.admin, true)])
    func contactDataIsReadableOnlyByAllowedRoles(role: Role, allowed: Bool) throws {
        let state = try Fixture.state()
        switch state.contactMethods(of: "bob", readerRole: role) {
        case .success(let methods):
            #expect(allowed)
            #expect(methods.map(\.kind) == [.chat, .sms, .phone])
        case .failure(let error):
            #expect(!allowed)
            #expect(error.reason == .forbidden)
        }
    }

    @Test func contactDataNeverAppearsInDescriptionsOrAudit() throws {
        var state = try Fixture.state()
        let bob = try #require(state.people["bob"])
        #expect(!"\(bob)".contains("+86"))
        #expect(!"\(bob.contactMethods)".contains("+86"))
        #expect(state.audit.recent.allSatisfy { !$0.subject.contains("+86") })
        #expect(Fixture.failure(&state, .recordContactAccess(personID: "bob", reason: "page"), at: Fixture.t0, actor: ActorID("erin"))?.reason == .forbidden)
        let events = try Fixture.ok(&state, .recordContactAccess(personID: "bob", reason: "escalation call"), at: Fixture.t0, actor: ActorID("dave"))
        #expect(events.map(\.kind) == [.contactDataAccessed(personID: "bob", reason: "escalation call")])
    }

    @Test func notificationPlanFollowsPersonalRules() throws {
        var state = try Fixture.state()
        let id = try Fixture.register(&state, kind: .emergency, priority: .p1, service: "web", at: Fixture.t0)
        let step = try #require(state.nextDueStep(id))
        #expect(step.personIDs == ["bob"])
        let plan = try state.notificationPlan(for: step, readerRole: .admin).get()
        #expect(plan.map(\.kind) == [.chat, .sms, .phone])
        #expect(plan.map { ($0.dueAt - Fixture.t0) / Fixture.minute } == [0, 1, 3])
        #expect(plan.map(\.idempotencyKey) == ["ticket-1-step-0-bob-chat", "ticket-1-step-0-bob-sms", "ticket-1-step-0-bob-call"])
        #expect(throws: DutyError.self) { try state.notificationPlan(for: step, readerRole: .responder).get() }
    }

    @Test func notificationRulesAreOrderedByDelay() throws {
        let state = try Fixture.state()
        #expect(state.people["bob"]?.notificationRules.map(\.delayMinutes) == [0, 1, 3])
    }

    @Test func invalidPeopleAndTeamsAreRejected() throws {
        var state = try Fixture.state()
        let cases: [(DutyCommand, String)] = [
            (.upsertPerson(Person(id: "", name: "X", role: .viewer)), "person.id"),
            (.upsertPerson(Person(id: "x y", name: "X", role: .viewer)), "person.id"),
            (.upsertPerson(Person(id: "x", name: "X", role: .viewer, timeZoneIdentifier: "Moon/Base")), "person.timeZoneIdentifier"),
            (.upsertPerson(Person(id: "x", name: "X", role: .viewer, contactMethods: [.init(id: "m", kind: .email, address: "nope")])), "person.contactMethods[0].address"),
            (.upsertPerson(Person(id: "x", name: "X", role: .viewer, contactMethods: [.init(id: "m", kind: .webhook, address: "ftp://x")])), "person.contactMethods[0].address"),
            (.upsertPerson(Person(id: "x", name: "X", role: .viewer, notificationRules: [.init(contactMethodID: "m", delayMinutes: 1)])), "person.notificationRules[0].contactMethodID"),
            (.upsertTeam(Team(id: "t", name: "T", memberIDs: [])), "team.memberIDs"),
            (.upsertTeam(Team(id: "t", name: "T", memberIDs: ["bob", "zed"])), "team.memberIDs[1]"),
            (.upsertService(Service(id: "s", name: "S", escalationPolicyID: "none")), "service.escalationPolicyID"),
        ]
        for (command, field) in cases {
            #expect(Fixture.failure(&state, command, at: Fixture.t0)?.field == field, "\(command.name)")
        }
    }

    @Test func everyCommandIsAuditedWithItsActor() throws {
        var state = try Fixture.state()
        let before = state.audit.totalCount
        _ = try Fixture.register(&state)
        try Fixture.ok(&state, .acknowledgeTicket(ticketID: 1), at: Fixture.t0, actor: ActorID("bob"))
        _ = Fixture.failure(&state, .acknowledgeTicket(ticketID: 1), at: Fixture.t0, actor: ActorID("carol"))
        #expect(state.audit.totalCount == before + 2, "rejected commands change nothing, not even the audit trail")
        #expect(state.audit.recent.suffix(2).map(\.actor) == [Fixture.admin, ActorID("bob")])
        #expect(state.audit.recent.last?.command == "acknowledgeTicket")
        #expect(state.audit.recent.last?.subject == "ticket:1")
    }

    /// The hand-written audit trail in the head must be the bytes `JSONEncoder` would write, or replicas on old and
    /// new code would hold different snapshots of one state.
    @Test func theAuditTrailInTheHeadIsWhatJSONEncoderWrites() throws {
        var state = try WorkingSetTests.busyState()
        #expect(state.headJSON() == state.headJSON(viaCodableOnly: true))
        let awkward = ["a/b", "quote \" and \\ back", "tab\tnew\nline\u{01}", "café", "emoji 🚨", "\u{2028}", "", "plain"]
        for (n, text) in awkward.enumerated() {
            state.audit.record(at: Timestamp(n) - 3, actor: ActorID(text), command: "c\(text)", subject: text)
        }
        // Integers are written by hand too: both ends of their range, and the digits' carries.
        for at in [Timestamp.min, .max, 9, 10, 99, 100, -10] {
            state.audit.record(at: at, actor: ActorID("ann"), command: "acknowledgeTicket", subject: "ticket:1")
        }
        #expect(state.headJSON() == state.headJSON(viaCodableOnly: true))
        // A full ring wraps: its next slot is no longer the end.
        for n in 0..<(DutyLimits.maxAuditEntriesKept + 37) {
            state.audit.record(at: Timestamp(n), actor: ActorID("ann"), command: "acknowledgeTicket", subject: "ticket:\(n)")
        }
        #expect(state.headJSON() == state.headJSON(viaCodableOnly: true))
        #expect(try DutyState.restore(from: state.snapshot()) == state)
    }

    /// The configuration's JSON comes from a memo of earlier encodings; a change to it must still reach the bytes,
    /// and an older configuration seen again must give its own bytes, not the latest ones.
    @Test func theRememberedConfigurationInTheHeadIsWhatJSONEncoderWrites() throws {
        var state = try WorkingSetTests.busyState()
        let before = state.headJSON()
        #expect(before == state.headJSON(viaCodableOnly: true))
        let original = state
        try Fixture.ok(&state, .upsertPerson(Person(id: "zed", name: "Zed \"/\\ é", role: .responder,
                                                    contactMethods: [ContactMethod(id: "m", kind: .email, address: "zed@example.org")])),
                       at: state.lastAppliedAt + 1)
        let after = state.headJSON()
        #expect(after != before)
        #expect(after == state.headJSON(viaCodableOnly: true))
        #expect(original.headJSON() == before)
        #expect(try DutyState.restore(from: state.snapshot()) == state)
    }

    @Test func anAckLinkActsAsTheLinkOfItsPageCutToWholeCharacters() {
        #expect(ActorID.ackLink(idempotencyKey: "ticket-3-step-0-bob-hook").rawValue == "ack-link:ticket-3-step-0-bob-hook")
        let long = ActorID.ackLink(idempotencyKey: String(repeating: "é", count: 200)).rawValue
        #expect(long.utf8.count == 127 && long.hasPrefix("ack-link:é") && long.hasSuffix("é"))
    }

    /// A restore reads the configuration from a memo of earlier decodings and the audit trail by hand: the state
    /// must be the one `JSONDecoder` reads from the whole head, for awkward strings, a wrapped ring, a configuration
    /// seen before and a changed one.
    @Test func theHeadReadInPartsIsWhatJSONDecoderReads() throws {
        func expectSameAsJSONDecoder(_ state: DutyState) throws {
            let json = state.headJSON()
            let whole = try JSONDecoder().decode(DutyState.self, from: Data(json))
            #expect(try DutyState.decodeHeadJSON(json[...]) == whole)
            // The second read comes from the memo.
            #expect(try DutyState.decodeHeadJSON(json[...]) == whole)
        }
        var state = try WorkingSetTests.busyState()
        try expectSameAsJSONDecoder(state)
        let awkward = ["a/b", "quote \" and \\ back", "tab\tnew\nline\u{01}", "café", "emoji 🚨", "\u{2028}", "", "plain"]
        for (n, text) in awkward.enumerated() {
            state.audit.record(at: Timestamp(-n), actor: ActorID(text), command: "c\(text)", subject: text)
        }
        try expectSameAsJSONDecoder(state)
        let original = state
        try Fixture.ok(&state, .upsertPerson(Person(id: "zed", name: "Zed \"/\\ é", role: .responder,
                                                    contactMethods: [ContactMethod(id: "m", kind: .email, address: "zed@example.org")])),
                       at: state.lastAppliedAt + 1)
        try expectSameAsJSONDecoder(state)
        try expectSameAsJSONDecoder(original)
        for n in 0..<(DutyLimits.maxAuditEntriesKept + 37) {
            state.audit.record(at: Timestamp(n), actor: ActorID("ann"), command: "acknowledgeTicket", subject: "ticket:\(n)")
        }
        try expectSameAsJSONDecoder(state)
    }

    /// Damaged heads: whatever the parts reader makes of them, it is what `JSONDecoder` makes of the whole, a state
    /// or a refusal; bytes cut, changed, inserted, and members written in another order or with spaces.
    @Test func aDamagedHeadReadsInPartsAsJSONDecoderReadsIt() throws {
        var state = try WorkingSetTests.busyState()
        for n in 0..<20 {
            state.audit.record(at: Timestamp(n), actor: ActorID("ann \(n)"), command: "acknowledgeTicket", subject: "ticket:\(n)")
        }
        let json = state.headJSON()
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func below(_ bound: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((seed >> 33) % UInt64(bound))
        }
        let alphabet = Array(#"{}[]",:0123456789-.e \/ntu"#.utf8)
        var variants: [[UInt8]] = [
            Array(String(decoding: json, as: UTF8.self).replacingOccurrences(of: ",", with: " , ").utf8),
            Array(String(decoding: json, as: UTF8.self).replacingOccurrences(of: #""nextSlot":"#, with: #""nextSlot":0,"nextSlot":"#).utf8),
            Array(String(decoding: json, as: UTF8.self).replacingOccurrences(of: #""ring":["#, with: #""extra":1,"ring":["#).utf8),
        ]
        for _ in 0..<300 {
            var bytes = json
            switch below(3) {
            case 0: bytes.removeSubrange(below(bytes.count)...)
            case 1: bytes[below(bytes.count)] = alphabet[below(alphabet.count)]
            default: bytes.insert(alphabet[below(alphabet.count)], at: below(bytes.count))
            }
            variants.append(bytes)
        }
        var refused = 0
        for bytes in variants {
            let whole = try? JSONDecoder().decode(DutyState.self, from: Data(bytes))
            let parts = try? DutyState.decodeHeadJSON(bytes[...])
            #expect(parts == whole, "\(String(decoding: bytes, as: UTF8.self).prefix(200))")
            if whole == nil { refused += 1 }
        }
        #expect(refused > 50 && refused < variants.count, "the damage both refuses and keeps heads: \(refused) refused")
    }

    @Test func theHeadsMembersAreFoundOnlyInAnObjectJSONEncoderCouldWrite() {
        func keys(_ text: String) -> [String]? { DutyState.topLevelMembers(of: Array(text.utf8)[...])?.map(\.key) }
        #expect(keys("{}") == [])
        #expect(keys(#"{"a":1,"b":{"c":[1,"]"]},"d":"x\"y"}"#) == ["a", "b", "d"])
        for bad in ["", "{", "}", "[]", #"{"a":}"#, #"{"a":1,}"#, #"{"a":1"#, #"{"a":{"b":1}"#, #"{"a" :1}"#, #"{"a":1}x"#, #"{"a":"x}"#] {
            #expect(keys(bad) == nil, "\(bad)")
        }
    }

    /// Only members of the head object itself are filled; a nested member of the same name keeps its value.
    @Test func fillingTheHeadLeavesNestedFieldsAlone() {
        let json = Array(#"{"a":{"people":{"x":"},\"people\":"}},"people":{},"z":[1,{"people":[]}],"zz":"s"}"#.utf8)
        let filled = DutyState.fillingTopLevelFields(of: json, with: ["people": Array(#"{"ann":1}"#.utf8)])
        #expect(String(decoding: filled, as: UTF8.self) == #"{"a":{"people":{"x":"},\"people\":"}},"people":{"ann":1},"z":[1,{"people":[]}],"zz":"s"}"#)
    }
}
