import ArgumentParser
import Foundation

/// `vigil oncall`: who is on call in a schedule now (or at --at), and the next shifts.
struct OnCallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "oncall", abstract: "Who is on call now (or at a time), and the next shifts.")
    @OptionGroup var connection: ConnectionOptions
    @Option(help: "Schedule id; without it, every schedule.") var schedule: String?
    @Option(help: "An ISO 8601 time (2026-11-29T22:00:00Z); default now.") var at: String?
    @Option(help: "How many next shifts to show.") var next: Int = 3
    @Option(help: "table, json or yaml.") var output: OutputFormat = .table

    func run() async throws {
        let connection = try self.connection.resolve()
        var query = "next=\(next)"
        if let at {
            guard let date = ISO8601DateFormatter().date(from: at) else { throw fail("--at must be an ISO 8601 time, not '\(at)'", code: 2) }
            query += "&at=\(Int64(date.timeIntervalSince1970 * 1000))"
        }
        var ids: [String] = []
        if let schedule {
            ids = [schedule]
        } else {
            let page = try JSONSerialization.jsonObject(with: try await connection.call(.GET, "/api/v1/schedules")) as? [String: Any] ?? [:]
            ids = (page["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        }
        var rows: [[String]] = []
        var answers: [Any] = []
        for id in ids {
            let data = try await connection.call(.GET, "/api/v1/schedules/\(id)/oncall?\(query)")
            let answer = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
            answers.append(answer)
            let shifts = (answer["next_shifts"] as? [[String: Any]] ?? []).map { shift in
                "\(shift["person_id"] as? String ?? "?") from \(Self.time(shift["start"]))"
            }
            rows.append([id, answer["person_id"] as? String ?? "nobody", shifts.joined(separator: ", ")])
        }
        if output == .json {
            Printer.json(try JSONSerialization.data(withJSONObject: answers))
        } else {
            Printer.table(rows, header: ["SCHEDULE", "ON CALL", "NEXT"])
        }
    }

    static func time(_ value: Any?) -> String {
        guard let millis = value as? NSNumber else { return "?" }
        return Date(timeIntervalSince1970: millis.doubleValue / 1000).ISO8601Format()
    }
}

/// `vigil kb search TEXT`: knowledge-base articles best matching a question (English or Chinese).
struct KnowledgeBaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kb", abstract: "Search the knowledge base.", subcommands: [Search.self])

    struct Search: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Articles best matching TEXT.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The question.") var text: String
        @Option(help: "table, json or yaml.") var output: OutputFormat = .table

        func run() async throws {
            let connection = try self.connection.resolve()
            let query = text.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&+=#"))) ?? ""
            let data = try await connection.call(.GET, "/api/v1/kb/search?q=\(query)")
            guard output == .table else { return Printer.structured(data, output) }
            let page = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
            let rows = (page["items"] as? [[String: Any]] ?? []).map { item in
                ["article_id", "score", "category", "title"].map { Printer.text(item[$0] ?? NSNull()) }
            }
            Printer.table(rows, header: ["ARTICLE", "SCORE", "CATEGORY", "TITLE"])
        }
    }
}

/// `vigil report --month 2026-11 [--csv]`: the monthly SLA and service report (S10).
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "report", abstract: "Monthly SLA attainment, MTTA, MTTR, resolution rate and satisfaction.")
    @OptionGroup var connection: ConnectionOptions
    @Option(help: "YYYY-MM.") var month: String
    @Option(help: "overall, team or person.") var group: String = "overall"
    @Option(name: .customLong("time-zone"), help: "Time zone that decides the month's boundaries.") var timeZone: String = "UTC"
    @Flag(help: "CSV instead of JSON.") var csv = false

    func run() async throws {
        let connection = try self.connection.resolve()
        let data = try await connection.call(.GET, "/api/v1/reports?month=\(month)&group=\(group)&time_zone=\(timeZone)" + (csv ? "&format=csv" : ""))
        if csv { print(String(decoding: data, as: UTF8.self), terminator: "") } else { Printer.json(data) }
    }
}

/// `vigil token create|list|revoke`: API tokens (admin only).
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "token", abstract: "Issue, list and revoke API tokens (admin).",
                                                    subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue a token; it is printed once and never again.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "A name for the token.") var name: String
        @Option(help: "viewer, responder, manager or admin.") var role: String
        @Option(help: "The person using it (their id becomes the actor in the audit trail).") var person: String?

        func run() async throws {
            var body: [String: Any] = ["name": name, "role": role]
            if let person { body["person_id"] = person }
            let data = try await connection.resolve().call(.POST, "/api/v1/tokens", body: try JSONSerialization.data(withJSONObject: body))
            let answer = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
            print(answer["token"] as? String ?? "")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (names and roles, never secrets).")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "table, json or yaml.") var output: OutputFormat = .table

        func run() async throws {
            let data = try await connection.resolve().call(.GET, "/api/v1/tokens")
            guard output == .table else { return Printer.structured(data, output) }
            let page = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
            Printer.table((page["items"] as? [[String: Any]] ?? []).map { item in
                ["name", "role", "person_id"].map { Printer.text(item[$0] ?? NSNull()) }
            }, header: ["NAME", "ROLE", "PERSON"])
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by name.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Token name.") var name: String

        func run() async throws {
            _ = try await connection.resolve().call(.DELETE, "/api/v1/tokens/\(name)")
            print("revoked \(name)")
        }
    }
}

/// `vigil person set-password|remove-password`: console passwords (admin). The password is read from standard
/// input, never from the command line, where other users and the shell history would see it.
struct PersonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "person", abstract: "Set a person's console password, send them a link to set it, or remove it (admin).",
                                                    subcommands: [SetPassword.self, PasswordLink.self, RemovePassword.self])

    struct SetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-password",
            abstract: "Set or reset a person's console password (10–128 bytes, the first line of standard input); their other console sessions end.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The person's id.") var id: String

        func run() async throws {
            guard let password = readLine(strippingNewline: true), !password.isEmpty else {
                throw fail("give the password on standard input, e.g. `vigil person set-password \(id) < file`", code: 2)
            }
            let body = try JSONSerialization.data(withJSONObject: ["password": password])
            _ = try await connection.resolve().call(.PUT, "/api/v1/people/\(id)/password", body: body)
            print("console password set for \(id)")
        }
    }

    struct PasswordLink: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "password-link", abstract: "Print a one-time link to the console's set-password page for the person (replaces an earlier one).")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The person's id.") var id: String
        @Option(help: "How long the link stays valid, 1–168 hours.") var validHours: Int = 72

        func run() async throws {
            let body = try JSONSerialization.data(withJSONObject: ["valid_hours": validHours])
            let data = try await connection.resolve().call(.POST, "/api/v1/people/\(id)/password-link", body: body)
            let answer = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
            print(answer["url"] as? String ?? "")
        }
    }

    struct RemovePassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove-password",
                                                        abstract: "Remove a person's console password; their console sessions end.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The person's id.") var id: String

        func run() async throws {
            _ = try await connection.resolve().call(.DELETE, "/api/v1/people/\(id)/password")
            print("console password removed for \(id)")
        }
    }
}

/// `vigil calendar-feed create|list|revoke`: iCal feeds of on-call shifts at secret addresses (managers create and revoke).
struct CalendarFeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "calendar-feed", abstract: "Create, list and revoke iCal feeds of on-call shifts.",
                                                    subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a feed of a schedule or of a person and print its address (shown once).")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "A name for the feed.") var id: String
        @Option(help: "The schedule whose final shifts it holds.") var schedule: String?
        @Option(help: "The person whose shifts, from every schedule, it holds.") var person: String?

        func validate() throws {
            guard (schedule == nil) != (person == nil) else { throw ValidationError("give exactly one of --schedule and --person") }
        }

        func run() async throws {
            var body: [String: Any] = ["id": id]
            if let schedule { body["schedule_id"] = schedule }
            if let person { body["person_id"] = person }
            let data = try await connection.resolve().call(.POST, "/api/v1/calendar-feeds", body: try JSONSerialization.data(withJSONObject: body))
            let answer = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
            print(answer["url"] as? String ?? "")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List feeds (names and scopes, never addresses).")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "table, json or yaml.") var output: OutputFormat = .table

        func run() async throws {
            let data = try await connection.resolve().call(.GET, "/api/v1/calendar-feeds")
            guard output == .table else { return Printer.structured(data, output) }
            let page = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
            Printer.table((page["items"] as? [[String: Any]] ?? []).map { item in
                ["id", "schedule_id", "person_id"].map { Printer.text(item[$0] ?? NSNull()) }
            }, header: ["ID", "SCHEDULE", "PERSON"])
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a feed by name; its address stops working.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Feed name.") var id: String

        func run() async throws {
            _ = try await connection.resolve().call(.DELETE, "/api/v1/calendar-feeds/\(id)")
            print("revoked \(id)")
        }
    }
}

/// `vigil customer`: customers (S15) and their addresses (S16, read with a reason that goes to the audit trail).
struct CustomerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "customer", abstract: "Create, list, show and remove customers (S15).",
                                                    subcommands: [Set.self, List.self, Show.self, Remove.self])

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create or replace a customer: name, language, addresses and SLA policy (manager).")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Customer id.") var id: String
        @Option(help: "The customer's name.") var name: String
        @Option(help: "en or zh: the language of mail to the customer.") var language: String = "en"
        @Option(name: .customLong("email"), help: "An address the customer writes from (repeat for more).") var emails: [String] = []
        @Option(name: .customLong("sla-policy"), help: "The contract's SLA policy (default: each service's).") var slaPolicy: String?
        @Flag(help: "Send the customer policy change announcements (S14).") var announcements = false

        func validate() throws {
            guard ["en", "zh"].contains(language) else { throw ValidationError("--language must be en or zh, not '\(language)'") }
        }

        func run() async throws {
            var body: [String: Any] = ["id": id, "name": name, "language": language, "email_addresses": emails, "announcements": announcements]
            if let slaPolicy { body["sla_policy_id"] = slaPolicy }
            _ = try await connection.resolve().call(.PUT, "/api/v1/customers/\(id)", body: try JSONSerialization.data(withJSONObject: body))
            print("customer \(id) saved")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List customers (without addresses).")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "table, json or yaml.") var output: OutputFormat = .table

        func run() async throws {
            let data = try await connection.resolve().call(.GET, "/api/v1/customers")
            guard output == .table else { return Printer.structured(data, output) }
            let page = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
            Printer.table((page["items"] as? [[String: Any]] ?? []).map { item in
                ["id", "name", "language", "sla_policy_id", "address_count"].map { Printer.text(item[$0] ?? NSNull()) }
            }, header: ["ID", "NAME", "LANGUAGE", "SLA POLICY", "ADDRESSES"])
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a customer; with --reason, their addresses too (manager, audited).")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Customer id.") var id: String
        @Option(help: "Why the addresses are read; it goes to the audit trail.") var reason: String?
        @Option(help: "table, json or yaml.") var output: OutputFormat = .table

        func run() async throws {
            let path = reason.map { "/api/v1/customers/\(id)/contact?reason=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
                ?? "/api/v1/customers/\(id)"
            let data = try await connection.resolve().call(.GET, path)
            guard output == .table else { return Printer.structured(data, output) }
            Printer.fields(data)
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Forget a customer's name and addresses; their tickets keep the id (manager).")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Customer id.") var id: String

        func run() async throws {
            _ = try await connection.resolve().call(.DELETE, "/api/v1/customers/\(id)")
            print("customer \(id) removed")
        }
    }
}

/// `vigil schedule|policy|service|person|team list|show`: read configuration objects.
struct ObjectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "List or show configuration objects.")
    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case people, teams, schedules, services, calendars, heartbeats, articles
        case escalationPolicies = "escalation-policies", slaPolicies = "sla-policies"
    }

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "people, teams, schedules, services, calendars, heartbeats, articles, escalation-policies or sla-policies.") var kind: Kind
    @Argument(help: "An id: show that object; without it, list them.") var id: String?
    @Option(help: "table, json or yaml.") var output: OutputFormat = .table

    func run() async throws {
        let connection = try self.connection.resolve()
        let data = try await connection.call(.GET, "/api/v1/\(kind.rawValue)" + (id.map { "/\($0)" } ?? ""))
        guard output == .table else { return Printer.structured(data, output) }
        if id != nil { return Printer.fields(data) }
        let page = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        Printer.table((page["items"] as? [[String: Any]] ?? []).map { item in
            [Printer.text(item["id"] ?? NSNull()), Printer.text(item["name"] ?? item["title"] ?? NSNull())]
        }, header: ["ID", "NAME"])
    }
}

/// `vigil schedule|policy|service list|show`: the configuration objects teams look at most, by name.
struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "schedule", abstract: "List or show on-call schedules (vigil oncall: who is on call).",
                                                    subcommands: [ObjectList<Schedules>.self, ObjectShow<Schedules>.self])
}

struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "policy", abstract: "List or show escalation policies.",
                                                    subcommands: [ObjectList<EscalationPolicies>.self, ObjectShow<EscalationPolicies>.self])
}

struct ServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "service", abstract: "List or show services and their integration keys.",
                                                    subcommands: [ObjectList<Services>.self, ObjectShow<Services>.self])
}

/// Names an API collection for the generic list/show commands.
protocol ObjectCollection { static var path: String { get } }
enum Schedules: ObjectCollection { static let path = "schedules" }
enum EscalationPolicies: ObjectCollection { static let path = "escalation-policies" }
enum Services: ObjectCollection { static let path = "services" }

struct ObjectList<Collection: ObjectCollection>: AsyncParsableCommand {
    static var configuration: CommandConfiguration { CommandConfiguration(commandName: "list", abstract: "List them.") }
    @OptionGroup var connection: ConnectionOptions
    @Option(help: "table, json or yaml.") var output: OutputFormat = .table

    func run() async throws {
        let data = try await connection.resolve().call(.GET, "/api/v1/\(Collection.path)")
        guard output == .table else { return Printer.structured(data, output) }
        let page = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        Printer.table((page["items"] as? [[String: Any]] ?? []).map { item in
            [Printer.text(item["id"] ?? NSNull()), Printer.text(item["name"] ?? NSNull()), Printer.text(item["version"] ?? NSNull())]
        }, header: ["ID", "NAME", "VERSION"])
    }
}

struct ObjectShow<Collection: ObjectCollection>: AsyncParsableCommand {
    static var configuration: CommandConfiguration { CommandConfiguration(commandName: "show", abstract: "Show one by id.") }
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Id.") var id: String
    @Option(help: "table, json or yaml.") var output: OutputFormat = .table

    func run() async throws {
        let data = try await connection.resolve().call(.GET, "/api/v1/\(Collection.path)/\(id)")
        if output == .table { Printer.fields(data) } else { Printer.structured(data, output) }
    }
}
