import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// The drill's API client: one request, one bounded wait, no retries (the drill decides what an error means).
final class DrillHTTP: Sendable {
    let client: HTTPClient
    let file: DrillFile
    let token: String

    init(file: DrillFile) throws(DrillError) {
        self.file = file
        do {
            token = try String(contentsOfFile: file.tokenPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw DrillError("token_file \(file.tokenPath): cannot read: \((error as NSError).localizedDescription)")
        }
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 16)
        configuration.timeout = .init(connect: .seconds(1))
        if let caPath = file.caPath {
            do {
                var tls = TLSConfiguration.makeClientConfiguration()
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caPath))
                configuration.tlsConfiguration = tls
            } catch {
                throw DrillError("ca \(caPath): cannot read the CA certificate: \(error)")
            }
        }
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    func shutdown() async { try? await client.shutdown() }

    /// The status and body, or nil when no answer came in time (the outcome is unknown).
    func call(_ method: HTTPMethod, node: Int, _ path: String, json: Any? = nil, timeout: Duration) async -> (status: Int, body: Data)? {
        guard let base = file.nodes.first(where: { $0.id == node })?.api else { return nil }
        var request = HTTPClientRequest(url: base.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        if let json, let data = try? JSONSerialization.data(withJSONObject: json) {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: data))
        }
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000
                                                                                     + Int64(timeout.components.attoseconds / 1_000_000_000)))
            let body = try await response.body.collect(upTo: 8 << 20)
            return (Int(response.status.code), Data(body.readableBytesView))
        } catch {
            return nil
        }
    }

    static func object(_ data: Data) -> [String: Any]? { (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] }
}
