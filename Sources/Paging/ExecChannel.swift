import Foundation
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Settings of the exec channel: which program to run, how long it may take.
public struct ExecConfiguration: Sendable, CustomStringConvertible {
    /// The program, by absolute path: no shell and no PATH search, so nothing in a page is ever parsed
    /// as a command.
    public var executablePath: String
    /// Fixed arguments. The address is not among them on purpose: any local user can read a process's
    /// arguments (`ps`), so the address travels on stdin only.
    public var arguments: [String]
    /// The whole environment of the child; Vigil's own is not passed on (it may hold secrets).
    public var environment: [String: String]
    /// After this the program is sent SIGTERM, and SIGKILL `terminationGrace` later.
    public var timeout: Duration
    public var terminationGrace: Duration

    public init(executablePath: String, arguments: [String] = [],
                environment: [String: String] = ["PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"],
                timeout: Duration = .seconds(10), terminationGrace: Duration = .seconds(2)) {
        self.executablePath = executablePath
        self.arguments = arguments
        self.environment = environment
        self.timeout = timeout
        self.terminationGrace = terminationGrace
    }

    /// Never prints arguments or the environment: either may hold a token.
    public var description: String { "ExecConfiguration(\(executablePath), timeout: \(timeout.readable))" }
}

/// Runs a configured program with the page as JSON on stdin (`WebhookPayload` plus `"address"`).
///
/// Exit status 0 is delivered; 75 (EX_TEMPFAIL, as sendmail uses it) is a transient failure; any other
/// status, a crash, or a program that cannot be started is permanent. A program that outlives its
/// timeout is killed with its process group (SIGTERM, then SIGKILL) and the failure is transient. One attempt per `send`: the program does its own
/// retrying, and the scheduler may resend with the same key. Its stdout and stderr are discarded, since
/// they may echo the address.
public struct ExecChannel: NotificationChannel {
    /// The exit status that asks for a later retry.
    public static let temporaryFailureExitStatus: Int32 = 75
    /// Longest stdin document written.
    public static let maxInputBytes = 256 * 1024

    public let kind = "exec"
    let configuration: ExecConfiguration
    let logger: Logger

    public init(configuration: ExecConfiguration, logger: Logger = Logger(label: "vigil.paging.exec")) throws(PagingConfigurationError) {
        guard configuration.executablePath.hasPrefix("/") else {
            throw PagingConfigurationError("exec.executablePath", "must be an absolute path")
        }
        guard FileManager.default.isExecutableFile(atPath: configuration.executablePath) else {
            throw PagingConfigurationError("exec.executablePath", "\(configuration.executablePath) is not an executable file")
        }
        guard configuration.timeout > .zero, configuration.timeout <= .seconds(3_600) else {
            throw PagingConfigurationError("exec.timeout", "must be more than 0 and at most 1 hour")
        }
        guard configuration.terminationGrace >= .zero, configuration.terminationGrace <= .seconds(60) else {
            throw PagingConfigurationError("exec.terminationGrace", "must be 0...60 s")
        }
        // A child that exits without reading stdin would otherwise kill the whole node with SIGPIPE on
        // our write; ignored, the write fails with EPIPE instead. Servers (and NIO) assume this anyway.
        signal(SIGPIPE, SIG_IGN)
        self.configuration = configuration
        self.logger = logger
    }

    public func send(_ page: PageMessage, to address: String) async -> DeliveryResult {
        if let problem = page.problem { return .failed(.permanent, detail: problem, attempts: 0) }
        var logger = logger
        logger[metadataKey: "channel"] = "exec"
        logger[metadataKey: "ticket"] = .stringConvertible(page.ticketID)
        logger[metadataKey: "idempotency_key"] = .string(page.headerSafeIdempotencyKey)

        let input = Self.input(page, address: address)
        guard input.count <= Self.maxInputBytes else {
            return .failed(.permanent, detail: "the page document exceeds \(Self.maxInputBytes) bytes", attempts: 0)
        }
        let result = await run(input: input)
        switch result {
        case .delivered: logger.info("page delivered")
        case let .failed(kind, detail, _): logger.warning("page not delivered", metadata: ["kind": "\(kind.rawValue)", "detail": "\(detail)"])
        }
        return result
    }

    /// The stdin document: the webhook's JSON with the address added.
    static func input(_ page: PageMessage, address: String) -> [UInt8] {
        let payload = WebhookPayload(page).encoded()
        guard var object = (try? JSONSerialization.jsonObject(with: Data(payload))) as? [String: Any] else { return payload }
        object["address"] = address
        return Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data(payload))
    }

    private func run(input: [UInt8]) async -> DeliveryResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: configuration.executablePath)
        process.arguments = configuration.arguments
        process.environment = configuration.environment
        let stdin = Pipe()
        process.standardInput = stdin
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let exit = ExitWaiter()
        process.terminationHandler = { finished in
            exit.finish(status: finished.terminationStatus, signalled: finished.terminationReason == .uncaughtSignal)
        }
        do {
            try process.run()
        } catch {
            return .failed(.permanent, detail: "could not start \(configuration.executablePath): \(NetworkErrorSummary.describe(error))", attempts: 1)
        }
        // Written from a thread of its own: a child that does not read would block the write, and the
        // cooperative pool must not block. EPIPE (child gone) just ends it.
        let writer = stdin.fileHandleForWriting
        Thread.detachNewThread {
            _ = try? writer.write(contentsOf: input)
            try? writer.close()
        }

        if let status = await exit.wait(upTo: configuration.timeout) {
            return Self.result(status)
        }
        // Foundation starts the child in a process group of its own (POSIX_SPAWN_SETPGROUP), so signalling
        // the group also stops what a script started (`sh -c 'curl …'`), not only the script.
        let group = -process.processIdentifier
        kill(group, SIGTERM)
        if await exit.wait(upTo: configuration.terminationGrace) == nil {
            kill(group, SIGKILL)
            // Bounded even if the kernel is slow to reap; the handler fires once it does.
            _ = await exit.wait(upTo: .seconds(5))
        }
        return .failed(.transient, detail: "killed after the timeout of \(configuration.timeout.readable)", attempts: 1)
    }

    static func result(_ status: (status: Int32, signalled: Bool)) -> DeliveryResult {
        if status.signalled { return .failed(.permanent, detail: "the program died of signal \(status.status)", attempts: 1) }
        switch status.status {
        case 0: return .delivered(attempts: 1)
        case temporaryFailureExitStatus: return .failed(.transient, detail: "the program asked for a retry (exit status 75)", attempts: 1)
        default: return .failed(.permanent, detail: "the program exited with status \(status.status)", attempts: 1)
        }
    }
}

/// Hands the child's exit from Foundation's termination handler to async waiters, with a time limit.
final class ExitWaiter: Sendable {
    private struct State {
        var exit: (status: Int32, signalled: Bool)?
        var waiters: [UInt64: CheckedContinuation<(status: Int32, signalled: Bool)?, Never>] = [:]
        var nextWaiter: UInt64 = 0
        /// Waiters whose time ran out before they had registered.
        var expired: Set<UInt64> = []
    }
    private let state = Mutex(State())

    func finish(status: Int32, signalled: Bool) {
        let waiters = state.withLock { state in
            state.exit = (status, signalled)
            defer { state.waiters = [:] }
            return state.waiters
        }
        for waiter in waiters.values { waiter.resume(returning: (status, signalled)) }
    }

    /// The exit, or nil if the child is still running after `timeout`.
    func wait(upTo timeout: Duration) async -> (status: Int32, signalled: Bool)? {
        let id = state.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            self.expire(id)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            let done = state.withLock { state -> (status: Int32, signalled: Bool)?? in
                if let exit = state.exit { return .some(exit) }
                if state.expired.remove(id) != nil { return .some(nil) }
                state.waiters[id] = continuation
                return .none
            }
            if let done { continuation.resume(returning: done) }
        }
    }

    private func expire(_ id: UInt64) {
        let waiter = state.withLock { state in
            guard let waiter = state.waiters.removeValue(forKey: id) else {
                if state.exit == nil { state.expired.insert(id) }
                return nil as CheckedContinuation<(status: Int32, signalled: Bool)?, Never>?
            }
            return waiter
        }
        waiter?.resume(returning: nil)
    }
}
