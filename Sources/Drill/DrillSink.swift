import Foundation
import HistoryCheck
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

/// The webhook receiver the drill's people page: records every page with its arrival time and the node that
/// sent it (`Vigil-Node`), and answers 200 at once.
final class DrillSink: Sendable {
    let pages = Mutex<[PageRecord]>([])
    /// Requests that were not a page the sink could read (counted in the report, never silently dropped).
    let unreadable = Mutex(0)
    private let group: Mutex<ServiceGroup?> = Mutex(nil)
    private let task: Mutex<Task<Void, Never>?> = Mutex(nil)
    private let failure = Mutex<String?>(nil)

    func start(host: String, port: Int, clock: DrillClock, logger: Logger) async throws(DrillError) {
        let router = Router()
        router.post("/drill/{person}") { [self] request, context -> Response in
            let arrived = clock.nanoseconds()
            let body = try await request.body.collect(upTo: 1 << 20)
            let node = request.headers.first { $0.name.canonicalName == "vigil-node" }.flatMap { Int($0.value) }
            if let page = Self.page(Data(body.readableBytesView), arrived: arrived, node: node) {
                pages.withLock { $0.append(page) }
            } else {
                unreadable.withLock { $0 += 1 }
            }
            return Response(status: .ok)
        }
        let listening = AsyncStream<Void>.makeStream()
        var quiet = logger
        quiet.logLevel = .warning
        let app = Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "vigil-drill-sink"),
                              onServerRunning: { _ in listening.continuation.yield() }, logger: quiet)
        let group = ServiceGroup(configuration: .init(services: [app], logger: quiet))
        self.group.withLock { $0 = group }
        task.withLock {
            $0 = Task { [self] in
                do { try await group.run() } catch { failure.withLock { $0 = "\(error)" } }
                listening.continuation.finish()
            }
        }
        // Bounded: a sink that cannot bind ends the stream with its error.
        let timeout = Task {
            try? await Task.sleep(for: .seconds(10))
            listening.continuation.finish()
        }
        var started = false
        for await _ in listening.stream {
            started = true
            break
        }
        timeout.cancel()
        guard started else {
            throw DrillError("sink.listen \(host):\(port): cannot listen: \(failure.withLock { $0 } ?? "no answer within 10 s")")
        }
    }

    func stop() async {
        await group.withLock { $0 }?.triggerGracefulShutdown()
        await task.withLock { $0 }?.value
    }

    /// The fields of a `vigil.page` body the checker needs; nil for anything else.
    static func page(_ data: Data, arrived: UInt64, node: Int?) -> PageRecord? {
        guard let object = DrillHTTP.object(data), object["type"] as? String == "vigil.page",
              let key = object["idempotency_key"] as? String,
              let ticket = (object["ticket"] as? [String: Any])?["id"] as? Int,
              let step = object["step"] as? [String: Any], let stepIndex = step["index"] as? Int, let level = step["level"] as? Int,
              let person = (object["recipient"] as? [String: Any])?["person_id"] as? String
        else { return nil }
        return PageRecord(arrivedNanoseconds: arrived, node: node, ticket: ticket, step: stepIndex, level: level, person: person, key: key)
    }
}
