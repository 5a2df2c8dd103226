import DutyModel
import Foundation
import Hummingbird

/// Customers (S15) and their addresses (S16): everyone reads who a customer is; only managers read the addresses,
/// and each reading is on the audit trail before it is shown.
extension HTTPAPI {
    func addCustomerRoutes(to router: RouterGroup<VigilRequestContext>, contactData: RouterGroup<VigilRequestContext>) {
        let api = self
        router.put("/api/v1/customers/{id}") { request, context in
            await api.upsert(request, context, Customer.self, \.id,
                             defaults: ["language": "en", "email_addresses": [String](), "announcements": false]) { .upsertCustomer($0) }
        }
        router.delete("/api/v1/customers/{id}") { request, context in
            let id = (context.parameters.get("id")?.removingPercentEncoding ?? "")
            return await api.write(request, allowEmptyBody: true) { _ in .success(.removeCustomer(customerID: id)) } answer: { events in
                JSONResponse.api(WriteAnswer<String>(events: events, object: id))
            }
        }
        router.get("/api/v1/customers") { request, _ in
            await api.read(request) { state in
                let customers = state.customerBook.customers
                return JSONResponse.api(ListPage(items: customers.keys.sorted().map { CustomerView(customers[$0]!, addresses: nil) }, next: nil))
            }
        }
        router.get("/api/v1/customers/{id}") { request, context in
            await api.read(request) { state in
                let id = (context.parameters.get("id")?.removingPercentEncoding ?? "")
                guard let customer = state.customer(id) else { return APIError.notFound("customer", id).response }
                return JSONResponse.api(CustomerView(customer, addresses: nil))
            }
        }
        contactData.get("/api/v1/customers/{id}/contact") { request, context in
            let id = (context.parameters.get("id")?.removingPercentEncoding ?? "")
            let reason = request.uri.queryParameters.get("reason") ?? ""
            guard !reason.isEmpty, reason.utf8.count <= 200 else {
                return APIError(status: 400, code: "invalid_parameter", message: "say why in reason= (1–200 bytes); it goes to the audit trail",
                                field: "reason").response
            }
            return await api.write(request, allowEmptyBody: true) { _ in
                .success(.recordCustomerContactAccess(customerID: id, reason: reason))
            } answer: { _ in
                guard let customer = api.loop.state.duty({ $0.customer(id) }) else { return APIError.notFound("customer", id).response }
                return JSONResponse.api(CustomerView(customer, addresses: customer.emailAddresses))
            }
        }
    }
}

/// A customer as the API shows it: the addresses only on the audited contact route.
struct CustomerView: Codable, Sendable {
    let id: String
    let name: String
    let language: Customer.Language
    let slaPolicyID: String?
    let announcements: Bool
    let addressCount: Int
    let emailAddresses: [String]?

    init(_ customer: Customer, addresses: [String]?) {
        id = customer.id
        name = customer.name
        language = customer.language
        slaPolicyID = customer.slaPolicyID
        announcements = customer.announcements
        addressCount = customer.emailAddresses.count
        emailAddresses = addresses
    }
}
