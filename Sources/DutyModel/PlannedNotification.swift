/// One message the paging scheduler owes a person for an escalation step.
public struct PlannedNotification: Codable, Sendable, Equatable {
    public let personID: String
    public let contactMethodID: String
    public let kind: ContactMethod.Kind
    public let address: String
    public let dueAt: Timestamp
    /// Stable across leaders, so a resend after failover reuses the same key.
    public let idempotencyKey: String
}

extension DutyState {
    /// The person's notification rules applied to a step: "chat at once, SMS after 1 min, call
    /// after 3 min". Needs a role that may read contact data (S16); the pager runs as admin.
    public func notificationPlan(for step: EscalationStep, readerRole: Role) -> Result<[PlannedNotification], DutyError> {
        guard readerRole.mayReadContactData else {
            return .failure(DutyError(.forbidden, field: "readerRole", "\(readerRole.rawValue)s may not read contact data"))
        }
        var plan: [PlannedNotification] = []
        for personID in step.personIDs {
            guard let person = people[personID] else { continue }
            // Someone without rules still gets every contact method at once rather than nothing.
            let rules = person.notificationRules.isEmpty
                ? person.contactMethods.map { NotificationRule(contactMethodID: $0.id, delayMinutes: 0) }
                : person.notificationRules
            for rule in rules {
                guard let method = person.contactMethods.first(where: { $0.id == rule.contactMethodID }) else { continue }
                plan.append(PlannedNotification(
                    personID: personID, contactMethodID: method.id, kind: method.kind, address: method.address,
                    dueAt: step.dueAt + rule.delayMillis,
                    idempotencyKey: "\(step.idempotencyKey)-\(personID)-\(method.id)"))
            }
        }
        return .success(plan.sorted { ($0.dueAt, $0.personID, $0.contactMethodID) < ($1.dueAt, $1.personID, $1.contactMethodID) })
    }
}
