import DutyModel
import Foundation

/// One line of a ticket list; the full ticket (with its timeline) is `GET /api/v1/tickets/{id}`.
struct TicketSummary: Codable, Sendable {
    let id: TicketID
    let kind: TicketKind
    let priority: Priority
    let title: String
    let serviceID: String
    let ownerID: String?
    let stage: TicketStage
    let registeredAt: Timestamp
    let acknowledgedAt: Timestamp?
    let resolvedAt: Timestamp?
    let alertKey: String?
    let alertCount: Int

    init(_ ticket: Ticket) {
        id = ticket.id
        kind = ticket.kind
        priority = ticket.priority
        title = ticket.title
        serviceID = ticket.serviceID
        ownerID = ticket.ownerID
        stage = ticket.stage
        registeredAt = ticket.registeredAt
        acknowledgedAt = ticket.acknowledgedAt
        resolvedAt = ticket.resolvedAt
        alertKey = ticket.alertKey
        alertCount = ticket.alertCount
    }
}

/// A page of a list with the cursor for the next one.
struct ListPage<Item: Codable & Sendable>: Codable, Sendable {
    let items: [Item]
    /// Pass as `after` to get the next page; absent on the last page.
    let next: String?
}

/// The answer to a write: what the command did, and the object it touched when there is one.
struct WriteAnswer<Object: Codable & Sendable>: Codable, Sendable {
    let events: [DutyEvent]
    let object: Object?
}

/// Who is on call in a schedule at an instant, and the shifts that follow.
struct OnCallAnswer: Codable, Sendable {
    let scheduleID: String
    let at: Timestamp
    let personID: String?
    let nextShifts: [OnCallSchedule.Shift]
}

/// A person as the API shows them: contact addresses only for roles allowed to read them (S16).
struct PersonView: Codable, Sendable {
    let id: String
    let name: String
    let role: Role
    let timeZoneIdentifier: String
    let notificationRules: [NotificationRule]
    let contactMethods: [ContactMethod]?
    let announcements: Bool?

    init(_ person: Person, contactMethods: [ContactMethod]?) {
        announcements = person.announcements
        id = person.id
        name = person.name
        role = person.role
        timeZoneIdentifier = person.timeZoneIdentifier
        notificationRules = person.notificationRules
        self.contactMethods = contactMethods
    }
}

/// A knowledge-base hit.
struct ArticleMatch: Codable, Sendable {
    let articleID: String
    let title: String
    let category: String
    let score: Int
}

/// The monthly report (S10) as JSON; `?format=csv` gives the same rows as CSV.
struct ReportView: Codable, Sendable {
    struct Row: Codable, Sendable {
        let group: String
        let ticketsRegistered: Int
        let ticketsResolved: Int
        let resolutionRatePercent: Double?
        let mttaSeconds: Double?
        let mttrSeconds: Double?
        let satisfactionAverage: Double?
        /// Per SLA target: met, breached and the attainment percentage.
        let attainment: [String: AttainmentView]
        /// Every breach of the group; only the first `DutyReport.listedBreaches` are listed in `breaches`.
        let breachCount: Int
        let breaches: [BreachView]
        /// Pages through all of them when more than the listed ones exist.
        let breachesURL: String?
    }
    struct AttainmentView: Codable, Sendable {
        let met: Int
        let breached: Int
        let percent: Double?
    }
    struct BreachView: Codable, Sendable {
        let ticketID: TicketID
        let target: SLATarget
        let dueAt: Timestamp

        init(_ breach: DutyReport.Breach) {
            ticketID = breach.ticketID
            target = breach.target
            dueAt = breach.dueAt
        }
    }
    let year: Int
    let month: Int
    let grouping: String
    let rows: [Row]

    init(_ report: DutyReport, timeZone: String) {
        year = report.year
        month = report.month
        grouping = report.grouping.rawValue
        let monthText = "\(report.year)-\(report.month < 10 ? "0" : "")\(report.month)"
        let zone = timeZone.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&+="))) ?? timeZone
        rows = report.rows.map { row in
            Row(group: row.group, ticketsRegistered: row.ticketsRegistered, ticketsResolved: row.ticketsResolved,
                resolutionRatePercent: row.resolutionRatePercent, mttaSeconds: row.mttaSeconds, mttrSeconds: row.mttrSeconds,
                satisfactionAverage: row.satisfactionAverage,
                attainment: Dictionary(uniqueKeysWithValues: row.attainment.map {
                    (APIJSON.snake($0.key.rawValue), AttainmentView(met: $0.value.met, breached: $0.value.breached, percent: $0.value.percent))
                }),
                breachCount: row.breachCount,
                breaches: row.breaches.map(BreachView.init),
                breachesURL: row.breachCount > row.breaches.count
                    ? "/api/v1/reports/breaches?month=\(monthText)&group=\(report.grouping.rawValue)&group_name=\(row.group)&time_zone=\(zone)"
                    : nil)
        }
    }
}
