import ArgumentParser
import Foundation

/// `vigil ticket …`: register, list, show and act on tickets.
struct TicketCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ticket", abstract: "Register, list, show and act on tickets.",
        subcommands: [Create.self, List.self, Show.self, Ack.self, Resolve.self, Assign.self, Comment.self, Rate.self,
                      Transition.self, Reopen.self])

    /// Runs one ticket action (`POST /api/v1/tickets/{id}/{action}`): one confirming line, or the ticket as
    /// `--output json|yaml` asks.
    static func act(_ options: ConnectionOptions, _ output: OutputFormat, id: Int, action: String, body: [String: Any]? = nil) async throws {
        let connection = try options.resolve()
        let data = try body.map { try JSONSerialization.data(withJSONObject: $0) }
        let answer = try await connection.call(.POST, "/api/v1/tickets/\(id)/\(action)", body: data)
        guard output == .table else { return Printer.structured(answer, output) }
        let ticket = (try? JSONSerialization.jsonObject(with: answer) as? [String: Any])?["object"] as? [String: Any] ?? [:]
        let stage = ticket["stage"] as? String ?? "?"
        let done: String
        switch action {
        case "acknowledge": done = "acknowledged"
        case "resolve": done = "resolved"
        case "assign": done = "assigned to \(body?["owner_id"] as? String ?? "?")"
        case "comment": done = "commented"
        case "rate": done = "rated \(body?["rating"] as? Int ?? 0)/5"
        case "transition": done = "moved"
        case "reopen": done = "reopened"
        default: done = action
        }
        print("ticket \(id) \(done); stage \(stage)")
    }

    static func printTicket(_ data: Data, _ output: OutputFormat, fromWrite: Bool) throws {
        guard output == .table else { return Printer.structured(data, output) }
        var ticketData = data
        if fromWrite, let object = try JSONSerialization.jsonObject(with: data) as? [String: Any], let ticket = object["object"] {
            ticketData = try JSONSerialization.data(withJSONObject: ticket)
        }
        Printer.fields(ticketData, skipping: ["timeline", "clocks"])
        if let ticket = try JSONSerialization.jsonObject(with: ticketData) as? [String: Any], let timeline = ticket["timeline"] as? [[String: Any]] {
            print("timeline:")
            for entry in timeline {
                let at = (entry["at"] as? NSNumber).map(Printer.localTime) ?? "?"
                print("  \(at)  \(entry["actor"] as? String ?? "?")  \(Printer.text(entry["action"] ?? NSNull()))")
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a ticket.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "One line saying what it is about.") var title: String
        @Option(help: "The service it concerns.") var service: String
        @Option(help: "consultation, complaint, suggestion, emergency or incident.") var kind: String = "consultation"
        @Option(help: "P1 (critical) to P4 (low).") var priority: String = "P3"
        @Option(help: "Longer text.") var description: String = ""
        @Option(help: "Customer id (selects a customer's SLA).") var customer: String?
        @Option(help: "Person who owns it.") var owner: String?
        @Option(help: "table, json or yaml.") var output: OutputFormat = .table

        func run() async throws {
            var body: [String: Any] = ["title": title, "service_id": service, "kind": kind, "priority": priority.uppercased(), "description": description]
            if let customer { body["customer_id"] = customer }
            if let owner { body["owner_id"] = owner }
            let connection = try self.connection.resolve()
                let answer = try await connection.call(.POST, "/api/v1/tickets", body: try JSONSerialization.data(withJSONObject: body))
            try TicketCommand.printTicket(answer, output, fromWrite: true)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tickets, oldest first.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "registered, analysing, handling, feedback or archived.") var stage: String?
        @Option(help: "P1–P4.") var priority: String?
        @Option(help: "Only this service.") var service: String?
        @Option(help: "Only this owner.") var owner: String?
        @Flag(help: "Only open tickets.") var open = false
        @Option(help: "At most this many (1–500).") var limit: Int = 50
        @Option(help: "Start after this ticket id (the previous page's `next`).") var after: Int?
        @Option(help: "table, json or yaml.") var output: OutputFormat = .table

        func run() async throws {
            var query = ["limit=\(limit)"]
            if let stage { query.append("stage=\(stage)") }
            if let priority { query.append("priority=\(priority)") }
            if let service { query.append("service_id=\(service)") }
            if let owner { query.append("owner_id=\(owner)") }
            if open { query.append("open=true") }
            if let after { query.append("after=\(after)") }
            let connection = try self.connection.resolve()
                let answer = try await connection.call(.GET, "/api/v1/tickets?" + query.joined(separator: "&"))
            guard output == .table else { return Printer.structured(answer, output) }
            let page = try JSONSerialization.jsonObject(with: answer) as? [String: Any] ?? [:]
            let rows = (page["items"] as? [[String: Any]] ?? []).map { item in
                ["id", "stage", "priority", "kind", "service_id", "owner_id", "alert_count", "title"].map { Printer.text(item[$0] ?? NSNull()) }
            }
            Printer.table(rows, header: ["ID", "STAGE", "PRI", "KIND", "SERVICE", "OWNER", "ALERTS", "TITLE"])
            if let next = page["next"] as? String { print("more: --after \(next)") }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a ticket with its timeline.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Ticket id.") var id: Int
        @Option(help: "table, json or yaml.") var output: OutputFormat = .table

        func run() async throws {
            let connection = try self.connection.resolve()
                try TicketCommand.printTicket(try await connection.call(.GET, "/api/v1/tickets/\(id)"), output, fromWrite: false)
        }
    }

    struct Ack: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ack", abstract: "Acknowledge: stops escalation and the first-response clock.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Ticket id.") var id: Int
        @Option(help: "table, json or yaml.") var output: OutputFormat = .table
        func run() async throws { try await TicketCommand.act(connection, output, id: id, action: "acknowledge") }
    }

    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resolve: move the ticket to the feedback stage.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Ticket id.") var id: Int
        @Option(help: "table, json or yaml.") var output: OutputFormat = .table
        func run() async throws { try await TicketCommand.act(connection, output, id: id, action: "resolve") }
    }

    struct Assign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Give the ticket an owner.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Ticket id.") var id: Int
        @Option(help: "Person id.") var owner: String
        @Option(help: "table, json or yaml.") var output: OutputFormat = .table
        func run() async throws { try await TicketCommand.act(connection, output, id: id, action: "assign", body: ["owner_id": owner]) }
    }

    struct Comment: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a note; --customer-visible makes it a reply to the customer.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Ticket id.") var id: Int
        @Option(help: "The note.") var text: String
        @Flag(name: .customLong("customer-visible")) var customerVisible = false
        @Option(help: "table, json or yaml.") var output: OutputFormat = .table
        func run() async throws {
            try await TicketCommand.act(connection, output, id: id, action: "comment", body: ["text": text, "customer_visible": customerVisible])
        }
    }

    struct Rate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record the customer's 1–5 rating at the feedback stage.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Ticket id.") var id: Int
        @Option(help: "1 (bad) to 5 (good).") var rating: Int
        @Option(help: "The customer's words.") var comment: String = ""
        @Option(help: "table, json or yaml.") var output: OutputFormat = .table
        func run() async throws {
            try await TicketCommand.act(connection, output, id: id, action: "rate", body: ["rating": rating, "comment": comment])
        }
    }

    struct Transition: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Move the ticket one stage forward.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Ticket id.") var id: Int
        @Option(help: "analysing, handling, feedback or archived.") var stage: String
        @Option(help: "table, json or yaml.") var output: OutputFormat = .table
        func run() async throws { try await TicketCommand.act(connection, output, id: id, action: "transition", body: ["stage": stage]) }
    }

    struct Reopen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reopen a ticket in feedback or archived.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Ticket id.") var id: Int
        @Option(help: "Why.") var reason: String
        @Option(help: "table, json or yaml.") var output: OutputFormat = .table
        func run() async throws { try await TicketCommand.act(connection, output, id: id, action: "reopen", body: ["reason": reason]) }
    }
}
