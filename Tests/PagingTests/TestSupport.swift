import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import Paging

enum Fixtures {
    /// Fast retries so tests take milliseconds, still bounded in count and time.
    static let fastRetries = RetryPolicy(maxAttempts: 4, initialBackoff: .milliseconds(20), maxBackoff: .milliseconds(100),
                                         attemptTimeout: .seconds(5), totalTimeLimit: .seconds(20))
    static let webhookSecret = Array("test-webhook-secret-0123456789".utf8)

    static func page(key: String = "ticket-42-step-0-alice-email", title: String = "Database primary down",
                     resolveURL: String? = "https://vigil.example/ack/resolve-token") -> PageMessage {
        PageMessage(ticketID: 42, title: title, priority: .p1, service: "payments",
                    escalationStepIndex: 1, escalationLevelIndex: 0, recipientPersonID: "alice",
                    idempotencyKey: key, ackURL: "https://vigil.example/ack/ack-token", resolveURL: resolveURL,
                    createdAtMilliseconds: 1_790_000_000_000)
    }

    static func temporaryDirectory(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-paging-\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A port nobody listens on: bound, read, released.
    static func closedPort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        guard bound else { throw TestError("cannot bind a probe socket") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

struct TestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
