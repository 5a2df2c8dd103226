import DutyModel
import Foundation
import Hummingbird
import Paging

/// `/feedback/{token}`: the customer's satisfaction page (S13), opened from the signed link mailed when the ticket
/// reached the feedback stage. No sign-in: the link is the credential, it expires, and it rates one ticket once.
/// The rating goes through `submitFeedback`, so 2 or less opens a follow-up as a rating entered by staff does.
extension HTTPAPI {
    func addFeedbackRoutes(to router: some RouterMethods<VigilRequestContext>) {
        let api = self
        router.get("/feedback/{token}") { request, context -> Response in
            await api.feedbackPage(request, token: context.parameters.get("token") ?? "")
        }
        router.post("/feedback/{token}") { request, context -> Response in
            await api.submitFeedbackForm(request, token: context.parameters.get("token") ?? "")
        }
    }

    private static func html(_ title: String, _ body: String, status: HTTPResponse.Status = .ok) -> Response {
        let page = """
            <!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
            <title>\(PageText.html(title))</title></head><body><main>\(body)</main></body></html>
            """
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(string: page)))
    }

    func feedbackPage(_ request: Request, token: String) async -> Response {
        let claims: AckLinkSigner.Claims
        switch verifiedClaims(token, for: [.feedback]) {
        case let .success(value): claims = value
        case let .failure(error): return error.response
        }
        let ticket = loop.state.duty { $0.ticket(claims.ticketID) }
        let chinese = ticket.flatMap(\.customerID).flatMap { id in loop.state.duty { $0.customer(id) } }?.language == .zh
        guard let ticket, ticket.feedback == nil else {
            return Self.html(chinese ? "已评价" : "Already rated", chinese ? "<h1>感谢，您已评价过这张工单。</h1>" : "<h1>Thank you: this ticket is rated already.</h1>")
        }
        let choices = (1...5).map { n in
            "<label><input type=\"radio\" name=\"rating\" value=\"\(n)\" required> \(n)</label>"
        }.joined(separator: " ")
        let body = """
            <h1>\(chinese ? "请评价工单" : "Rate ticket") #\(ticket.id)</h1>
            <p>\(PageText.html(ticket.title))</p>
            <form method="post">
            <fieldset><legend>\(chinese ? "满意度（1 = 很不满意，5 = 非常满意）" : "Your rating (1 = very poor, 5 = excellent)")</legend>\(choices)</fieldset>
            <p><label for="comment">\(chinese ? "意见（可选）" : "Comment (optional)")</label><br>
            <textarea id="comment" name="comment" rows="5" cols="50" maxlength="2000"></textarea></p>
            <button type="submit">\(chinese ? "提交" : "Send")</button>
            </form>
            """
        return Self.html(chinese ? "评价工单" : "Rate ticket", body)
    }

    func submitFeedbackForm(_ request: Request, token: String) async -> Response {
        let claims: AckLinkSigner.Claims
        switch verifiedClaims(token, for: [.feedback]) {
        case let .success(value): claims = value
        case let .failure(error): return error.response
        }
        var request = request
        guard let form = await Console.form(&request) else {
            return APIError(status: 413, code: "body_too_large", message: "the form is too large").response
        }
        guard let rating = form["rating"].flatMap(Int.init), (1...5).contains(rating) else {
            return APIError(status: 400, code: "invalid_field", message: "rating must be 1–5", field: "rating").response
        }
        let comment = String((form["comment"] ?? "").utf8.prefix(2_000)) ?? ""
        let customerID = loop.state.duty { $0.ticket(claims.ticketID)?.customerID } ?? "unknown"
        let actor = ActorID(String("customer:\(customerID)".prefix(DutyLimits.maxIdentifierLength * 2)))
        let command = DutyCommand.submitFeedback(ticketID: claims.ticketID, rating: rating, comment: comment)
        return await submit(.duty(DutyProposal(command: command, leaderTimestamp: 0, actor: actor)), request: request, body: nil) { outcome in
            switch outcome {
            case .duty(.success):
                return Self.html("Thank you", "<h1>Thank you · 感谢您的评价</h1><p>\(rating)/5</p>")
            case let .duty(.failure(error)) where error.reason == .conflict:
                return Self.html("Already rated", "<h1>\(PageText.html(error.message))</h1>", status: .conflict)
            case let .duty(.failure(error)):
                return APIError(error).response
            default:
                return APIError(status: 500, code: "internal", message: "the command was applied as something else").response
            }
        }
    }
}
