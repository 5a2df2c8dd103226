import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import VigilNode

/// `vigil bench`: a bounded write load against running nodes, printing writes/s and latency percentiles.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Send PUT /api/v1/settings/{key} with N concurrent clients and print writes/s, p50 and p99.")

    @OptionGroup var connection: ConnectionOptions
    @Option(help: "Concurrent clients.") var clients: Int = 1
    @Option(help: "Total writes (the run stops after them or after --max-seconds).") var writes: Int = 2000
    @Option(name: .customLong("value-bytes"), help: "Bytes per value.") var valueBytes: Int = 256
    @Option(name: .customLong("max-seconds"), help: "Upper bound on the run time.") var maxSeconds: Int = 120

    func run() async throws {
        // The default pool opens 8 connections per host, which would silently cap the concurrency.
        let resolved = try connection.resolve(connectionsPerEndpoint: max(8, clients))
        let urls = resolved.endpoints
        let token = resolved.token
        guard !urls.isEmpty, clients >= 1, writes >= 1 else { throw fail("need endpoints, clients >= 1 and writes >= 1", code: 2) }
        let value = String(repeating: "v", count: valueBytes)
        let body = ByteBuffer(data: try JSONEncoder().encode(SettingsPayloads.PutBody(value: value)))
        let deadline = ContinuousClock.now + .seconds(maxSeconds)
        let started = ContinuousClock.now
        let perClient = (writes + clients - 1) / clients
        let httpClient = resolved.client
        let results = await withTaskGroup(of: (latencies: [Double], failures: Int).self) { group in
            for client in 0..<clients {
                group.addTask {
                    var latencies: [Double] = []
                    var failures = 0
                    let url = urls[client % urls.count]
                    for index in 0..<perClient where ContinuousClock.now < deadline {
                        var request = HTTPClientRequest(url: "\(url)/api/v1/settings/bench-\(client)-\(index % 100)")
                        request.method = .PUT
                        request.headers.add(name: "Content-Type", value: "application/json")
                        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
                        request.body = .bytes(body)
                        let sent = ContinuousClock.now
                        do {
                            let response = try await httpClient.execute(request, timeout: .seconds(10))
                            _ = try await response.body.collect(upTo: 1 << 20)
                            if response.status.code == 200 {
                                let elapsed = ContinuousClock.now - sent
                                latencies.append(Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds))
                            } else {
                                failures += 1
                            }
                        } catch {
                            failures += 1
                        }
                    }
                    return (latencies, failures)
                }
            }
            var all: (latencies: [Double], failures: Int) = ([], 0)
            for await part in group {
                all.latencies += part.latencies
                all.failures += part.failures
            }
            return all
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let sorted = results.latencies.sorted()
        func percentile(_ fraction: Double) -> Double {
            sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))] * 1000
        }
        print(String(format: "clients=%d writes=%d failed=%d seconds=%.2f writes/s=%.0f p50=%.2fms p99=%.2fms",
                     clients, sorted.count, results.failures, seconds, Double(sorted.count) / seconds, percentile(0.5), percentile(0.99)))
    }
}
