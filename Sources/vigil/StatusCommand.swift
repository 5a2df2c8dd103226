import ArgumentParser
import AsyncHTTPClient
import Foundation
import VigilNode

/// `vigil status`: each node's view of the cluster.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Print the cluster as each node sees it.")

    enum Output: String, ExpressibleByArgument, CaseIterable { case table, json }

    @OptionGroup var connection: ConnectionOptions
    @Option(help: "A node's vigil.yaml; its members' API addresses are the endpoints and its CA is trusted.") var config: String?
    @Option(help: "table or json.") var output: Output = .table

    func run() async throws {
        var options = connection
        if let config {
            do {
                let node = try NodeConfig.load(path: config)
                let base = URL(fileURLWithPath: config).deletingLastPathComponent().path
                if options.endpoints == nil { options.endpoints = node.members.map { "\(node.api.scheme)://\($0.http)" }.joined(separator: ",") }
                if options.ca == nil { options.ca = NodeConfig.resolve(node.tls.caCert, against: base) }
            } catch {
                throw fail(error.description, code: 2)
            }
        }
        let client = try options.resolve()
        let urls = client.endpoints
        guard !urls.isEmpty else { throw fail("--endpoints lists no endpoint", code: 2) }

        var views: [(endpoint: String, view: ClusterView?, error: String?)] = []
        for url in urls {
            do {
                var request = HTTPClientRequest(url: url.hasSuffix("/") ? url + "api/v1/cluster" : url + "/api/v1/cluster")
                request.method = .GET
                let response = try await client.client.execute(request, timeout: .seconds(3))
                let body = try await response.body.collect(upTo: 1 << 20)
                guard response.status.code == 200 else {
                    views.append((url, nil, "HTTP \(response.status.code)"))
                    continue
                }
                views.append((url, try JSONDecoder().decode(ClusterView.self, from: Data(body.readableBytesView)), nil))
            } catch {
                views.append((url, nil, "unreachable (\(error))"))
            }
        }
        switch output {
        case .json:
            struct Entry: Encodable {
                var endpoint: String
                var view: ClusterView?
                var error: String?
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(views.map { Entry(endpoint: $0.endpoint, view: $0.view, error: $0.error) })
            print(String(decoding: data, as: UTF8.self))
        case .table:
            printTable(views)
        }
        if views.allSatisfy({ $0.view == nil }) { throw ExitCode(1) }
    }

    private func printTable(_ views: [(endpoint: String, view: ClusterView?, error: String?)]) {
        func pad(_ text: String, _ width: Int) -> String { text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count) }
        print(pad("ENDPOINT", 26) + pad("NODE", 6) + pad("ROLE", 13) + pad("TERM", 6) + pad("LEADER", 8)
              + pad("COMMIT", 9) + pad("APPLIED", 9) + pad("CERT", 7) + pad("VERSION", 9) + "PEERS")
        for entry in views {
            guard let view = entry.view else {
                print(pad(entry.endpoint, 26) + "error: " + (entry.error ?? "?"))
                continue
            }
            let peers = view.members.filter { !$0.isSelf }.map { member -> String in
                var text = "\(member.id):\(member.reachability)"
                if let lag = member.lag { text += "/lag \(lag)" }
                if let transfer = member.snapshotTransfer, transfer.phase != .complete {
                    text += "/" + Self.describe(transfer, verb: "snapshot")
                }
                return text
            }.joined(separator: " ")
            let certificate = view.certificateExpiresAtMilliseconds.map { expiry in
                let days = (expiry - Int64(Date().timeIntervalSince1970 * 1_000)) / 86_400_000
                return days < 30 ? "\(days)d!" : "\(days)d"
            } ?? "-"
            print(pad(entry.endpoint, 26) + pad("\(view.nodeID)", 6) + pad(view.role, 13) + pad("\(view.term)", 6)
                  + pad(view.leader == 0 ? "-" : "\(view.leader)", 8) + pad("\(view.commitIndex)", 9)
                  + pad("\(view.appliedIndex)", 9) + pad(certificate, 7) + pad(view.version ?? "-", 9) + peers)
        }
        // Transfers under way or failed: a follower that cannot catch up leaves the cluster one failure from a stop.
        for entry in views {
            guard let view = entry.view else { continue }
            for transfer in view.incomingSnapshots ?? [] where transfer.phase != .complete {
                print("node\(view.nodeID): " + Self.describe(transfer, verb: "receiving snapshot") + " from node\(transfer.peer)")
            }
        }
    }

    /// "snapshot 1234 sending 45% of 96.0 MB" or "snapshot 1234 failed (3 of 4): reason".
    static func describe(_ transfer: SnapshotTransferStatus, verb: String) -> String {
        let megabytes = String(format: "%.1f MB", Double(transfer.totalBytes) / 1_000_000)
        switch transfer.phase {
        case .sending, .receiving:
            let percent = transfer.totalBytes == 0 ? 100 : Int(Double(transfer.doneBytes) * 100 / Double(transfer.totalBytes))
            return "\(verb) \(transfer.snapshotIndex) \(transfer.phase.rawValue) \(percent)% of \(megabytes)"
        case .complete:
            return "\(verb) \(transfer.snapshotIndex) complete (\(megabytes))"
        case .failed:
            return "\(verb) \(transfer.snapshotIndex) failed (\(transfer.failures) of \(transfer.attempts) attempts): \(transfer.lastError ?? "?")"
        }
    }
}
