import Foundation
import Yams

/// A drill file: the cluster under drill, how to reach it, and the shell commands that act on its nodes
/// (so the same drill runs against processes in network namespaces, or systemd units over ssh).
///
///     nodes:
///       - {id: 1, api: "https://10.0.0.1:7101", host: 10.0.0.1, peer: "10.0.0.1:7001"}
///     ca: ca/ca.pem                 # trusted for the API (relative paths are from the file's folder)
///     token_file: admin.token       # an admin token: the drill sets up its people, policy and service
///     sink: {listen: "10.0.0.100:9100"}   # where the drill receives the webhook pages
///     commands:
///       kill: ssh {host} systemctl kill -s KILL vigil
///       start: ssh {host} systemctl start vigil
///
/// Placeholders: `{id}`, `{host}`, `{peers}` (the hosts to cut the node from, space-separated), `{fraction}` (loss,
/// 0–1), `{milliseconds}` (slow disk: the delay per log write). Every value put in a command is a number or a checked host name, never free text.
public struct DrillFile: Sendable, Equatable {
    public struct Node: Sendable, Equatable, Decodable {
        public var id: Int
        public var api: String
        public var host: String
        /// HOST:PORT its peers dial; needed only to add it back after a replacement (`node-replace`).
        public var peer: String?

        /// The API's HOST:PORT, as a member's `http` address.
        public var http: String? {
            guard let url = URL(string: api), let host = url.host, let port = url.port else { return nil }
            return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
    }

    /// Commands by fault; each is optional, and a scenario needing one that is missing is refused up front.
    public enum Action: String, Sendable, CaseIterable, Decodable {
        case kill, start, stop, pause, resume, isolate
        case isolateInbound = "isolate_inbound"
        case loss, heal
        case fillDisk = "fill_disk", freeDisk = "free_disk"
        /// Deletes the node's data and makes it start as a joining node (a replacement with an empty disk).
        case wipe
        /// Makes every write of the node's Raft log slow (a failpoint), and fast again.
        case slowDisk = "slow_disk", fastDisk = "fast_disk"
    }

    public var nodes: [Node]
    public var caPath: String?
    public var tokenPath: String
    /// host:port the drill's sink listens on, and the URL the nodes post pages to.
    public var sinkListenHost: String
    public var sinkListenPort: Int
    public var sinkURL: String
    public var commands: [Action: String]

    struct Raw: Decodable {
        struct Sink: Decodable {
            var listen: String
            var url: String?
        }

        var nodes: [Node]
        var ca: String?
        var tokenFile: String
        var sink: Sink
        var commands: [String: String]?

        enum CodingKeys: String, CodingKey {
            case nodes, ca, sink, commands
            case tokenFile = "token_file"
        }
    }

    public static func load(path: String) throws(DrillError) -> DrillFile {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw DrillError("\(path): cannot read: \((error as NSError).localizedDescription)")
        }
        let folder = (path as NSString).deletingLastPathComponent
        return try parse(text, path: path, folder: folder.isEmpty ? "." : folder)
    }

    public static func parse(_ text: String, path: String, folder: String) throws(DrillError) -> DrillFile {
        let raw: Raw
        do {
            raw = try YAMLDecoder().decode(Raw.self, from: text)
        } catch let DecodingError.keyNotFound(key, context) {
            throw DrillError("\(path): missing '\((context.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: "."))'")
        } catch let DecodingError.typeMismatch(_, context) {
            throw DrillError("\(path): '\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type")
        } catch {
            throw DrillError("\(path): not a drill file: \(error)")
        }
        func resolved(_ file: String) -> String { file.hasPrefix("/") ? file : folder + "/" + file }
        guard [1, 3, 5, 7].contains(raw.nodes.count) else {
            throw DrillError("\(path): nodes: a drill needs 1, 3, 5 or 7 nodes, not \(raw.nodes.count)")
        }
        var seen: Set<Int> = []
        for (index, node) in raw.nodes.enumerated() {
            guard node.id >= 1, seen.insert(node.id).inserted else {
                throw DrillError("\(path): nodes[\(index)].id: \(node.id) is not a positive id of its own")
            }
            guard isHost(node.host) else { throw DrillError("\(path): nodes[\(index)].host: '\(node.host)' is not a host name or address") }
            guard let url = URL(string: node.api), ["http", "https"].contains(url.scheme ?? ""), url.host != nil, url.port != nil else {
                throw DrillError("\(path): nodes[\(index)].api: '\(node.api)' is not an http(s) URL with a port")
            }
            if let peer = node.peer {
                let parts = peer.split(separator: ":", omittingEmptySubsequences: false)
                guard parts.count == 2, isHost(String(parts[0])), let port = Int(parts[1]), (1...65_535).contains(port) else {
                    throw DrillError("\(path): nodes[\(index)].peer: '\(peer)' is not HOST:PORT")
                }
            }
        }
        let parts = raw.sink.listen.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, isHost(String(parts[0])), let port = Int(parts[1]), (1...65_535).contains(port) else {
            throw DrillError("\(path): sink.listen: '\(raw.sink.listen)' is not HOST:PORT")
        }
        var commands: [Action: String] = [:]
        for (name, command) in raw.commands ?? [:] {
            guard let action = Action(rawValue: name) else {
                throw DrillError("\(path): commands.\(name): not a drill action (\(Action.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            guard !command.trimmingCharacters(in: .whitespaces).isEmpty else { throw DrillError("\(path): commands.\(name) is empty") }
            commands[action] = command
        }
        return DrillFile(nodes: raw.nodes.sorted { $0.id < $1.id }, caPath: raw.ca.map(resolved), tokenPath: resolved(raw.tokenFile),
                         sinkListenHost: String(parts[0]), sinkListenPort: port,
                         sinkURL: (raw.sink.url ?? "http://\(raw.sink.listen)").trimmingCharacters(in: CharacterSet(charactersIn: "/")),
                         commands: commands)
    }

    /// The command for `action` on `node`, placeholders filled; nil when the file gives none.
    public func command(_ action: Action, node: Int, peers: [Int] = [], fraction: Double = 0, milliseconds: Int = 0) -> String? {
        guard let template = commands[action], let host = nodes.first(where: { $0.id == node })?.host else { return nil }
        let peerHosts = peers.compactMap { peer in nodes.first { $0.id == peer }?.host }
        return template.replacingOccurrences(of: "{id}", with: "\(node)")
            .replacingOccurrences(of: "{host}", with: host)
            .replacingOccurrences(of: "{peers}", with: peerHosts.joined(separator: " "))
            .replacingOccurrences(of: "{fraction}", with: String(format: "%.2f", fraction))
            .replacingOccurrences(of: "{milliseconds}", with: "\(milliseconds)")
    }

    static func isHost(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 253 && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == ":") }
    }
}

/// A drill that cannot run as asked; says what and where.
public struct DrillError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
