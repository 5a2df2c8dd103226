import DutyModel
import Foundation
import Hummingbird
import Paging

/// `/ack/{token}`: the signed link every page carries. Any node checks it (all hold the ack secret) and
/// forwards the acknowledgement to the leader like any write.
///
/// GET only shows a page with a button: mail scanners and chat previews fetch links, and must not
/// acknowledge an emergency nobody has read. POST acknowledges (or resolves, for a resolve link).
extension HTTPAPI {
    func addAckRoutes(to router: some RouterMethods<VigilRequestContext>) {
        let api = self
        router.get("/ack/{token}") { _, context -> Response in
            api.ackPage(token: context.parameters.get("token") ?? "")
        }
        router.post("/ack/{token}") { request, context -> Response in
            await api.followAckLink(request, token: context.parameters.get("token") ?? "")
        }
    }

    /// The token's claims when it is one of this cluster's links for one of `actions`: a satisfaction link opens no
    /// acknowledgement, and an acknowledgement link no rating page.
    func verifiedClaims(_ token: String, for actions: [AckLinkSigner.Action] = [.acknowledge, .resolve]) -> Result<AckLinkSigner.Claims, APIError> {
        guard let signer = ackSigner else {
            return .failure(APIError(status: 503, code: "paging_off", message: "this node has no ack secret configured (paging.ack_secret_file)"))
        }
        do {
            let claims = try signer.verify(token)
            guard actions.contains(claims.action) else {
                return .failure(APIError(status: 404, code: "unknown_link", message: "not a link of this kind"))
            }
            return .success(claims)
        } catch let .expired(expiresAtSeconds) {
            return .failure(APIError(status: 410, code: "link_expired",
                                     message: "this link expired at \(expiresAtSeconds) (Unix seconds)"))
        } catch {
            // Tampered, malformed and foreign tokens look alike to the caller: nothing to probe.
            return .failure(APIError(status: 404, code: "unknown_link", message: "not an acknowledgement link of this cluster"))
        }
    }

    func ackPage(token: String) -> Response {
        let claims: AckLinkSigner.Claims
        switch verifiedClaims(token) {
        case let .success(value): claims = value
        case let .failure(error): return error.response
        }
        let verb = claims.action == .resolve ? "Resolve" : "Acknowledge"
        let html = """
            <!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
            <title>Vigil: \(verb) ticket \(claims.ticketID)</title></head><body>
            <h1>\(verb) ticket #\(claims.ticketID)?</h1>
            <form method="post"><button type="submit">\(verb)</button></form>
            </body></html>
            """
        return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    func followAckLink(_ request: Request, token: String) async -> Response {
        let claims: AckLinkSigner.Claims
        switch verifiedClaims(token) {
        case let .success(value): claims = value
        case let .failure(error): return error.response
        }
        let command: DutyCommand = claims.action == .resolve ? .resolveTicket(ticketID: claims.ticketID)
            : .acknowledgeTicket(ticketID: claims.ticketID)
        let actor = ActorID.ackLink(idempotencyKey: claims.idempotencyKey)
        let done = claims.action == .resolve ? "resolved" : "acknowledged"
        return await submit(.duty(DutyProposal(command: command, leaderTimestamp: 0, actor: actor)), request: request, body: nil) { outcome in
            switch outcome {
            case .duty(.success):
                return JSONResponse.make(AckAnswer(status: done, ticketID: claims.ticketID))
            case let .duty(.failure(error)) where error.reason == .conflict:
                // A second tap, or someone was quicker: the ticket is in hand either way.
                return JSONResponse.make(AckAnswer(status: "already_\(done)", ticketID: claims.ticketID))
            case let .duty(.failure(error)):
                return APIError(error).response
            default:
                return APIError(status: 500, code: "internal", message: "the command was applied as something else").response
            }
        }
    }
}

/// The answer to a followed acknowledgement link.
struct AckAnswer: Encodable {
    let status: String
    let ticketID: Int
    enum CodingKeys: String, CodingKey { case status, ticketID = "ticket_id" }
}
