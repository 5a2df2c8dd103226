import DutyModel
import Foundation
import Hummingbird
import Testing
@testable import VigilNode

@Suite struct ConsoleTests {
    @Test("every catalog key a template names exists in English and Chinese, and both catalogs have the same keys")
    func theCatalogCoversTheTemplates() throws {
        let english = Set(ConsoleCatalog.en.keys), chinese = Set(ConsoleCatalog.zh.keys)
        #expect(english.subtracting(chinese).sorted() == [], "missing in Chinese")
        #expect(chinese.subtracting(english).sorted() == [], "missing in English")
        let pattern = try Regex(#"\{\{\s*t\.([a-z0-9_]+)\s*\}\}"#)
        var used = Set<String>()
        for (name, text) in ConsoleTemplates.all {
            for match in text.matches(of: pattern) {
                let key = String(match.output[1].substring ?? "")
                used.insert(key)
                #expect(english.contains(key), "template \(name) names '\(key)', which the catalog lacks")
            }
        }
        #expect(used.count > 100)
    }

    @Test("templates carry no words of their own: outside tags and Mustache tags there are no letters")
    func templatesHaveNoLiteralText() throws {
        let mustache = try Regex(#"\{\{\{?[^}]*\}?\}\}"#)
        let tag = try Regex(#"<[^>]*>"#)
        for (name, text) in ConsoleTemplates.all {
            let bare = text.replacing(mustache, with: " ").replacing(tag, with: " ")
            // "Vigil" is the product's name, the same in every language.
            let words = bare.replacingOccurrences(of: "Vigil", with: "").filter { $0.isLetter }
            #expect(words.isEmpty, "template \(name) has literal text: \(words.prefix(40))")
        }
    }

    @Test("Accept-Language picks the best supported language by q-value, English otherwise")
    func acceptLanguage() {
        typealias L = ConsoleCatalog.Language
        #expect(L.preferred(acceptLanguage: nil) == .en)
        #expect(L.preferred(acceptLanguage: "zh-CN,zh;q=0.9,en;q=0.8") == .zh)
        #expect(L.preferred(acceptLanguage: "en-GB,en;q=0.9,zh;q=0.5") == .en)
        #expect(L.preferred(acceptLanguage: "fr-FR,zh-TW;q=0.4") == .zh)
        #expect(L.preferred(acceptLanguage: "de, fr;q=0.5") == .en)
        #expect(L.preferred(acceptLanguage: "zh;q=0, en;q=0.1") == .en)
        #expect(L.preferred(acceptLanguage: ";;,,q=") == .en)
    }

    @Test("form bodies decode '+', percent escapes and UTF-8; the first of a repeated field counts")
    func formParsing() {
        let fields = Console.parseForm("person=alice&password=correct+horse%21&text=%E4%BD%A0%E5%A5%BD&empty=&person=mallory&=x&flag")
        #expect(fields["person"] == "alice")
        #expect(fields["password"] == "correct horse!")
        #expect(fields["text"] == "你好")
        #expect(fields["empty"] == "")
        #expect(fields["flag"] == "")
        #expect(fields[""] == nil)
    }

    @Test("after sign-in the browser goes only to a console path, never to another site")
    func nextIsAConsolePath() {
        #expect(Console.safeNext("/console/tickets?stage=registered") == "/console/tickets?stage=registered")
        for bad in [nil, "", "https://evil.example/", "//evil.example/console/", "/console\\..\\x", "/api/v1/tickets", "/console/\nx"] as [String?] {
            #expect(Console.safeNext(bad) == "/console/now", "\(String(describing: bad))")
        }
    }

    @Test("a wall time in a zone: the gap of a DST change moves forward, malformed input is nil")
    func wallTimes() {
        // 2027-03-28 02:30 does not exist in Berlin (02:00 → 03:00): the first instant after it is 03:00 CEST = 01:00 UTC.
        #expect(Console.instant(wall: "2027-03-28T02:30", zone: "Europe/Berlin") == 1_806_195_600_000)
        #expect(Console.instant(wall: "2027-03-27T22:00", zone: "Europe/Berlin") == 1_806_181_200_000)
        #expect(Console.instant(wall: "2027-03-27T22:00:59", zone: "UTC") == 1_806_184_800_000, "seconds are ignored")
        for bad in ["", "2027-03-27", "2027-02-30T10:00", "2027-03-27T24:00", "x-y-zT1:2", "2027-03-27T10:00"] {
            #expect(Console.instant(wall: bad, zone: bad.hasPrefix("2027-03-27T10") ? "Mars/Base" : "UTC") == nil, "\(bad)")
        }
    }

    @Test("hours of a shift: whole hours bare, otherwise one decimal")
    func hoursText() {
        #expect(Console.hours(7 * Console.hourMillis) == "7")
        #expect(Console.hours(9 * Console.hourMillis) == "9")
        #expect(Console.hours(Console.hourMillis * 17 / 2) == "8.5")
        #expect(Console.hours(29 * Console.hourMillis + 42 * 60_000) == "29.7")
    }

    @Test("the CSRF token is derived from the session secret: the same on every node, different per session")
    func csrfTokens() {
        let a = Console.csrfToken(secret: "vgs_one"), b = Console.csrfToken(secret: "vgs_two")
        #expect(a.count == 64 && a != b && a == Console.csrfToken(secret: "vgs_one"))
        #expect(Console.constantTimeEqual(a, a) && !Console.constantTimeEqual(a, b) && !Console.constantTimeEqual(a, String(a.dropLast())))
    }

    @Test("failed sign-ins: five per person, twenty per address, within a minute; a success clears the person")
    func signInLimits() {
        let limiter = SignInLimiter()
        let start = ContinuousClock.now
        let alice = ["address:127.0.0.1", "person:alice"]
        for _ in 0..<5 {
            #expect(limiter.mayTry(alice, now: start))
            limiter.recordFailure(alice, now: start)
        }
        #expect(!limiter.mayTry(alice, now: start))
        #expect(limiter.mayTry(["address:127.0.0.1", "person:bob"], now: start), "the address is not blocked after 5")
        #expect(limiter.mayTry(alice, now: start + .seconds(61)), "the minute passed")
        for _ in 0..<15 { limiter.recordFailure(["address:127.0.0.1"], now: start) }
        #expect(!limiter.mayTry(["address:127.0.0.1", "person:carol"], now: start), "20 failures from one address")
        let bob = ["address:10.0.0.1", "person:bob"]
        for _ in 0..<4 { limiter.recordFailure(bob, now: start) }
        limiter.recordSuccess(bob)
        limiter.recordFailure(bob, now: start)
        #expect(limiter.mayTry(bob, now: start))
    }

    @Test("sessions and passwords through the log: a person must exist, a password resets sessions, a revoked token ends its sessions")
    func credentialsApply() throws {
        let view = StateView()
        func apply(_ command: TokenCommand) throws -> ApplyOutcome { try view.mutate { $0.apply(ReplicatedCommand.tokens(command).encoded()) } }
        let bcrypt = "$2b$10$" + String(repeating: "a", count: 53)
        #expect(try apply(.setPassword(personID: "alice", bcrypt: bcrypt)) == .tokens(.notFound("alice")))
        let person = DutyProposal(command: .upsertPerson(Person(id: "alice", name: "Alice", role: .responder)), leaderTimestamp: 1, actor: ActorID("t"))
        _ = try view.mutate { $0.apply(ReplicatedCommand.duty(person).encoded()) }
        #expect(try apply(.setPassword(personID: "alice", bcrypt: "plain")) == .tokens(.rejected(field: "password", "not a bcrypt hash")))
        #expect(try apply(.setPassword(personID: "alice", bcrypt: bcrypt)) == .tokens(.passwordSet("alice")))
        #expect(view.passwordHash(of: "alice") == bcrypt)

        let secret = "vgs_" + String(APIToken.generate().dropFirst(4))
        let session = TokenRegistry.Session(sha256: APIToken.sha256Hex(secret), personID: "alice", tokenName: nil, openedAt: 1_000, expiresAt: 2_000)
        #expect(try apply(.openSession(session)) == .tokens(.sessionOpened(session)))
        #expect(view.session(for: TokenDigest(token: secret)) == session)
        #expect(try apply(.openSession(session)) == .tokens(.conflict("this session is already open")))
        let tooLong = TokenRegistry.Session(sha256: APIToken.sha256Hex("x"), personID: "alice", tokenName: nil, openedAt: 0,
                                            expiresAt: TokenRegistry.maximumSessionMilliseconds + 1)
        #expect(try apply(.openSession(tooLong)) == .tokens(.rejected(field: "expires_at", "a session lasts at most 30 days")))
        let nobody = TokenRegistry.Session(sha256: APIToken.sha256Hex("y"), personID: nil, tokenName: nil, openedAt: 0, expiresAt: 1)
        #expect(try apply(.openSession(nobody)) == .tokens(.rejected(field: "session", "a session belongs to a person or to a token, exactly one")))

        // A snapshot keeps sessions and passwords, and one written before them still reads.
        let copy = view.copy()
        let restored = try JSONDecoder().decode(TokenRegistry.self, from: JSONEncoder().encode(copy.tokens))
        #expect(restored == copy.tokens)
        let old = try JSONDecoder().decode(TokenRegistry.self, from: Data(#"{"records":{}}"#.utf8))
        #expect(old.sessions.isEmpty && old.passwords.isEmpty)

        // A new password ends the person's sessions.
        #expect(try apply(.setPassword(personID: "alice", bcrypt: bcrypt)) == .tokens(.passwordSet("alice")))
        #expect(view.session(for: TokenDigest(token: secret)) == nil)

        // A session opened with a token ends when the token is revoked.
        _ = try apply(.create(name: "ci", role: .viewer, sha256: APIToken.sha256Hex("vgl_ci"), createdAt: 1, personID: nil))
        let tokenSession = TokenRegistry.Session(sha256: APIToken.sha256Hex(secret), personID: nil, tokenName: "ci", openedAt: 3_000, expiresAt: 4_000)
        #expect(try apply(.openSession(tokenSession)) == .tokens(.sessionOpened(tokenSession)))
        _ = try apply(.revoke(name: "ci"))
        #expect(view.session(for: TokenDigest(token: secret)) == nil)
        #expect(try apply(.closeSession(sha256: tokenSession.sha256)) == .tokens(.notFound("session")))

        // Expired sessions go when another opens.
        let first = TokenRegistry.Session(sha256: APIToken.sha256Hex("s1"), personID: "alice", tokenName: nil, openedAt: 5_000, expiresAt: 6_000)
        let second = TokenRegistry.Session(sha256: APIToken.sha256Hex("s2"), personID: "alice", tokenName: nil, openedAt: 7_000, expiresAt: 8_000)
        _ = try apply(.openSession(first))
        _ = try apply(.openSession(second))
        #expect(view.copy().tokens.sessions.keys.sorted() == [second.sha256])
        #expect(try apply(.removePassword(personID: "alice")) == .tokens(.passwordRemoved("alice")))
        #expect(view.copy().tokens.sessions.isEmpty && view.passwordHash(of: "alice") == nil)

        // A one-time link: a newer one replaces it, it works once, not after it expires, and only for a person.
        let link1 = APIToken.sha256Hex("vgr_1"), link2 = APIToken.sha256Hex("vgr_2")
        #expect(try apply(.openPasswordReset(sha256: link1, personID: "nobody", openedAt: 10_000, expiresAt: 20_000)) == .tokens(.notFound("nobody")))
        #expect(try apply(.openPasswordReset(sha256: link1, personID: "alice", openedAt: 10_000, expiresAt: 20_000)) == .tokens(.passwordResetOpened("alice")))
        #expect(try apply(.openPasswordReset(sha256: link2, personID: "alice", openedAt: 11_000, expiresAt: 20_000)) == .tokens(.passwordResetOpened("alice")))
        #expect(view.passwordReset(sha256: link1) == nil && view.passwordReset(sha256: link2)?.personID == "alice")
        #expect(try apply(.usePasswordReset(sha256: link2, bcrypt: bcrypt, at: 20_000)) == .tokens(.notFound("link")), "expired")
        #expect(try apply(.usePasswordReset(sha256: link2, bcrypt: bcrypt, at: 12_000)) == .tokens(.passwordSet("alice")))
        #expect(view.passwordHash(of: "alice") == bcrypt)
        #expect(try apply(.usePasswordReset(sha256: link2, bcrypt: bcrypt, at: 12_000)) == .tokens(.notFound("link")), "used twice")
        #expect(try apply(.openPasswordReset(sha256: link1, personID: "alice", openedAt: 0, expiresAt: TokenRegistry.maximumResetMilliseconds + 1))
                == .tokens(.rejected(field: "expires_at", "a set-password link lasts at most 7 days")))
    }

    @Test("articles: Markdown becomes HTML; raw HTML shows as text; only web, mail and in-site links survive")
    func markdown() {
        let html = ConsoleMarkdown.html(from: "# Reset\n\nOpen **Settings** and [the guide](https://example.org/guide).\n\n<script>alert(1)</script>\n\n[x](javascript:alert(2)) ![i](data:image/png;base64,AA) [home](/console/now)")
        #expect(html.contains("<h1>Reset</h1>"))
        #expect(html.contains("<strong>Settings</strong>"))
        #expect(html.contains("<a href=\"https://example.org/guide\">the guide</a>"))
        #expect(html.contains("<a href=\"/console/now\">home</a>"))
        #expect(!html.contains("<script"), "\(html)")
        #expect(html.contains("&lt;script&gt;"), "\(html)")
        #expect(!html.contains("href=\"javascript:"), "\(html)")
        #expect(!html.contains("src=\"data:"), "\(html)")
    }

    @Test("escalation levels as text: minutes then targets per line, round-tripped; the first bad line is named")
    func levelsText() throws {
        let text = "5 schedule:primary, person:carol\n\n15 team:ops"
        let levels = try Console.levels(text).get()
        #expect(levels.map(\.delayMinutes) == [5, 15])
        #expect(levels[0].targets == [.schedule("primary"), .person("carol")])
        #expect(Console.levelsText(levels) == "5 schedule:primary, person:carol\n15 team:ops")
        for (bad, line) in [("x person:a", "1"), ("5 person:a\n5", "2"), ("5 robot:a", "1"), ("5 person", "1"), ("5 person:a\n\nx", "3")] {
            guard case let .failure(failure) = Console.levels(bad) else { Issue.record("\(bad) was accepted"); continue }
            #expect(failure.message == line, "\(bad)")
        }
    }

    @Test("the console's entries wait for every member to run 0.10: an older replica would skip them and part from the rest")
    func newEntriesNeedTheRelease() {
        let session = TokenRegistry.Session(sha256: APIToken.sha256Hex("x"), personID: "a", tokenName: nil, openedAt: 0, expiresAt: 1)
        for command in [ReplicatedCommand.tokens(.openSession(session)), .tokens(.closeSession(sha256: "x")),
                        .tokens(.setPassword(personID: "a", bcrypt: "b")), .tokens(.removePassword(personID: "a")),
                        .tokens(.openPasswordReset(sha256: "x", personID: "a", openedAt: 0, expiresAt: 1)),
                        .tokens(.usePasswordReset(sha256: "x", bcrypt: "b", at: 0)),
                        .duty(DutyProposal(command: .removeScheduleOverride(scheduleID: "s", override: .init(personID: "a", start: 0, end: 1)),
                                           leaderTimestamp: 0, actor: ActorID("t")))] {
            #expect(command.requiredRelease == ReplicatedCommand.consoleSince, "\(command)")
        }
        #expect(ReplicatedCommand.tokens(.revoke(name: "x")).requiredRelease == nil)
        #expect(ReplicatedCommand.duty(DutyProposal(command: .resolveTicket(ticketID: 1), leaderTimestamp: 0, actor: ActorID("t"))).requiredRelease == nil)
        #expect(VigilVersion.build >= ReplicatedCommand.consoleSince)
    }
}
