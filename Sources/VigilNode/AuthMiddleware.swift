import DutyModel
import Foundation
import Hummingbird

/// Authenticates bearer tokens, checks the route's minimum role and the token's rate, and makes the
/// principal available to handlers as `Principal.current`.
///
/// Health, readiness, metrics and the cluster view are open (no secrets, and probes carry no token);
/// intake routes authenticate by their integration key instead.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = VigilRequestContext

    /// What a route asks of its caller.
    enum Requirement: Equatable {
        case open
        case integrationKey
        case role(Role)
    }

    let state: StateView
    let bootstrapToken: TokenDigest?
    let tokenLimiter: RateLimiter
    let integrationLimiter: RateLimiter
    /// Waits until this node has applied everything committed (ReadIndex); used once for an unknown token,
    /// which may have been issued a moment ago through another node.
    let catchUp: @Sendable () async -> Bool

    static let bootstrapPrincipalName = "bootstrap-admin"

    static func requirement(method: HTTPRequest.Method, path: String) -> Requirement {
        if ["/healthz", "/readyz", "/metrics", "/api/v1/cluster"].contains(path) { return .open }
        if path == "/v2/enqueue" || path == "/v2/change/enqueue" || path.hasPrefix("/api/v1/integrations/") { return .integrationKey }
        if path.hasPrefix("/ack/") { return .open }
        // The console authenticates its own way (a session cookie and CSRF tokens, `Console`).
        if path == "/" || path == "/console" || path.hasPrefix("/console/") { return .open }
        if path.hasPrefix("/api/v1/people/"), path.hasSuffix("/password") { return .role(.admin) }
        if path == "/api/v1/tokens" || path.hasPrefix("/api/v1/tokens/") { return .role(.admin) }
        if path.hasPrefix("/api/v1/cluster/") { return .role(.admin) }
        let reads: Set<HTTPRequest.Method> = [.get, .head]
        if reads.contains(method) {
            return path.hasSuffix("/contact-methods") ? .role(.manager) : .role(.viewer)
        }
        if path.hasPrefix("/api/v1/settings/") { return .role(.admin) }
        if path == "/api/v1/tickets" || path.hasPrefix("/api/v1/tickets/") { return .role(.responder) }
        if path.hasPrefix("/api/v1/heartbeats/"), path.hasSuffix("/ping") { return .role(.responder) }
        return .role(.manager)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        switch Self.requirement(method: request.method, path: request.uri.path) {
        case .open:
            return try await next(request, context)
        case .integrationKey:
            if request.uri.path.hasPrefix("/api/v1/integrations/"), let key = request.uri.path.split(separator: "/").last,
               !integrationLimiter.allow(String(key)) {
                return Self.tooManyRequests("integration key")
            }
            return try await next(request, context)
        case let .role(minimum):
            let principal: Principal
            var result = authenticate(request)
            if case .failure = result, request.headers[.authorization] != nil, await catchUp() {
                result = authenticate(request)
            }
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
            guard tokenLimiter.allow(principal.name) else { return Self.tooManyRequests("token") }
            var context = context
            context.principal = principal
            return try await Principal.$current.withValue(principal) { [context] in try await next(request, context) }
        }
    }

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
