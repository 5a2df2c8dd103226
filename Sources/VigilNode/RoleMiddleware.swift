import DutyModel
import Foundation
import Hummingbird

/// Who presents which bearer token: the bootstrap token of the configuration or a token of the replicated
/// registry. Shared by the role middleware of every route group.
struct Authenticator: Sendable {
    let state: StateView
    let bootstrapToken: TokenDigest?
    let tokenLimiter: RateLimiter
    /// Waits until this node has applied everything committed (ReadIndex); used once for an unknown token,
    /// which may have been issued a moment ago through another node.
    let catchUp: @Sendable () async -> Bool

    static let bootstrapPrincipalName = "bootstrap-admin"

    /// The role middleware for a group of routes: `read` for GET and HEAD, `write` for the other methods.
    func requiring(read: Role, write: Role) -> RoleMiddleware { RoleMiddleware(authenticator: self, read: read, write: write) }

    /// The same role whatever the method.
    func requiring(_ role: Role) -> RoleMiddleware { requiring(read: role, write: role) }

    func authenticate(_ request: Request) -> Result<Principal, APIError> {
        guard let header = request.headers[.authorization] else {
            return .failure(APIError(status: 401, code: "unauthorized", message: "this route needs 'Authorization: Bearer <token>'", field: "Authorization"))
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", !parts[1].isEmpty else {
            return .failure(APIError(status: 401, code: "unauthorized", message: "the Authorization header must be 'Bearer <token>'", field: "Authorization"))
        }
        let digest = TokenDigest(token: String(parts[1]))
        if let bootstrap = bootstrapToken, bootstrap.constantTimeEquals(digest) {
            return .success(Principal(name: Self.bootstrapPrincipalName, role: .admin))
        }
        if let record = state.token(for: digest) {
            return .success(Principal(name: record.name, role: record.role, personID: record.personID))
        }
        // The token is not echoed, not even in part: it may be a real secret sent to the wrong cluster.
        return .failure(APIError(status: 401, code: "unauthorized", message: "the bearer token is not valid here", field: "Authorization"))
    }

    static func tooManyRequests(_ what: String) -> Response {
        var response = APIError(status: 429, code: "rate_limited", message: "this \(what) exceeds its request rate; retry after a second").response
        response.headers[.retryAfter] = "1"
        return response
    }
}

/// Authenticates the bearer token, checks the group's minimum role for the method and the token's rate, and
/// hands the principal to the handler in the request context (and as `Principal.current`).
struct RoleMiddleware: RouterMiddleware {
    typealias Context = VigilRequestContext
    let authenticator: Authenticator
    let read: Role
    let write: Role

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let minimum = request.method == .get || request.method == .head ? read : write
        var result = authenticator.authenticate(request)
        if case .failure = result, request.headers[.authorization] != nil, await authenticator.catchUp() {
            result = authenticator.authenticate(request)
        }
        let principal: Principal
        switch result {
        case let .success(value): principal = value
        case let .failure(error):
            var response = error.response
            response.headers[.wwwAuthenticate] = "Bearer realm=\"vigil\""
            return response
        }
        guard principal.role >= minimum else {
            return APIError(status: 403, code: "forbidden",
                            message: "token '\(principal.name)' has role \(principal.role.rawValue); this needs \(minimum.rawValue) or higher").response
        }
        guard authenticator.tokenLimiter.allow(principal.name) else { return Authenticator.tooManyRequests("token") }
        var context = context
        context.principal = principal
        return try await Principal.$current.withValue(principal) { [context] in try await next(request, context) }
    }
}

/// Intake routes authenticate by the integration key in the body or the path; this limits each key's rate.
struct IntegrationKeyMiddleware: RouterMiddleware {
    typealias Context = VigilRequestContext
    let limiter: RateLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let key = context.parameters.get("key"), !limiter.allow(key) { return Authenticator.tooManyRequests("integration key") }
        return try await next(request, context)
    }
}
