import ArgumentParser
import Foundation
import VigilNode

/// `vigil member`: the cluster's membership (admin): list, add (as a learner), promote, remove.
struct MemberCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "member", abstract: "List and change the cluster's members (admin), one change at a time.",
        discussion: """
            To replace a dead node: `vigil member remove ID`, then issue the new node's bundle with `vigil cert issue \
            --config-from`, start it, and `vigil member add --member ID=HOST:PEER_PORT:API_PORT`. It joins as a learner \
            and becomes a voter once it has caught up.
            """,
        subcommands: [List.self, Add.self, Remove.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Each member: addresses, voter or learner, match index and lag (from the leader).")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "table, json or yaml.") var output: OutputFormat = .table

        func run() async throws {
            let data = try await connection.resolve().call(.GET, "/api/v1/cluster/members")
            guard output == .table else { return Printer.structured(data, output) }
            MemberCommand.printMembers(data)
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a node as a learner; the leader makes it a voter once it has caught up.")
        @OptionGroup var connection: ConnectionOptions
        @Option(name: .customLong("member"), help: "The new node, as ID=HOST:PEER_PORT:API_PORT.") var memberSpec: String

        func run() async throws {
            let member: NodeConfig.Member
            do {
                member = try MemberSpec.parse(memberSpec)
            } catch {
                throw fail(error.description, code: 2)
            }
            let body = ["id": member.id, "peer": member.peer.description, "http": member.http.description] as [String: Any]
            let data = try await connection.resolve().call(.POST, "/api/v1/cluster/members", body: try JSONSerialization.data(withJSONObject: body))
            print("added node \(member.id) as a learner; it becomes a voter once it has caught up")
            MemberCommand.printMembers(data)
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a member; refused when the remaining voters could not form a quorum.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "The node id.") var id: UInt64

        func run() async throws {
            let data = try await connection.resolve().call(.DELETE, "/api/v1/cluster/members/\(id)")
            print("removed node \(id)")
            MemberCommand.printMembers(data)
        }
    }

    static func printMembers(_ data: Data) {
        let page = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        Printer.table((page["items"] as? [[String: Any]] ?? []).map { item in
            [Printer.text(item["id"] ?? NSNull()), Printer.text(item["peer_address"] ?? NSNull()), Printer.text(item["http_address"] ?? NSNull()),
             (item["voter"] as? Bool) == true ? "voter" : "learner", Printer.text(item["match_index"] ?? NSNull()),
             Printer.text(item["lag"] ?? NSNull()), Printer.text(item["reachability"] ?? NSNull()), Printer.text(item["version"] ?? NSNull())]
        }, header: ["ID", "PEER", "API", "ROLE", "MATCH", "LAG", "REACHABILITY", "VERSION"])
    }
}

/// `vigil leader transfer --to N`: hand leadership to another voter (before maintenance on the leader's host).
struct LeaderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "leader", abstract: "Hand leadership over (admin).",
                                                    subcommands: [Transfer.self])

    struct Transfer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make another voter the leader; waits until it has taken over.")
        @OptionGroup var connection: ConnectionOptions
        @Option(help: "The voter to lead.") var to: UInt64

        func run() async throws {
            _ = try await connection.resolve().call(.POST, "/api/v1/cluster/leader", body: try JSONSerialization.data(withJSONObject: ["to": to]))
            print("node \(to) leads")
        }
    }
}
