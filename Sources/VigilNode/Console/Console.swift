import Crypto
import DutyModel
import Foundation
import Hummingbird
import HummingbirdBcrypt
import Mustache
import NIOCore
import NIOPosix
import Paging
import Synchronization

/// The web console every node serves at `/`: server-rendered pages (Mustache, escaping by default), a session
/// cookie opened through the log so it is valid on every node, a CSRF token in every form, and live updates
/// over Server-Sent Events. Writes take the API's path (`HTTPAPI.submit`): a follower forwards them.
struct Console: Sendable {
    let api: HTTPAPI
    let library: MustacheLibrary
    let signIns: SignInLimiter

    static let sessionCookie = "vigil_session"
    static let languageCookie = "vigil_lang"
    static let sessionPrefix = "vgs_"
    static let sessionMilliseconds: Int64 = 12 * 3_600_000
    static let maximumFormBytes = 64 << 10
    /// No inline script or style anywhere, so neither is allowed: an injected `<script>` would not run.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    init(api: HTTPAPI) {
        self.api = api
        var library = MustacheLibrary()
        for (name, text) in ConsoleTemplates.all {
            // The templates are part of the binary: one that does not parse is a programming error.
            do { try library.register(text, named: name) } catch { preconditionFailure("console template \(name): \(error)") }
        }
        self.library = library
        self.signIns = SignInLimiter()
    }

    /// Who is looking at a page: the authenticated principal, their session secret's CSRF token, their language.
    struct Viewer {
        let principal: Principal
        let displayName: String
        let sessionDigestHex: String
        let csrf: String
        func may(_ role: Role) -> Bool { principal.role >= role }
    }

    // MARK: - Routes

    func addRoutes(to router: Router<VigilRequestContext>) {
        let console = self
        router.get("/") { _, _ in Self.redirect("/console/now") }
        router.get("/console") { _, _ in Self.redirect("/console/now") }
        router.get("/console/assets/console.css") { _, _ in Self.asset(ConsoleAssets.css, type: "text/css; charset=utf-8") }
        router.get("/console/assets/console.js") { _, _ in Self.asset(ConsoleAssets.js, type: "text/javascript; charset=utf-8") }
        router.get("/console/lang") { request, _ in console.switchLanguage(request) }
        router.get("/console/sign-in") { request, _ in
            let query = request.uri.queryParameters
            let flash = query.get("signed_out") != nil ? "signed_out" : query.get("password_set") != nil ? "password_set" : nil
            return console.page("sign_in", titleKey: "title_sign_in", request: request, viewer: nil, flashKey: flash,
                                data: ["next": Self.safeNext(request.uri.queryParameters.get("next"))])
        }
        router.post("/console/sign-in") { request, context in await console.signIn(request, context) }
        router.post("/console/sign-out") { request, _ in await console.signOut(request) }
        router.get("/console/set-password/{secret}") { request, context in await console.setPasswordPage(request, context) }
        router.post("/console/set-password/{secret}") { request, context in await console.setPassword(request, context) }
        router.get("/console/events") { request, _ in await console.events(request) }

        router.get("/console/now") { request, _ in await console.authenticated(request) { await console.nowPage(request, $0) } }
        router.get("/console/tickets") { request, _ in await console.authenticated(request) { await console.ticketsPage(request, $0) } }
        router.get("/console/tickets/new") { request, _ in
            await console.authenticated(request, minimum: .responder) { await console.newTicketPage(request, $0) }
        }
        router.post("/console/tickets") { request, _ in
            await console.posted(request, minimum: .responder) { form, viewer in await console.registerTicket(request, form, viewer) }
        }
        router.get("/console/tickets/{id}") { request, context in
            await console.authenticated(request) { await console.ticketPage(request, context, $0) }
        }
        router.post("/console/tickets/{id}/{action}") { request, context in
            await console.posted(request, minimum: .responder) { form, viewer in await console.ticketAction(request, context, form, viewer) }
        }
        router.get("/console/kb") { request, _ in await console.authenticated(request) { await console.knowledgeBasePage(request, $0) } }
        router.get("/console/kb/suggest") { request, _ in await console.authenticated(request) { _ in console.suggest(request) } }
        router.get("/console/kb/edit") { request, _ in
            await console.authenticated(request, minimum: .manager) { await console.articleEditPage(request, $0) }
        }
        router.post("/console/kb/edit") { request, _ in
            await console.posted(request, minimum: .manager) { form, viewer in await console.saveArticle(request, form, viewer) }
        }
        router.get("/console/kb/{id}") { request, context in
            await console.authenticated(request) { await console.articlePage(request, context, $0) }
        }
        router.get("/console/schedules") { request, _ in await console.authenticated(request) { await console.schedulesPage(request, $0) } }
        router.post("/console/schedules/{id}/overrides") { request, context in
            await console.posted(request, minimum: .manager) { form, viewer in await console.addOverride(request, context, form, viewer) }
        }
        router.post("/console/schedules/{id}/overrides/remove") { request, context in
            await console.posted(request, minimum: .manager) { form, viewer in await console.removeOverride(request, context, form, viewer) }
        }
        router.get("/console/services") { request, _ in await console.authenticated(request) { await console.servicesPage(request, $0) } }
        router.get("/console/services/{id}/edit") { request, context in
            await console.authenticated(request, minimum: .manager) { await console.serviceEditPage(request, context, $0) }
        }
        router.post("/console/services/{id}/{what}") { request, context in
            await console.posted(request, minimum: .manager) { form, viewer in await console.editService(request, context, form, viewer) }
        }
        router.get("/console/reports") { request, _ in await console.authenticated(request) { await console.reportsPage(request, $0) } }
        router.get("/console/reports.csv") { request, _ in await console.authenticated(request) { _ in await console.reportCSV(request) } }
        router.get("/console/policies/edit") { request, _ in
            await console.authenticated(request, minimum: .manager) { await console.policyEditPage(request, $0) }
        }
        router.post("/console/policies/edit") { request, _ in
            await console.posted(request, minimum: .manager) { form, viewer in await console.savePolicy(request, form, viewer) }
        }
        router.get("/console/cluster") { request, _ in await console.authenticated(request) { await console.clusterPage(request, $0) } }
    }

    // MARK: - Sessions

    /// The signed-in viewer, or nil (no cookie, an unknown or expired session, a person or token gone).
    func viewer(_ request: Request) async -> Viewer? {
        guard let secret = request.cookies[Self.sessionCookie]?.value, secret.hasPrefix(Self.sessionPrefix) else { return nil }
        let digest = TokenDigest(token: secret)
        let state = api.loop.state
        var session = state.session(for: digest)
        if session == nil, case .success = await api.loop.readBarrier(timeout: HTTPAPI.readTimeout) {
            // Opened a moment ago through another node.
            session = state.session(for: digest)
        }
        guard let session, session.expiresAt > HTTPAPI.nowMillis() else { return nil }
        let principal: Principal
        let displayName: String
        if let personID = session.personID {
            guard let person = state.duty({ $0.people[personID] }) else { return nil }
            principal = Principal(name: person.id, role: person.role, personID: person.id)
            displayName = person.name
        } else if let tokenName = session.tokenName, let record = state.tokenRecord(named: tokenName) {
            principal = Principal(name: record.name, role: record.role, personID: record.personID)
            displayName = record.personID.flatMap { id in state.duty { $0.people[id]?.name } } ?? record.name
        } else {
            return nil
        }
        return Viewer(principal: principal, displayName: displayName, sessionDigestHex: session.sha256, csrf: Self.csrfToken(secret: secret))
    }

    /// The CSRF token of a session: derived from the secret only the browser's cookie holds, so another site
    /// cannot know it, and the same on every node.
    static func csrfToken(secret: String) -> String {
        WebhookSignature.hex(Array(SHA256.hash(data: Array("vigil-console-csrf\u{0}\(secret)".utf8))))
    }

    /// A page for signed-in viewers with at least `minimum`; others go to the sign-in page (or get a 403).
    func authenticated(_ request: Request, minimum: Role = .viewer, _ body: (Viewer) async -> Response) async -> Response {
        guard let viewer = await viewer(request) else {
            return Self.redirect("/console/sign-in?next=" + Self.formEncode(request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")))
        }
        guard viewer.may(minimum) else { return problem(request, viewer, status: .forbidden, key: "forbidden") }
        return await body(viewer)
    }

    /// A form post: same-origin, with the session's CSRF token, from a viewer with at least `minimum`.
    func posted(_ request: Request, minimum: Role, _ body: ([String: String], Viewer) async -> Response) async -> Response {
        if let refusal = Self.crossSite(request) { return problem(request, nil, status: .forbidden, key: refusal) }
        var request = request
        guard let form = await Self.form(&request) else {
            return problem(request, nil, status: .contentTooLarge, key: "invalid_input", argument: "\(Self.maximumFormBytes) bytes at most")
        }
        guard let viewer = await viewer(request) else { return Self.redirect("/console/sign-in") }
        guard let presented = form["csrf"], Self.constantTimeEqual(presented, viewer.csrf) else {
            return problem(request, viewer, status: .forbidden, key: "csrf_failed")
        }
        guard viewer.may(minimum) else { return problem(request, viewer, status: .forbidden, key: "forbidden") }
        return await body(form, viewer)
    }

    func signIn(_ request: Request, _ context: VigilRequestContext) async -> Response {
        if let refusal = Self.crossSite(request) { return problem(request, nil, status: .forbidden, key: refusal) }
        var request = request
        guard let form = await Self.form(&request) else {
            return problem(request, nil, status: .contentTooLarge, key: "invalid_input", argument: "\(Self.maximumFormBytes) bytes at most")
        }
        let address = context.remoteAddress?.ipAddress ?? "unknown"
        let personID = (form["person"] ?? "").trimmingCharacters(in: .whitespaces)
        let token = (form["token"] ?? "").trimmingCharacters(in: .whitespaces)
        let next = Self.safeNext(form["next"])
        let keys = ["address:" + address] + (token.isEmpty && !personID.isEmpty ? ["person:" + personID] : [])
        guard signIns.mayTry(keys) else {
            return page("sign_in", titleKey: "title_sign_in", request: request, viewer: nil, status: .tooManyRequests,
                        problemKey: "sign_in_limited", data: ["next": next, "person": personID])
        }
        let state = api.loop.state
        var session: TokenRegistry.Session?
        let now = HTTPAPI.nowMillis()
        let secret = Self.sessionPrefix + String(APIToken.generate().dropFirst(APIToken.prefix.count))
        let sha256 = APIToken.sha256Hex(secret)
        if !token.isEmpty {
            let digest = TokenDigest(token: token)
            var record = state.token(for: digest)
            if record == nil, case .success = await api.loop.readBarrier(timeout: HTTPAPI.readTimeout) { record = state.token(for: digest) }
            if let record {
                session = .init(sha256: sha256, personID: nil, tokenName: record.name, openedAt: now, expiresAt: now + Self.sessionMilliseconds)
            }
        } else if !personID.isEmpty, let password = form["password"], !password.isEmpty, password.utf8.count <= 128 {
            var hash = state.passwordHash(of: personID)
            if hash == nil, case .success = await api.loop.readBarrier(timeout: HTTPAPI.readTimeout) { hash = state.passwordHash(of: personID) }
            // An unknown person costs the same bcrypt as a wrong password, so timing does not tell who exists.
            let known = hash
            let matches = (try? await NIOThreadPool.singleton.runIfActive {
                Bcrypt.verify(password, hash: known ?? Self.decoyHash) && known != nil
            }) ?? false
            if matches {
                session = .init(sha256: sha256, personID: personID, tokenName: nil, openedAt: now, expiresAt: now + Self.sessionMilliseconds)
            }
        }
        guard let session else {
            signIns.recordFailure(keys)
            api.logger.notice("console sign-in failed", metadata: ["remote": "\(address)", "method": "\(token.isEmpty ? "password" : "token")"])
            return page("sign_in", titleKey: "title_sign_in", request: request, viewer: nil, status: .unauthorized,
                        problemKey: "sign_in_failed", data: ["next": next, "person": personID])
        }
        var opened = false
        _ = await api.submit(.tokens(.openSession(session)), request: request, body: nil) { outcome in
            if case .tokens(.sessionOpened) = outcome { opened = true }
            return Response(status: .ok)
        }
        guard opened else { return problem(request, nil, status: .serviceUnavailable, key: "unavailable") }
        signIns.recordSuccess(keys)
        var response = Self.redirect(next)
        response.setCookie(Cookie(name: Self.sessionCookie, value: secret, maxAge: Int(Self.sessionMilliseconds / 1000), path: "/",
                                  secure: true, httpOnly: true, sameSite: .strict))
        return response
    }

    /// A bcrypt hash of nothing anyone knows (made once, on first use), verified against when the person has no password.
    static let decoyHash = Bcrypt.hash(APIToken.generate(), cost: HTTPAPI.bcryptCost)

    func signOut(_ request: Request) async -> Response {
        await posted(request, minimum: .viewer) { _, viewer in
            _ = await api.submit(.tokens(.closeSession(sha256: viewer.sessionDigestHex)), request: request, body: nil) { _ in Response(status: .ok) }
            var response = Self.redirect("/console/sign-in?signed_out=1")
            response.setCookie(Cookie(name: Self.sessionCookie, value: "", maxAge: 0, path: "/", secure: true, httpOnly: true, sameSite: .strict))
            return response
        }
    }

    /// The open set-password link a secret names, if still valid (after a catch-up: it may be a moment old).
    func passwordReset(_ secret: String) async -> (sha256: String, reset: TokenRegistry.PasswordReset)? {
        guard secret.hasPrefix(HTTPAPI.passwordLinkPrefix), secret.utf8.count < 128 else { return nil }
        let sha256 = APIToken.sha256Hex(secret)
        var reset = api.loop.state.passwordReset(sha256: sha256)
        if reset == nil, case .success = await api.loop.readBarrier(timeout: HTTPAPI.readTimeout) { reset = api.loop.state.passwordReset(sha256: sha256) }
        guard let reset, reset.expiresAt > HTTPAPI.nowMillis() else { return nil }
        return (sha256, reset)
    }

    func setPasswordPage(_ request: Request, _ context: VigilRequestContext) async -> Response {
        let secret = context.parameters.get("secret") ?? ""
        guard let (_, reset) = await passwordReset(secret) else {
            return page("set_password", titleKey: "title_set_password", request: request, viewer: nil, status: .notFound, problemKey: "link_invalid")
        }
        let name = api.loop.state.duty { $0.people[reset.personID]?.name } ?? reset.personID
        return page("set_password", titleKey: "title_set_password", request: request, viewer: nil,
                    data: ["valid": true, "secret": secret, "person": "\(name) (\(reset.personID))"])
    }

    /// The link's secret is in the path, which another site cannot know: it stands in for the CSRF token.
    func setPassword(_ request: Request, _ context: VigilRequestContext) async -> Response {
        if let refusal = Self.crossSite(request) { return problem(request, nil, status: .forbidden, key: refusal) }
        var request = request
        let secret = context.parameters.get("secret") ?? ""
        guard let form = await Self.form(&request) else {
            return problem(request, nil, status: .contentTooLarge, key: "invalid_input", argument: "\(Self.maximumFormBytes) bytes at most")
        }
        guard let (sha256, reset) = await passwordReset(secret) else {
            return page("set_password", titleKey: "title_set_password", request: request, viewer: nil, status: .notFound, problemKey: "link_invalid")
        }
        let password = form["password"] ?? ""
        let again = { (key: String) in
            self.page("set_password", titleKey: "title_set_password", request: request, viewer: nil, status: .badRequest, problemKey: key,
                      data: ["valid": true, "secret": secret, "person": reset.personID])
        }
        guard password == form["repeat"] else { return again("passwords_differ") }
        guard HTTPAPI.passwordBytes.contains(password.utf8.count) else { return again("password_length") }
        guard let hash = try? await NIOThreadPool.singleton.runIfActive({ Bcrypt.hash(password, cost: HTTPAPI.bcryptCost) }) else {
            return problem(request, nil, status: .serviceUnavailable, key: "unavailable")
        }
        var outcome: TokenOutcome?
        _ = await api.submit(.tokens(.usePasswordReset(sha256: sha256, bcrypt: hash, at: HTTPAPI.nowMillis())), request: request, body: nil) { applied in
            if case let .tokens(value) = applied { outcome = value }
            return Response(status: .ok)
        }
        switch outcome {
        case .passwordSet?: break
        case .notFound?:
            // Used a moment ago (another tab, or the person twice).
            return page("set_password", titleKey: "title_set_password", request: request, viewer: nil, status: .notFound, problemKey: "link_invalid")
        default: return problem(request, nil, status: .serviceUnavailable, key: "unavailable")
        }
        api.logger.notice("console password set through a link", metadata: ["person": "\(reset.personID)"])
        return Self.redirect("/console/sign-in?password_set=1")
    }

    func switchLanguage(_ request: Request) -> Response {
        let language = ConsoleCatalog.Language(rawValue: request.uri.queryParameters.get("to") ?? "") ?? .en
        var response = Self.redirect(Self.safeNext(request.uri.queryParameters.get("back")))
        response.setCookie(Cookie(name: Self.languageCookie, value: language.rawValue, maxAge: 365 * 86_400, path: "/",
                                  secure: true, httpOnly: true, sameSite: .lax))
        return response
    }

    /// Server-Sent Events: `change` whenever this node applies something, so open pages refresh what they show.
    /// Bounded: a stream ends after 10 minutes and the browser reconnects.
    func events(_ request: Request) async -> Response {
        guard await viewer(request) != nil else { return problem(request, nil, status: .unauthorized, key: "sign_in_failed") }
        let loop = api.loop
        var headers = Self.pageHeaders
        headers[.contentType] = "text/event-stream"
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
            var seen = loop.status.appliedIndex
            let started = ContinuousClock.now
            var lastWrite = started
            while ContinuousClock.now - started < .seconds(600) {
                try await Task.sleep(for: .milliseconds(250))
                let applied = loop.status.appliedIndex
                if applied != seen {
                    seen = applied
                    try await writer.write(ByteBuffer(string: "event: change\ndata: \(applied)\n\n"))
                    lastWrite = .now
                } else if ContinuousClock.now - lastWrite > .seconds(15) {
                    // A comment keeps proxies from closing an idle stream, and finds a closed one.
                    try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                    lastWrite = .now
                }
            }
            try await writer.finish(nil)
        })
    }

    // MARK: - Rendering

    static let pageHeaders: HTTPFields = [
        .contentSecurityPolicy: contentSecurityPolicy,
        HTTPFields.Key("X-Content-Type-Options")!: "nosniff",
        HTTPFields.Key("X-Frame-Options")!: "DENY",
        HTTPFields.Key("Referrer-Policy")!: "same-origin",
        .cacheControl: "no-store",
    ]

    static func language(_ request: Request) -> ConsoleCatalog.Language {
        if let chosen = request.cookies[languageCookie].flatMap({ ConsoleCatalog.Language(rawValue: $0.value) }) { return chosen }
        return .preferred(acceptLanguage: request.headers[.acceptLanguage])
    }

    /// Renders `template` inside the layout with the catalog, the viewer and the node's role.
    func page(_ template: String, titleKey: String? = nil, title: String? = nil, request: Request, viewer: Viewer?,
              status: HTTPResponse.Status = .ok, live: Bool = false, flashKey: String? = nil, problemKey: String? = nil,
              problemText: String? = nil, data: [String: Any] = [:]) -> Response {
        let language = Self.language(request)
        let t = ConsoleCatalog.messages(language)
        let loopStatus = api.loop.status
        var context: [String: Any] = [
            "t": t, "lang": language.rawValue, "other_lang": language.other.rawValue,
            "back": Self.formEncode(request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")),
            "title": title ?? titleKey.map { t[$0] ?? $0 } ?? "",
            "node": ["id": "\(api.config.nodeID)", "term": "\(loopStatus.term)", "role_label": t["role_\(loopStatus.role.rawValue)"] ?? loopStatus.role.rawValue],
        ]
        if live { context["live"] = true }
        if let viewer {
            context["user"] = ["name": viewer.displayName, "role_label": t["role_\(viewer.principal.role.rawValue)"] ?? viewer.principal.role.rawValue]
            context["csrf"] = viewer.csrf
            context["can_respond"] = viewer.may(.responder)
            context["can_manage"] = viewer.may(.manager)
        }
        let done = request.uri.queryParameters.get("done") != nil
        if let key = flashKey ?? (done ? "done" : nil) { context["flash"] = t[key] ?? key }
        if let problemText { context["problem"] = problemText } else if let problemKey { context["problem"] = t[problemKey] ?? problemKey }
        for (key, value) in data { context[key] = value }
        let html = library.render(context, withTemplate: template) ?? ""
        var headers = Self.pageHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    func problem(_ request: Request, _ viewer: Viewer?, status: HTTPResponse.Status, key: String, argument: String? = nil) -> Response {
        let t = ConsoleCatalog.messages(Self.language(request))
        var text = t[key] ?? key
        if let argument { text = text.replacingOccurrences(of: "%@", with: argument) }
        return page("problem", titleKey: "title_problem", request: request, viewer: viewer, status: status, problemText: text)
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }

    static func asset(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "max-age=300", HTTPFields.Key("X-Content-Type-Options")!: "nosniff"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    // MARK: - Request helpers

    /// Why a state-changing request must be refused as cross-site, or nil. Browsers send `Origin` on every POST;
    /// it must name this host. `Sec-Fetch-Site` settles it when there is no `Origin`.
    static func crossSite(_ request: Request) -> String? {
        let host = request.head.authority ?? ""
        if let origin = request.headers[.origin], origin != "null" {
            let parts = origin.split(separator: "/", omittingEmptySubsequences: true)
            guard parts.count == 2, parts[1] == host else { return "cross_site" }
            return nil
        }
        if let site = request.headers[HTTPFields.Key("Sec-Fetch-Site")!], site != "same-origin", site != "none" { return "cross_site" }
        return nil
    }

    /// The fields of an `application/x-www-form-urlencoded` body; nil when it is too large.
    static func form(_ request: inout Request) async -> [String: String]? {
        guard let buffer = try? await request.collectBody(upTo: maximumFormBytes) else { return nil }
        return parseForm(String(decoding: buffer.readableBytesView, as: UTF8.self))
    }

    static func parseForm(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String {
                String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            let name = decode(parts[0])
            guard !name.isEmpty, fields[name] == nil else { continue }
            fields[name] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return fields
    }

    static func formEncode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~/")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// Only a path inside the console: never another site (an open redirect) or a scheme-relative `//host`.
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/console/"), !next.hasPrefix("//"), !next.contains("\\"),
              !next.unicodeScalars.contains(where: { $0.value < 0x20 }) else { return "/console/now" }
        return next
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}

/// Failed console sign-ins per person and per address: after 5 for a person, or 20 from an address (several
/// people may sit behind one), within a minute, further attempts are refused until the minute has passed.
/// Bounded in the keys it tracks.
final class SignInLimiter: Sendable {
    static let maximumFailuresPerPerson = 5
    static let maximumFailuresPerAddress = 20
    static let window: Duration = .seconds(60)
    static let maximumKeys = 10_000
    private let failures = Mutex<[String: (first: ContinuousClock.Instant, count: Int)]>([:])

    func mayTry(_ keys: [String], now: ContinuousClock.Instant = .now) -> Bool {
        failures.withLock { table in
            keys.allSatisfy { key in
                guard let entry = table[key], now - entry.first < Self.window else { return true }
                return entry.count < (key.hasPrefix("person:") ? Self.maximumFailuresPerPerson : Self.maximumFailuresPerAddress)
            }
        }
    }

    func recordFailure(_ keys: [String], now: ContinuousClock.Instant = .now) {
        failures.withLock { table in
            if table.count >= Self.maximumKeys { table = table.filter { now - $0.value.first < Self.window } }
            for key in keys {
                if let entry = table[key], now - entry.first < Self.window {
                    table[key] = (entry.first, entry.count + 1)
                } else if table.count < Self.maximumKeys {
                    table[key] = (now, 1)
                }
            }
        }
    }

    func recordSuccess(_ keys: [String]) {
        failures.withLock { table in for key in keys where key.hasPrefix("person:") { table[key] = nil } }
    }
}
