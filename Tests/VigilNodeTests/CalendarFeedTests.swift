import DutyModel
import Foundation
import Testing
@testable import VigilNode

@Suite struct CalendarFeedTests {
    @Test("instants in UTC basic format, before and after 1970 and across a leap day")
    func utcInstants() {
        #expect(CalendarFeedRenderer.utc(0) == "19700101T000000Z")
        #expect(CalendarFeedRenderer.utc(1_806_195_600_000) == "20270328T010000Z")
        #expect(CalendarFeedRenderer.utc(951_782_400_999) == "20000229T000000Z")
        #expect(CalendarFeedRenderer.utc(-1_000) == "19691231T235959Z")
    }

    @Test("TEXT escapes backslash, semicolon, comma and line breaks; long lines fold at 75 octets, not inside a character")
    func textAndFolding() {
        #expect(CalendarFeedRenderer.text("a\\b;c,d\ne") == "a\\\\b\\;c\\,d\\ne")
        let long = "SUMMARY:" + String(repeating: "值班", count: 40)
        let folded = CalendarFeedRenderer.fold(long)
        let lines = folded.components(separatedBy: "\r\n")
        #expect(lines.count > 1)
        #expect(lines.allSatisfy { $0.utf8.count <= 75 })
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix(" ") })
        #expect(lines.enumerated().map { $0.offset == 0 ? $0.element : String($0.element.dropFirst()) }.joined() == long)
        #expect(CalendarFeedRenderer.fold("SHORT") == "SHORT")
    }

    @Test("a calendar: CRLF lines, one VEVENT per shift with UID, times, summary and person")
    func calendar() {
        let text = CalendarFeedRenderer.render(name: "Vigil: Primary", timeZone: "Europe/Berlin", events: [
            .init(uid: "primary-1@vigil-c", personID: "alice", start: 1_806_181_200_000, end: 1_806_206_400_000, summary: "On call: Alice, nights"),
        ], stamp: 0)
        let lines = text.components(separatedBy: "\r\n")
        #expect(lines.first == "BEGIN:VCALENDAR" && lines.dropLast().last == "END:VCALENDAR" && lines.last == "")
        #expect(lines.contains("DTSTART:20270327T210000Z") && lines.contains("DTEND:20270328T040000Z"))
        #expect(lines.contains("SUMMARY:On call: Alice\\, nights"))
        #expect(lines.contains("X-VIGIL-PERSON:alice") && lines.contains("X-WR-TIMEZONE:Europe/Berlin"))
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
    }

    @Test("feeds through the log: a schedule or a person that exists, exactly one; revoked by name")
    func feedCommands() throws {
        let view = StateView()
        func apply(_ command: TokenCommand) throws -> ApplyOutcome { try view.mutate { $0.apply(ReplicatedCommand.tokens(command).encoded()) } }
        let feed = TokenRegistry.CalendarFeed(id: "f", sha256: APIToken.sha256Hex("vgc_x"), scheduleID: "nope", personID: nil, createdAt: 1)
        #expect(try apply(.createCalendarFeed(feed)) == .tokens(.notFound("nope")))
        let person = DutyProposal(command: .upsertPerson(Person(id: "alice", name: "Alice", role: .responder)), leaderTimestamp: 1, actor: ActorID("t"))
        _ = try view.mutate { $0.apply(ReplicatedCommand.duty(person).encoded()) }
        let both = TokenRegistry.CalendarFeed(id: "f", sha256: feed.sha256, scheduleID: "s", personID: "alice", createdAt: 1)
        #expect(try apply(.createCalendarFeed(both)) == .tokens(.notFound("s")))
        let alice = TokenRegistry.CalendarFeed(id: "f", sha256: feed.sha256, scheduleID: nil, personID: "alice", createdAt: 1)
        #expect(try apply(.createCalendarFeed(alice)) == .tokens(.calendarFeedCreated(alice)))
        #expect(view.calendarFeed(sha256: feed.sha256) == alice)
        #expect(try apply(.createCalendarFeed(alice)) == .tokens(.conflict("a feed named 'f' exists; revoke it first")))
        #expect(try apply(.revokeCalendarFeed(id: "f")) == .tokens(.calendarFeedRevoked("f")))
        #expect(view.calendarFeed(sha256: feed.sha256) == nil)
        #expect(ReplicatedCommand.tokens(.revokeCalendarFeed(id: "f")).requiredRelease == ReplicatedCommand.consoleSince)
    }
}
