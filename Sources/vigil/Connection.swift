import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization
import VigilNode
import Yams

/// Where the API is and how to authenticate: flags first, then `VIGIL_*` environment variables, then a
/// cluster directory written by `vigil init` (`--cluster-dir`, `VIGIL_CLUSTER_DIR`, or `cluster/local`).
struct ConnectionOptions: ParsableArguments {
    @Option(help: "Comma-separated API endpoints, e.g. https://127.0.0.1:7101,https://127.0.0.1:7102 (env VIGIL_ENDPOINTS).")
    var endpoints: String?
    @Option(help: "API token (env VIGIL_TOKEN). Prefer --token-file: arguments are visible to other users.")
    var token: String?
    @Option(name: .customLong("token-file"), help: "File holding the API token (env VIGIL_TOKEN_FILE).")
    var tokenFile: String?
    @Option(help: "CA certificate (PEM) trusted for HTTPS endpoints (env VIGIL_CA).")
    var ca: String?
    @Option(name: .customLong("cluster-dir"), help: "A directory written by `vigil init`; endpoints, CA and admin token are read from it (env VIGIL_CLUSTER_DIR; default: cluster/local if present).")
    var clusterDir: String?

    /// `connectionsPerEndpoint` caps concurrent requests per node (AsyncHTTPClient's default is 8).
    func resolve(connectionsPerEndpoint: Int = 8) throws -> Connection {
        let environment = ProcessInfo.processInfo.environment
        var urls = (endpoints ?? environment["VIGIL_ENDPOINTS"]).map(Self.split) ?? []
        var caPath = ca ?? environment["VIGIL_CA"]
        var tokenText = token ?? environment["VIGIL_TOKEN"]
        var tokenPath = tokenFile ?? environment["VIGIL_TOKEN_FILE"]
        let directory = clusterDir ?? environment["VIGIL_CLUSTER_DIR"]
            ?? (FileManager.default.fileExists(atPath: "cluster/local/node1/vigil.yaml") ? "cluster/local" : nil)
        if let directory {
            let configPath = directory + "/node1/vigil.yaml"
            if urls.isEmpty {
                do {
                    let config = try NodeConfig.load(path: configPath)
                    urls = config.members.map { "\(config.api.scheme)://\($0.http)" }
                } catch {
                    throw fail("cannot read the cluster directory \(directory): \(error)", code: 2)
                }
            }
            if caPath == nil { caPath = directory + "/ca/ca.pem" }
            if tokenText == nil, tokenPath == nil { tokenPath = directory + "/admin.token" }
        }
        if urls.isEmpty { urls = (1...3).map { "https://127.0.0.1:\(7100 + $0)" } }
        if tokenText == nil, let tokenPath {
            do {
                tokenText = try String(contentsOfFile: tokenPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            } catch {
                throw fail("cannot read the token file \(tokenPath): \((error as NSError).localizedDescription)", code: 2)
            }
        }
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connectionsPerEndpoint)
        if let caPath {
            do {
                var tls = TLSConfiguration.makeClientConfiguration()
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caPath))
                configuration.tlsConfiguration = tls
            } catch {
                throw fail("cannot read the CA certificate \(caPath): \(error)", code: 2)
            }
        }
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        Connection.clients.withLock { $0.append(client) }
        return Connection(endpoints: urls, token: tokenText, client: client)
    }

    static func split(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            .map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
    }
}

/// An API client that tries the endpoints in order and moves on when one is unreachable or has no leader.
struct Connection: Sendable {
    let endpoints: [String]
    let token: String?
    let client: HTTPClient

    /// Exit codes of the API commands (documented in `vigil --help` and the README).
    enum Exit {
        static let refused: Int32 = 1
        static let usage: Int32 = 2
        static let unavailable: Int32 = 3
        static let unauthorized: Int32 = 4
    }

    /// Sends once per endpoint at most; returns the first answer that is not a 503 or a connection error.
    func send(_ method: HTTPMethod, _ path: String, body: Data? = nil) async throws -> (status: Int, body: Data) {
        var lastProblem = "no endpoint"
        for endpoint in endpoints {
            var request = HTTPClientRequest(url: endpoint + path)
            request.method = method
            if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
            if let body {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(data: body))
            }
            do {
                let response = try await client.execute(request, timeout: .seconds(10))
                let bytes = try await response.body.collect(upTo: 16 << 20)
                let status = Int(response.status.code)
                if status == 503 {
                    lastProblem = "\(endpoint): " + Self.message(Data(bytes.readableBytesView))
                    continue
                }
                return (status, Data(bytes.readableBytesView))
            } catch {
                lastProblem = "\(endpoint): \(error)"
            }
        }
        throw fail("the cluster is unavailable (\(lastProblem))", code: Exit.unavailable)
    }

    /// Sends and returns the body of a 2xx answer; any other answer becomes a one-line error and exit code.
    func call(_ method: HTTPMethod, _ path: String, body: Data? = nil) async throws -> Data {
        let answer = try await send(method, path, body: body)
        guard (200..<300).contains(answer.status) else {
            let code = answer.status == 401 || answer.status == 403 ? Exit.unauthorized : answer.status >= 500 ? Exit.unavailable : Exit.refused
            throw fail("HTTP \(answer.status): \(Self.message(answer.body))", code: code)
        }
        return answer.body
    }

    /// The CLI runs one command and exits; its clients live as long as the process, which spares every
    /// command an awaited shutdown on each error path (a client must not be deinitialised while running).
    static let clients = Mutex<[HTTPClient]>([])

    /// The error message of an API error body (`{"error":{"code","message","field"}}`), or the body itself.
    static func message(_ body: Data) -> String {
        if let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] {
            if let error = object["error"] as? [String: Any] {
                let field = (error["field"] as? String).map { " [\($0)]" } ?? ""
                return "\(error["message"] as? String ?? "?")\(field) (\(error["code"] as? String ?? "?"))"
            }
            if let errors = object["errors"] as? [String] { return errors.joined(separator: "; ") }
        }
        return String(decoding: body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// `--output table|json` for API commands.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable { case table, json, yaml }

/// Prints JSON as the API sent it (pretty), as YAML, or as aligned columns.
enum Printer {
    /// The API's answer as `--output json` or `--output yaml` asks (table callers print their own way).
    static func structured(_ data: Data, _ output: OutputFormat) {
        guard output == .yaml, let object = try? JSONSerialization.jsonObject(with: data), let text = try? Yams.dump(object: object, sortKeys: true) else {
            return json(data)
        }
        print(text, terminator: "")
    }

    /// An instant the API gives as milliseconds since the epoch, as ISO 8601 in this machine's time zone.
    static func localTime(_ millis: NSNumber) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = .current
        return formatter.string(from: Date(timeIntervalSince1970: millis.doubleValue / 1000))
    }

    static func json(_ data: Data) {
        if let object = try? JSONSerialization.jsonObject(with: data),
           let pretty = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]) {
            print(String(decoding: pretty, as: UTF8.self))
        } else {
            print(String(decoding: data, as: UTF8.self))
        }
    }

    static func table(_ rows: [[String]], header: [String]) {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
        for row in all {
            print(row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index] + 2, withPad: " ", startingAt: 0)
            }.joined())
        }
    }

    /// `key: value` lines of a JSON object's scalar fields, for `show` commands in table mode.
    static func fields(_ data: Data, skipping: Set<String> = []) {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return json(data) }
        for key in object.keys.sorted() where !skipping.contains(key) {
            // Instants (`registered_at`, `acknowledged_at`, …) read as local times, not epoch milliseconds.
            if key.hasSuffix("_at"), let millis = object[key] as? NSNumber {
                print("\(key): \(localTime(millis))")
            } else {
                print("\(key): \(text(object[key]!))")
            }
        }
    }

    static func text(_ value: Any) -> String {
        switch value {
        case is NSNull: return "-"
        case let string as String: return string
        case let number as NSNumber: return number.stringValue
        default:
            let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])) ?? Data()
            return String(decoding: data, as: UTF8.self)
        }
    }
}
