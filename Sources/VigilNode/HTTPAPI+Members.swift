import ClusterTransport
import Foundation
import Hummingbird
import NIOCore
import RaftCore
#if canImport(Glibc)
import Glibc
#endif

/// `/api/v1/cluster/members`, `/api/v1/cluster/leader`, `/api/v1/cluster/backup` and `/api/v1/cluster/tls/reload`
/// (admin only): membership
/// changes, one at a time, made on the leader (a follower forwards), and backups from any node. A new node joins
/// as a learner and the leader makes it a voter once it has caught up, so it never counts towards a quorum
/// while it copies the log.
extension HTTPAPI {
    struct AddMemberBody: Codable, Sendable {
        let id: UInt64
        let peer: String
        let http: String
    }

    struct TransferBody: Codable, Sendable {
        let to: UInt64
    }

    static let membershipTimeout: Duration = .seconds(10)

    func addMemberRoutes(to router: RouterGroup<VigilRequestContext>) {
        let api = self
        router.get("/api/v1/cluster/members") { request, _ in
            if let forwarded = await api.forwardUnlessLeader(request, body: nil) { return forwarded }
            return JSONResponse.api(ListPage(items: await api.clusterView().members, next: nil))
        }
        router.post("/api/v1/cluster/members") { request, _ in await api.addMember(request) }
        router.delete("/api/v1/cluster/members/{id}") { request, context in
            await api.changeMember(request, context, action: .remove)
        }
        router.post("/api/v1/cluster/leader") { request, _ in await api.transferLeader(request) }
        router.get("/api/v1/cluster/backup") { _, _ in await api.backup() }
        router.post("/api/v1/cluster/tls/reload") { _, _ in await api.reloadTLS() }
    }

    /// What `POST /api/v1/cluster/tls/reload` answers: the node that reloaded and what it now uses.
    struct TLSReloadAnswer: Codable, Sendable {
        let nodeID: UInt64
        let certificateExpiresAtMilliseconds: Int64
        let trustedCAs: Int

        enum CodingKeys: String, CodingKey {
            case nodeID = "node_id"
            case certificateExpiresAtMilliseconds = "certificate_expires_at_ms"
            case trustedCAs = "trusted_cas"
        }
    }

    /// `vigil cert reload`: this node (never forwarded: each node has its own files) reads its certificate, key
    /// and trust bundle again, as on SIGHUP.
    func reloadTLS() async -> Response {
        guard let tls else { return APIError(status: 503, code: "tls_unavailable", message: "this node has no TLS files to reload").response }
        switch await tls.reload(reason: "API request") {
        case .success:
            return JSONResponse.api(TLSReloadAnswer(
                nodeID: config.nodeID, certificateExpiresAtMilliseconds: Int64(tls.expiresAt.timeIntervalSince1970 * 1_000),
                trustedCAs: tls.trustedCACount))
        case let .failure(error):
            return APIError(status: 422, code: "tls_reload_failed", message: error.description).response
        }
    }

    /// `vigil backup`: everything committed before the request, from this node (after a ReadIndex barrier, so a
    /// follower answers as well as the leader), as a backup file streamed in 1 MiB pieces.
    func backup() async -> Response {
        if case let .failure(error) = await loop.readBarrier(timeout: Self.readTimeout) { return Self.unavailable(error).response }
        let written: (path: String, descriptor: SnapshotDescriptor)
        switch await loop.writeBackup() {
        case let .success(value): written = value
        case let .failure(error): return APIError(status: 500, code: "backup_failed", message: error.description).response
        }
        let header = BackupFile.header(for: written.descriptor, clusterID: config.clusterID, node: config.nodeID, at: Self.nowMillis())
        let prefix = BackupFile.headerBytes(header)
        let path = written.path
        let size = written.descriptor.sizeBytes
        logger.info("backup", metadata: ["index": "\(header.index)", "bytes": "\(size)"])
        let body = ResponseBody(contentLength: prefix.count + Int(size)) { writer in
            defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path) }
            try await writer.write(ByteBuffer(bytes: prefix))
            let fd = try POSIXFile.open(path, O_RDONLY | O_CLOEXEC)
            defer { close(fd) }
            var offset: UInt64 = 0
            while offset < size {
                let chunk = try POSIXFile.read(fd, count: Int(min(1 << 20, size - offset)), at: offset, path: path)
                guard !chunk.isEmpty else { throw SnapshotFileError(path: path, "ended early") }
                try await writer.write(ByteBuffer(bytes: chunk))
                offset += UInt64(chunk.count)
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: body)
    }

    /// The leader's answer when this node does not lead; nil when it does (or when no leader is known and the
    /// request must fail here).
    func forwardUnlessLeader(_ request: Request, body: ByteBuffer?) async -> Response? {
        let status = loop.status
        guard status.leader != config.nodeID else { return nil }
        let forwarded = request.headers.first(where: { $0.name.canonicalName == Self.forwardedHeaderCanonicalName }) != nil
        guard status.leader != noNode, !forwarded else {
            return Self.unavailable(.notLeader(leaderHint: forwarded ? noNode : status.leader)).response
        }
        return await forward(request, body: body, to: status.leader)
    }

    /// A membership request's JSON body, or the answer to send instead: the leader's (a follower forwards the
    /// request with its body) or an error (too large, not the documented JSON).
    enum LeaderBody<Body> {
        case body(Body)
        case answered(Response)
    }

    private func leaderBody<Body: Codable>(_ request: Request, _ type: Body.Type) async -> LeaderBody<Body> {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: 4096)
        } catch {
            return .answered(APIError(status: 413, code: "body_too_large", message: "a membership request has at most 4096 bytes").response)
        }
        if let forwarded = await forwardUnlessLeader(request, body: buffer) { return .answered(forwarded) }
        switch APIJSON.decodeStrict(type, from: Data(buffer.readableBytesView)) {
        case let .success(value): return .body(value)
        case let .failure(error): return .answered(error.response)
        }
    }

    func addMember(_ request: Request) async -> Response {
        let body: AddMemberBody
        switch await leaderBody(request, AddMemberBody.self) {
        case let .body(value): body = value
        case let .answered(response): return response
        }
        guard body.id != noNode else { return APIError(status: 400, code: "invalid_field", message: "node ids start at 1", field: "id").response }
        guard let peer = HostPort(parsing: body.peer) else {
            return APIError(status: 400, code: "invalid_field", message: "'\(body.peer)' is not HOST:PORT (IPv6 in brackets)", field: "peer").response
        }
        guard let http = HostPort(parsing: body.http) else {
            return APIError(status: 400, code: "invalid_field", message: "'\(body.http)' is not HOST:PORT (IPv6 in brackets)", field: "http").response
        }
        let status = loop.status
        let current = Set(status.voters + status.learners)
        guard !current.contains(body.id) else {
            return APIError(status: 409, code: "conflict", message: "node \(body.id) is already a member; remove it first to replace it", field: "id").response
        }
        let members = MemberDirectory.members(of: ConfState(voters: status.voters, learners: status.learners), config: config, state: loop.state)
        for member in members {
            for (field, address) in [("peer", peer), ("http", http)] where address == member.peer || address == member.http {
                return APIError(status: 409, code: "conflict", message: "\(address) is node \(member.id)'s address", field: field).response
            }
        }
        let member = NodeConfig.Member(id: body.id, peer: peer, http: http)
        // The addresses first: once the change commits, every node must know where the new member is.
        let record = SettingsCommand.put(key: MemberDirectory.key(body.id), value: MemberDirectory.value(for: member), ifRevision: nil)
        if case let .failure(error) = await loop.propose(.settings(record), timeout: Self.proposalTimeout) {
            return Self.unavailable(error).response
        }
        logger.info("adding a member as a learner", metadata: ["node": "\(body.id)", "peer": "\(peer)", "http": "\(http)"])
        return await applyChange(ConfChange(.addLearner, node: body.id), created: true)
    }

    func changeMember(_ request: Request, _ context: VigilRequestContext, action: ConfChange.Action) async -> Response {
        if let forwarded = await forwardUnlessLeader(request, body: nil) { return forwarded }
        guard let text = context.parameters.get("id"), let id = UInt64(text), id != noNode else {
            return APIError(status: 400, code: "invalid_parameter", message: "a node id is a whole number from 1", field: "id").response
        }
        let status = loop.status
        guard (status.voters + status.learners).contains(id) else { return APIError.notFound("member", "\(id)").response }
        if action == .remove, status.voters.contains(id) {
            let remaining = status.voters.filter { $0 != id }
            guard !remaining.isEmpty else {
                return APIError(status: 409, code: "would_lose_quorum", message: "node \(id) is the last voter; a cluster cannot remove it", field: "id").response
            }
            // Only voters the leader heard from lately and is connected to count: removing a live voter while
            // another is down can leave fewer live voters than the smaller cluster's majority, and then nothing
            // commits. (A new leader marks every peer recently active until its first quorum check, so the
            // connection is the sharper test right after an election.)
            let peers = await transport.metrics().peers
            let live = remaining.filter {
                $0 == config.nodeID || (status.progress[$0]?.recentlyActive == true && peers[$0]?.reachability == .connected)
            }
            let quorum = remaining.count / 2 + 1
            guard live.count >= quorum else {
                return APIError(status: 409, code: "would_lose_quorum", message: """
                    removing node \(id) leaves voters \(remaining) of which \(live.count) answer (\(live)); \(quorum) are needed. \
                    Bring a voter back or add a node first
                    """, field: "id").response
            }
        }
        logger.info("membership change", metadata: ["action": "\(action)", "node": "\(id)"])
        return await applyChange(ConfChange(action, node: id), created: false)
    }

    private func applyChange(_ change: ConfChange, created: Bool) async -> Response {
        switch await loop.proposeConfChange(change, timeout: Self.membershipTimeout) {
        case let .success(outcome):
            var conf: ConfState?
            if case let .membership(applied) = outcome { conf = applied }
            return JSONResponse.api(status: created ? .created : .ok, ListPage(items: await clusterView(conf: conf).members, next: nil))
        case let .failure(.refused(reason)):
            return APIError(status: 409, code: "conflict", message: "the change was refused: \(reason)", field: "id").response
        case let .failure(error):
            return Self.unavailable(error).response
        }
    }

    func transferLeader(_ request: Request) async -> Response {
        let body: TransferBody
        switch await leaderBody(request, TransferBody.self) {
        case let .body(value): body = value
        case let .answered(response): return response
        }
        guard loop.status.voters.contains(body.to), body.to != config.nodeID else {
            return APIError(status: 409, code: "conflict", message: "node \(body.to) is not another voter", field: "to").response
        }
        switch await loop.transferLeadership(to: body.to) {
        case .success: break
        case let .failure(.refused(reason)): return APIError(status: 409, code: "conflict", message: reason, field: "to").response
        case let .failure(error): return Self.unavailable(error).response
        }
        // The hand-over takes the target's catch-up and one election round; answer once it is done (bounded).
        let deadline = ContinuousClock.now + .milliseconds(4 * config.raft.electionTimeoutTicks * config.raft.tickIntervalMilliseconds)
        while ContinuousClock.now < deadline {
            if loop.status.leader == body.to { return JSONResponse.api(["leader": body.to]) }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return APIError(status: 503, code: "timeout", message: "node \(body.to) did not take over in time; leader is node \(loop.status.leader)").response
    }
}
