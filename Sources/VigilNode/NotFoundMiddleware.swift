import Hummingbird

/// Answers a path no route serves in the API's one error shape instead of Hummingbird's empty 404.
struct NotFoundMiddleware: RouterMiddleware {
    typealias Context = VigilRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            return APIError(status: 404, code: "no_route", message: "no route \(request.method.rawValue) \(request.uri.path) on this API").response
        } catch let error as HTTPError where error.status == .methodNotAllowed {
            return APIError(status: 405, code: "method_not_allowed", message: "\(request.uri.path) does not take \(request.method.rawValue)").response
        }
    }
}
