import AsyncHTTPClient
import ClusterTransport
import Foundation
import Synchronization
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Paging
import RaftCore

/// The node's HTTP API: health, cluster view, metrics and the replicated settings store.
///
/// Writes on a follower are forwarded to the leader over HTTP (AsyncHTTPClient) and the leader's answer is
/// returned as is, so a client can use any node. A forwarded request carries `X-Vigil-Forwarded-By`; a node
/// that receives one while not leader answers 503 instead of forwarding again, so requests never loop.
public struct HTTPAPI: Sendable {
    let config: NodeConfig
    let loop: RaftLoop
    let transport: PeerTransport
    let logger: Logger
    /// For forwarding writes; replaced when the trust bundle is reloaded.
    let forwarding: ForwardingClient
    let tokenLimiter: RateLimiter
    let integrationLimiter: RateLimiter
    /// Checks `/ack/{token}` links; nil when the node has no ack secret (paging off).
    let ackSigner: AckLinkSigner?
    /// The scheduler's lateness histograms for `/metrics`; nil when paging is off.
    let pagingHost: NodePagingHost?
    /// This node's TLS files: certificate expiry for the cluster view and `/metrics`, and their reload.
    let tls: NodeTLS?
    var certificateExpiresAt: Date? { tls?.expiresAt }
    static let proposalTimeout: Duration = .seconds(5)
    static let readTimeout: Duration = .seconds(3)
    /// A test knob that breaks linearizability on purpose (reads skip ReadIndex), so that drills can show their
    /// checker catches stale reads (chaos/run.sh --unsafe local-reads). Never set it on a real cluster.
    static let unsafeLocalReads = ProcessInfo.processInfo.environment["VIGIL_UNSAFE_LOCAL_READS"] == "1"
    static let forwardTimeout: TimeAmount = .seconds(7)
    static let forwardedHeader = "X-Vigil-Forwarded-By"
    /// Made once: every write looks for the header (lowercasing it per request was the most frequent allocation).
    static let forwardedHeaderCanonicalName = forwardedHeader.lowercased()
    /// The members' lowest release and when it was read (`everyMemberRuns`).
    let peerForwarding = PeerForwardingCache()

    init(config: NodeConfig, loop: RaftLoop, transport: PeerTransport, forwarding: ForwardingClient, logger: Logger,
         ackSigner: AckLinkSigner? = nil, pagingHost: NodePagingHost? = nil, tls: NodeTLS? = nil) {
        self.forwarding = forwarding
        self.tls = tls
        self.ackSigner = ackSigner
        self.pagingHost = pagingHost
        self.config = config
        self.loop = loop
        self.transport = transport
        self.logger = logger
        self.tokenLimiter = RateLimiter(perSecond: config.api.tokenRequestsPerSecond)
        self.integrationLimiter = RateLimiter(perSecond: config.api.integrationRequestsPerSecond)
    }

    /// Every route, in groups by resource: each group carries its role middleware (`RoleMiddleware`), so what a
    /// route asks of its caller is written where the route is, not in a table of path prefixes.
    public func makeRouter() -> Router<VigilRequestContext> {
        let router = Router(context: VigilRequestContext.self)
        let api = self
        router.add(middleware: NotFoundMiddleware())
        let auth = Authenticator(state: loop.state, bootstrapToken: config.api.bootstrapTokenSHA256.flatMap(TokenDigest.init(hex:)),
                                 tokenLimiter: tokenLimiter,
                                 catchUp: { [loop] in
                                     if case .success = await loop.readBarrier(timeout: Self.readTimeout) { return true }
                                     return false
                                 })
        // Open: probes carry no token, and the cluster view and metrics hold no secrets.
        router.get("/healthz") { _, _ -> Response in
            api.loop.status.stopping
                ? APIError(status: 503, code: "stopping", message: "the node is stopping").response
                : JSONResponse.make(["status": "ok"])
        }
        router.get("/readyz") { _, _ -> Response in api.readiness() }
        router.get("/api/v1/cluster") { _, _ -> Response in JSONResponse.make(await api.clusterView()) }
        router.get("/metrics") { _, _ -> Response in
            let text = MetricsExposition.render(status: api.loop.status, transport: await api.transport.metrics(),
                                                settingsRevision: api.loop.state.revision, settingsCount: api.loop.state.count)
                + MetricsExposition.renderPaging(lateness: api.pagingHost?.latenessHistograms ?? [:],
                                                 outboxPages: api.loop.state.duty { $0.outbox.count })
                + MetricsExposition.renderCertificate(expiresAt: api.certificateExpiresAt)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                            body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        let settings = router.group().add(middleware: auth.requiring(read: .viewer, write: .admin))
        settings.get("/api/v1/settings/{key}") { request, context -> Response in
            await api.getSetting(request, context)
        }
        settings.put("/api/v1/settings/{key}") { request, context -> Response in
            await api.write(request, context, isDelete: false)
        }
        settings.delete("/api/v1/settings/{key}") { request, context -> Response in
            await api.write(request, context, isDelete: true)
        }
        addTicketRoutes(to: router.group().add(middleware: auth.requiring(read: .viewer, write: .responder)))
        addCalendarFeedRoutes(to: router.group().add(middleware: auth.requiring(read: .viewer, write: .manager)))
        addConfigurationRoutes(to: router.group().add(middleware: auth.requiring(read: .viewer, write: .manager)),
                               heartbeatPings: router.group().add(middleware: auth.requiring(.responder)),
                               contactData: router.group().add(middleware: auth.requiring(.manager)))
        addCustomerRoutes(to: router.group().add(middleware: auth.requiring(read: .viewer, write: .manager)),
                          contactData: router.group().add(middleware: auth.requiring(.manager)))
        addIntakeRoutes(to: router.group().add(middleware: IntegrationKeyMiddleware(limiter: integrationLimiter)))
        addTokenRoutes(to: router.group().add(middleware: auth.requiring(.admin)))
        addMemberRoutes(to: router.group().add(middleware: auth.requiring(.admin)))
        // Open: the signed link is the credential.
        addAckRoutes(to: router)
        addFeedbackRoutes(to: router)
        // Open: the secret in the address is the credential (calendar apps send no token).
        router.get("/calendar/{secret}") { request, context -> Response in
            await api.calendarFeed(request, secret: context.parameters.get("secret") ?? "")
        }
        Console(api: self).addRoutes(to: router)
        return router
    }

    func readiness() -> Response {
        let status = loop.status
        if status.isReady { return JSONResponse.make(["status": "ready"]) }
        let reason = status.stopping ? "the node is stopping"
            : status.leader == noNode ? "no leader is known"
            : "applied index \(status.appliedIndex) is behind commit index \(status.commitIndex)"
        return APIError(status: 503, code: "not_ready", message: reason).response
    }

    /// This node's view; `conf` overrides the published configuration (a change just applied, not yet published).
    func clusterView(conf override: ConfState? = nil) async -> ClusterView {
        let status = loop.status
        let peers = await transport.metrics().peers
        let conf = override ?? ConfState(voters: status.voters, learners: status.learners)
        let known = MemberDirectory.members(of: conf, config: config, state: loop.state)
        // Before this node knows the configuration (joining, empty log) it shows the members of its config.
        let members = (known.isEmpty ? config.members : known).map { member -> ClusterView.MemberView in
            let match = status.progress[member.id]?.match
            let reachability = member.id == config.nodeID ? "self" : (peers[member.id]?.reachability.rawValue ?? "unknown")
            var view = ClusterView.MemberView(
                id: member.id, peerAddress: member.peer.description, httpAddress: member.http.description,
                isSelf: member.id == config.nodeID, isVoter: conf.voters.contains(member.id),
                matchIndex: match, lag: match.map { status.lastIndex >= $0 ? status.lastIndex - $0 : 0 },
                reachability: reachability)
            view.snapshotTransfer = status.snapshotsOut[member.id]
            view.version = member.id == config.nodeID ? VigilVersion.current : peers[member.id]?.version?.description
            return view
        }
        var view = ClusterView(
            clusterID: config.clusterID, nodeID: config.nodeID, role: status.role.rawValue, term: status.term,
            leader: status.leader, commitIndex: status.commitIndex, appliedIndex: status.appliedIndex,
            lastIndex: status.lastIndex, snapshotIndex: status.snapshotIndex,
            settingsRevision: loop.state.revision, members: members)
        if !status.snapshotsIn.isEmpty { view.incomingSnapshots = status.snapshotsIn.values.sorted { $0.peer < $1.peer } }
        view.certificateExpiresAtMilliseconds = certificateExpiresAt.map { Int64($0.timeIntervalSince1970 * 1_000) }
        view.version = VigilVersion.current
        return view
    }

    // MARK: - Settings

    private func key(_ context: VigilRequestContext, isRead: Bool = false) -> Result<String, APIError> {
        let key = (context.parameters.get("key")?.removingPercentEncoding ?? "")
        if let problem = SettingsPayloads.keyProblem(key) {
            return .failure(APIError(status: 400, code: "invalid_key", message: problem, field: "key"))
        }
        if key.hasPrefix(MemberDirectory.reservedPrefix), !isRead {
            return .failure(APIError(status: 400, code: "reserved_key",
                                     message: "keys beginning with '\(MemberDirectory.reservedPrefix)' belong to the cluster (see /api/v1/cluster/members)",
                                     field: "key"))
        }
        return .success(key)
    }

    func getSetting(_ request: Request, _ context: VigilRequestContext) async -> Response {
        let key: String
        switch self.key(context, isRead: true) {
        case let .success(value): key = value
        case let .failure(error): return error.response
        }
        switch request.uri.queryParameters.get("consistency") {
        case nil, "linearizable":
            if !Self.unsafeLocalReads, case let .failure(error) = await loop.readBarrier(timeout: Self.readTimeout) {
                return Self.unavailable(error).response
            }
        case "local":
            break
        case let other?:
            return APIError(status: 400, code: "invalid_parameter",
                            message: "consistency must be 'linearizable' or 'local', not '\(other)'", field: "consistency").response
        }
        guard let setting = loop.state.get(key) else {
            return APIError(status: 404, code: "not_found", message: "no setting named '\(key)'", field: "key").response
        }
        return Self.settingResponse(SettingsPayloads.SettingAnswer(key: key, value: setting.value, revision: setting.revision))
    }

    func write(_ request: Request, _ context: VigilRequestContext, isDelete: Bool) async -> Response {
        var request = request
        let key: String
        switch self.key(context) {
        case let .success(value): key = value
        case let .failure(error): return error.response
        }
        var ifRevision: UInt64?
        let ifMatchText = request.headers[.ifMatch]
        if let text = ifMatchText {
            let trimmed = text.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
            guard let revision = UInt64(trimmed) else {
                return APIError(status: 400, code: "invalid_header",
                                message: "If-Match must be a revision number, got '\(text)'", field: "If-Match").response
            }
            ifRevision = revision
        }
        var body: ByteBuffer?
        let command: SettingsCommand
        if isDelete {
            command = .delete(key: key, ifRevision: ifRevision)
        } else {
            let buffer: ByteBuffer
            do {
                buffer = try await request.collectBody(upTo: SettingsPayloads.maximumValueBytes + 1024)
            } catch {
                return APIError(status: 413, code: "body_too_large",
                                message: "the body exceeds \(SettingsPayloads.maximumValueBytes + 1024) bytes", field: "value").response
            }
            body = buffer
            let decoded: SettingsPayloads.PutBody
            do {
                decoded = try JSONDecoder().decode(SettingsPayloads.PutBody.self, from: Data(buffer.readableBytesView))
            } catch let DecodingError.keyNotFound(missing, _) {
                return APIError(status: 400, code: "invalid_body", message: "the JSON body lacks '\(missing.stringValue)'",
                                field: missing.stringValue).response
            } catch let DecodingError.typeMismatch(_, context) {
                let field = context.codingPath.map(\.stringValue).joined(separator: ".")
                return APIError(status: 400, code: "invalid_body", message: "'\(field)' must be a string", field: field).response
            } catch {
                return APIError(status: 400, code: "invalid_json", message: "the body is not JSON of the form {\"value\": \"...\"}").response
            }
            guard decoded.value.utf8.count <= SettingsPayloads.maximumValueBytes else {
                return APIError(status: 413, code: "value_too_large",
                                message: "a value has at most \(SettingsPayloads.maximumValueBytes) bytes", field: "value").response
            }
            command = .put(key: key, value: decoded.value, ifRevision: ifRevision)
        }

        return await submit(.settings(command), request: request, body: body) { outcome in
            guard case let .settings(outcome) = outcome else {
                return APIError(status: 500, code: "internal", message: "the command was applied as something else").response
            }
            return Self.answer(outcome)
        }
    }

    static func answer(_ outcome: SettingsOutcome) -> Response {
        switch outcome {
        case let .stored(key, setting, created):
            return settingResponse(SettingsPayloads.SettingAnswer(key: key, value: setting.value, revision: setting.revision, created: created))
        case let .deleted(key, revision):
            return settingResponse(SettingsPayloads.SettingAnswer(key: key, value: nil, revision: revision, deleted: true))
        case let .notFound(key):
            return APIError(status: 404, code: "not_found", message: "no setting named '\(key)'", field: "key").response
        case let .revisionMismatch(key, current, expected):
            return APIError(status: 409, code: "revision_mismatch",
                            message: "'\(key)' is at revision \(current), If-Match asked for \(expected)", field: "If-Match").response
        case .undecodable:
            return APIError(status: 500, code: "internal", message: "the command could not be decoded when applied").response
        }
    }

    static func settingResponse(_ answer: SettingsPayloads.SettingAnswer) -> Response {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(64 + answer.key.utf8.count + (answer.value?.utf8.count ?? 0))
        answer.writeJSON(into: &buffer)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: buffer))
    }

    static func unavailable(_ error: ProposalError) -> APIError {
        let code: String
        switch error {
        case let .notLeader(hint): code = hint == noNode ? "no_leader" : "not_leader"
        case .refused: code = "leader_busy"
        case .superseded: code = "leadership_changed"
        case .timedOut: code = "timeout"
        case .stopping: code = "stopping"
        }
        return APIError(status: 503, code: code, message: error.description)
    }

    /// How long a forward waits for the peer connection to the leader to come back (a redial after a certificate
    /// reload on either side takes a few milliseconds) before answering 503.
    static let redialGraceMilliseconds = 300

    /// The first release whose nodes apply forwarded entries (`ForwardedEntry`) and forward over the peer connection.
    static let peerForwardingSince = SoftwareVersion(major: 0, minor: 7, patch: 0)

    /// Whether every other member announced a release that applies forwarded entries (they reach every replica's
    /// log, so one older member is enough to keep forwarding on HTTP). Read from the transport at most every 500 ms.
    func peersForward() async -> Bool { await everyMemberRuns(Self.peerForwardingSince) }

    /// Entries that register an alert also record its first escalation step and intend its due pages
    /// (`DutyProposal.leaderTerm`); 0.7 would apply them without, so a replica on 0.7 would differ.
    static let pagingAtIntakeSince = SoftwareVersion(major: 0, minor: 8, patch: 0)

    /// Whether this node and every other member announced `version` or later; read at most every 500 ms.
    func everyMemberRuns(_ version: SoftwareVersion) async -> Bool {
        let now = ContinuousClock.now
        let lowest: SoftwareVersion?
        if let cached = peerForwarding.last.withLock({ $0 }), now - cached.at < .milliseconds(500) {
            lowest = cached.lowest
        } else {
            let status = loop.status
            let others = Set(status.voters + status.learners).subtracting([config.nodeID])
            let peers = await transport.metrics().peers
            // A member not connected, or that announced nothing, counts as too old.
            let versions = others.map { peers[$0]?.version }
            lowest = versions.contains(nil) ? nil : (versions.compactMap { $0 } + [VigilVersion.running]).min()
            peerForwarding.last.withLock { $0 = (now, lowest) }
        }
        return lowest.map { $0 >= version } ?? false
    }

    /// Whether the peer connection to `leader` is up, or comes up within `redialGraceMilliseconds`.
    func leaderConnected(_ leader: NodeID) async -> Bool {
        for waited in stride(from: 0, through: Self.redialGraceMilliseconds, by: 10) {
            switch await transport.metrics().peers[leader]?.reachability {
            case .connected?: return true
            case nil: return false
            default:
                guard waited < Self.redialGraceMilliseconds else { return false }
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
        return false
    }

    /// Sends the request as received to the leader and returns the leader's answer unchanged.
    func forward(_ request: Request, body: ByteBuffer?, to leader: NodeID) async -> Response {
        guard let member = MemberDirectory.member(leader, config: config, state: loop.state) else {
            return APIError(status: 503, code: "no_leader", message: "the leader, node \(leader), is not in this node's member list").response
        }
        // The peer connection says at once that a leader died (and waits out a redial); the forwarding client
        // fails a refused connect without retrying (`ForwardingClient`).
        guard await leaderConnected(leader) else {
            return APIError(status: 503, code: "leader_unreachable",
                            message: "the last known leader, node \(leader), is unreachable; an election is probably under way, retry").response
        }
        var outbound = HTTPClientRequest(url: "\(config.api.scheme)://\(member.http)\(request.uri.description)")
        outbound.method = .init(rawValue: request.method.rawValue)
        for field in request.headers where Self.forwardedHeaderNames.contains(field.name.canonicalName) {
            outbound.headers.add(name: field.name.rawName, value: field.value)
        }
        outbound.headers.add(name: Self.forwardedHeader, value: "\(config.nodeID)")
        if let body { outbound.body = .bytes(body) }
        do {
            let response = try await forwarding.current.execute(outbound, timeout: Self.forwardTimeout)
            let answer = try await response.body.collect(upTo: 8 << 20)
            // Linearizable reads see the write anyway (ReadIndex); authentication reads the local token list, so
            // after a token change this node catches up before answering: a revoked token stops working here at once.
            if (200..<300).contains(Int(response.status.code)), request.uri.path.hasPrefix("/api/v1/tokens") {
                _ = await loop.readBarrier(timeout: Self.readTimeout)
            }
            var headers = HTTPFields()
            headers[.contentType] = response.headers.first(name: "Content-Type") ?? "application/json"
            // The leader's advice is the client's too (back off after a 429, the new revision of a write).
            for name in Self.answeredHeaderNames {
                if let value = response.headers.first(name: name), let field = HTTPFields.Key(name) { headers[field] = value }
            }
            return Response(status: HTTPResponse.Status(code: Int(response.status.code)), headers: headers, body: .init(byteBuffer: answer))
        } catch {
            logger.warning("forwarding to the leader failed", metadata: ["leader": "\(leader)", "error": "\(error)"])
            return APIError(status: 503, code: "leader_unreachable",
                            message: "could not reach the leader, node \(leader) at \(member.http): \(error)").response
        }
    }

    /// Request headers the leader needs to see as the client sent them.
    static let forwardedHeaderNames: Set<String> = ["content-type", "if-match", "authorization", "user-agent"]
    /// Answer headers of the leader a forwarding node passes back unchanged.
    static let answeredHeaderNames = ["Retry-After", "ETag", "Location", "Cache-Control"]
}

/// The lowest release among the members (nil: one announced none) and when it was read, shared by every request.
final class PeerForwardingCache: Sendable {
    let last = Mutex<(at: ContinuousClock.Instant, lowest: SoftwareVersion?)?>(nil)
}
