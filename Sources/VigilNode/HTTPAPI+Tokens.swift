import DutyModel
import Foundation
import Hummingbird
import HummingbirdBcrypt
import NIOCore
import NIOPosix

/// `/api/v1/tokens` (admin only): issue, list and revoke API tokens. A token is shown once, when issued;
/// the cluster keeps only its SHA-256.
extension HTTPAPI {
    struct TokenRequest: Codable, Sendable {
        let name: String
        let role: Role
        let personID: String?
    }

    struct IssuedToken: Codable, Sendable {
        let name: String
        let role: Role
        /// The secret; not retrievable later.
        let token: String
    }

    struct TokenInfo: Codable, Sendable {
        let name: String
        let role: Role
        let createdAt: Int64
        let personID: String?
    }

    func addTokenRoutes(to router: RouterGroup<VigilRequestContext>) {
        let api = self
        router.get("/api/v1/tokens") { request, _ in
            if case let .failure(error) = await api.loop.readBarrier(timeout: Self.readTimeout) { return Self.unavailable(error).response }
            return JSONResponse.api(ListPage(items: api.loop.state.tokenRecords.map { TokenInfo(name: $0.name, role: $0.role, createdAt: $0.createdAt, personID: $0.personID) }, next: nil))
        }
        router.post("/api/v1/tokens") { request, _ in await api.issueToken(request) }
        router.put("/api/v1/people/{id}/password") { request, context in
            await api.setPassword(request, personID: context.parameters.get("id")?.removingPercentEncoding ?? "")
        }
        router.post("/api/v1/people/{id}/password-link") { request, context in
            await api.passwordLink(request, personID: context.parameters.get("id")?.removingPercentEncoding ?? "")
        }
        router.delete("/api/v1/people/{id}/password") { request, context in
            let id = context.parameters.get("id")?.removingPercentEncoding ?? ""
            return await api.submit(.tokens(.removePassword(personID: id)), request: request, body: nil) { outcome in
                switch outcome {
                case .tokens(.passwordRemoved): return JSONResponse.api(["password_removed": id])
                case .tokens(.notFound): return APIError(status: 404, code: "not_found", message: "person '\(id)' has no console password", field: "id").response
                default: return APIError(status: 500, code: "internal", message: "unexpected outcome removing a password").response
                }
            }
        }
        router.delete("/api/v1/tokens/{name}") { request, context in
            let name = (context.parameters.get("name")?.removingPercentEncoding ?? "")
            return await api.submit(.tokens(.revoke(name: name)), request: request, body: nil) { outcome in
                switch outcome {
                case .tokens(.revoked): return JSONResponse.api(["revoked": name])
                case .tokens(.notFound): return APIError.notFound("token", name).response
                default: return APIError(status: 500, code: "internal", message: "unexpected outcome revoking a token").response
                }
            }
        }
    }

    func issueToken(_ request: Request) async -> Response {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: 4096)
        } catch {
            return APIError(status: 413, code: "body_too_large", message: "a token request has at most 4096 bytes").response
        }
        let body: TokenRequest
        switch APIJSON.decodeStrict(TokenRequest.self, from: Data(buffer.readableBytesView)) {
        case let .success(value): body = value
        case let .failure(error): return error.response
        }
        if let problem = TokenRegistry.nameProblem(body.name) {
            return APIError(status: 400, code: "invalid_field", message: problem, field: "name").response
        }
        if let personID = body.personID, loop.state.duty({ $0.people[personID] }) == nil {
            return APIError(status: 404, code: "not_found", message: "no person '\(personID)'", field: "person_id").response
        }
        // Generated on whichever node builds the proposal; a follower forwards the request and the leader's
        // token is the one answered and registered.
        let token = APIToken.generate()
        let command = TokenCommand.create(name: body.name, role: body.role, sha256: APIToken.sha256Hex(token), createdAt: Self.nowMillis(), personID: body.personID)
        return await submit(.tokens(command), request: request, body: buffer) { outcome in
            switch outcome {
            case let .tokens(.created(record)):
                return JSONResponse.api(status: .created, IssuedToken(name: record.name, role: record.role, token: token))
            case let .tokens(.conflict(message)):
                return APIError(status: 409, code: "conflict", message: message, field: "name").response
            case let .tokens(.rejected(field, message)):
                return APIError(status: 400, code: "invalid_field", message: message, field: field).response
            default:
                return APIError(status: 500, code: "internal", message: "unexpected outcome issuing a token").response
            }
        }
    }

    struct PasswordBody: Codable, Sendable {
        let password: String
    }

    static let passwordBytes = 10...128
    /// bcrypt's work factor: about 60 ms per hash here, so guessing stays slow even with the hash in hand.
    static let bcryptCost: UInt8 = 10

    /// Sets a person's console password (admin). The log holds only the bcrypt hash; the person's other console
    /// sessions end.
    func setPassword(_ request: Request, personID: String) async -> Response {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: 4096)
        } catch {
            return APIError(status: 413, code: "body_too_large", message: "a password request has at most 4096 bytes").response
        }
        let body: PasswordBody
        switch APIJSON.decodeStrict(PasswordBody.self, from: Data(buffer.readableBytesView)) {
        case let .success(value): body = value
        case let .failure(error): return error.response
        }
        guard Self.passwordBytes.contains(body.password.utf8.count) else {
            return APIError(status: 400, code: "invalid_field",
                            message: "a password has \(Self.passwordBytes.lowerBound)–\(Self.passwordBytes.upperBound) bytes", field: "password").response
        }
        guard loop.state.duty({ $0.people[personID] }) != nil else {
            return APIError(status: 404, code: "not_found", message: "no person '\(personID)'", field: "id").response
        }
        let hash: String
        do {
            hash = try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(body.password, cost: Self.bcryptCost) }
        } catch {
            return APIError(status: 503, code: "stopping", message: "the node is stopping").response
        }
        return await submit(.tokens(.setPassword(personID: personID, bcrypt: hash)), request: request, body: buffer) { outcome in
            switch outcome {
            case .tokens(.passwordSet): return JSONResponse.api(["password_set": personID])
            case .tokens(.notFound): return APIError(status: 404, code: "not_found", message: "no person '\(personID)'", field: "id").response
            case let .tokens(.rejected(field, message)): return APIError(status: 400, code: "invalid_field", message: message, field: field).response
            default: return APIError(status: 500, code: "internal", message: "unexpected outcome setting a password").response
            }
        }
    }

    struct PasswordLinkBody: Codable, Sendable {
        let validHours: Int?
    }

    struct PasswordLinkAnswer: Codable, Sendable {
        let personID: String
        let url: String
        let expiresAt: Int64
    }

    static let passwordLinkPrefix = "vgr_"

    /// A one-time link to the console's set-password page (admin), valid 1–168 hours (72 by default). The answer is
    /// the only place the link appears; hand it to the person.
    func passwordLink(_ request: Request, personID: String) async -> Response {
        var request = request
        let buffer = (try? await request.collectBody(upTo: 1024)) ?? ByteBuffer()
        var hours = 72
        if buffer.readableBytes > 0 {
            switch APIJSON.decodeStrict(PasswordLinkBody.self, from: Data(buffer.readableBytesView)) {
            case let .success(body): hours = body.validHours ?? hours
            case let .failure(error): return error.response
            }
        }
        guard (1...168).contains(hours) else {
            return APIError(status: 400, code: "invalid_field", message: "valid_hours is 1–168", field: "valid_hours").response
        }
        guard loop.state.duty({ $0.people[personID] }) != nil else {
            return APIError(status: 404, code: "not_found", message: "no person '\(personID)'", field: "id").response
        }
        let secret = Self.passwordLinkPrefix + String(APIToken.generate().dropFirst(APIToken.prefix.count))
        let now = Self.nowMillis()
        let expiresAt = now + Int64(hours) * 3_600_000
        let command = TokenCommand.openPasswordReset(sha256: APIToken.sha256Hex(secret), personID: personID, openedAt: now, expiresAt: expiresAt)
        return await submit(.tokens(command), request: request, body: buffer) { outcome in
            switch outcome {
            case .tokens(.passwordResetOpened):
                return JSONResponse.api(status: .created, PasswordLinkAnswer(personID: personID, url: "\(publicBase(request))/console/set-password/\(secret)",
                                                                            expiresAt: expiresAt))
            case .tokens(.notFound): return APIError(status: 404, code: "not_found", message: "no person '\(personID)'", field: "id").response
            case let .tokens(.rejected(field, message)): return APIError(status: 400, code: "invalid_field", message: message, field: field).response
            default: return APIError(status: 500, code: "internal", message: "unexpected outcome opening a set-password link").response
            }
        }
    }
}
