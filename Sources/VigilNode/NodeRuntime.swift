import ClusterPKI
import ClusterTransport
import Foundation
import AsyncHTTPClient
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Paging
import RaftCore
import RaftStorage
import ServiceLifecycle

/// `vigil start`: opens the log, bootstraps a founding member, starts the transport, the Raft loop and HTTP,
/// and runs until SIGTERM/SIGINT (graceful: leadership transfer, last persist, exit 0) or a fatal error.
public enum NodeRuntime {
    /// The file name of the Raft log inside `data_dir`.
    /// The Raft log inside `data_dir`: segment files (`SegmentLog`, twice as fast to persist as SQLite here).
    public static let logDirectoryName = "raft-log"
    /// The SQLite log of releases before 0.9; a data directory that has one goes on using it.
    public static let sqliteLogFileName = "raft.sqlite"
    /// The folder of snapshot files inside `data_dir`.
    public static let snapshotDirectoryName = "snapshots"

    public static func run(configPath: String, logger baseLogger: Logger) async throws(NodeError) {
        let config: NodeConfig
        do { config = try NodeConfig.load(path: configPath) } catch { throw .config(error) }
        let logger = {
            var logger = baseLogger
            logger[metadataKey: "node"] = "\(config.nodeID)"
            return logger
        }()
        logger.info("starting", metadata: ["version": "\(VigilVersion.description)", "cluster": "\(config.clusterID)"])
        if RaftLoop.unsafeAckBeforeFsync {
            logger.warning("UNSAFE test knob VIGIL_UNSAFE_ACK_BEFORE_FSYNC=1: log writes are acknowledged before they reach the disk")
        }
        if HTTPAPI.unsafeLocalReads {
            logger.warning("UNSAFE test knob VIGIL_UNSAFE_LOCAL_READS=1: linearizable reads skip ReadIndex and may return stale values")
        }
        let baseDirectory = URL(fileURLWithPath: configPath).deletingLastPathComponent().path
        let dataDirectory = NodeConfig.resolve(config.dataDir, against: baseDirectory)

        // SIGHUP reloads the TLS files; ignored (not fatal, its default) from the very start.
        signal(SIGHUP, SIG_IGN)
        let tls = try await NodeTLS.load(config: config, baseDirectory: baseDirectory, logger: logger)
        let (store, persisted) = try openStore(config: config, dataDirectory: dataDirectory, logger: logger)
        let transport: PeerTransport
        // The peer transport and the Raft loop share an event loop of their own (see `EventLoopTaskExecutor`): the
        // loop blocks it on fsync, which must hold up no API connection.
        let peerGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            transport = try makeTransport(config: config, identity: tls.identity, group: peerGroup, logger: logger)
            tls.attach(transport)
            let port = try await transport.start()
            logger.info("peer transport listening", metadata: ["address": "\(config.peerListen.host):\(port)", "tls": "1.3 mutual"])
        } catch let error as NodeError {
            try? store.close()
            throw error
        } catch {
            try? store.close()
            throw .transport("\(error)")
        }

        let state = StateView()
        let snapshots: SnapshotStore
        do {
            snapshots = try SnapshotStore(directory: dataDirectory + "/" + snapshotDirectoryName)
        } catch {
            await transport.shutdown()
            try? store.close()
            throw error
        }
        let loop = RaftLoop(config: config, store: store, snapshots: snapshots, persisted: persisted, transport: transport,
                            state: state, logger: logger)
        let server: HTTPServerBuilder
        let paging: PagingRuntime?
        do {
            server = try makeHTTPServer(tls: tls)
            paging = try PagingRuntime.make(config: config, baseDirectory: baseDirectory, logger: logger)
        } catch {
            await transport.shutdown()
            try? store.close()
            throw error
        }
        let forwarding = tls.makeForwardingClient()
        let pagingHost = paging.map { _ in NodePagingHost(loop: loop) }
        let api = HTTPAPI(config: config, loop: loop, transport: transport, forwarding: forwarding, logger: logger,
                          ackSigner: paging?.signer, pagingHost: pagingHost, tls: tls)
        pagingHost?.checkReleases { [api] version in await api.everyMemberRuns(version) }
        let hangUp = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        hangUp.setEventHandler { Task { _ = await tls.reload(reason: "SIGHUP") } }
        hangUp.resume()
        defer { hangUp.cancel() }
        // A certificate that expires stops the peers from talking: say so a month ahead, and twice a day after.
        let expiryWatch = Task {
            while !Task.isCancelled {
                warnIfExpiringSoon(tls.expiresAt, path: config.tls.cert, logger: logger)
                try? await Task.sleep(for: .seconds(12 * 3_600))
            }
        }
        defer { expiryWatch.cancel() }
        // glibc keeps what the scheduler's passes and large applies free in its per-thread arenas: a leader that
        // paged through a storm showed 270 MB resident with 200 MB in use, 234 MB after one trim.
        let memoryTrim = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(RaftLoop.memoryTrimIntervalSeconds))
                let started = ContinuousClock.now
                RaftLoop.returnFreedMemory()
                let took = ContinuousClock.now - started
                if took > .milliseconds(50) { logger.info("returning freed memory was slow", metadata: ["seconds": "\(took)"]) }
            }
        }
        defer { memoryTrim.cancel() }
        let backups = config.backup.map { settings in
            let scheduled = ScheduledBackups(loop: loop, settings: settings, directory: NodeConfig.resolve(settings.directory, against: baseDirectory),
                                             clusterID: config.clusterID, nodeID: config.nodeID, logger: logger)
            return Task { await scheduled.run() }
        }
        defer { backups?.cancel() }
        // Runs on every node; it pages only while its node leads (and has committed its intent in that term).
        let scheduler: Task<Void, Never>? = paging.map { paging in
            var pagingLogger = logger
            pagingLogger[metadataKey: "component"] = "paging"
            loop.signalsEveryApply.withLock { $0 = paging.configuration.unsafeUnfencedPages }
            let scheduler = PagingScheduler(host: pagingHost!, router: paging.router, configuration: paging.configuration,
                                            wake: loop.changed, logger: pagingLogger)
            return Task { await scheduler.run() }
        }
        var smtpChannel: (any Channel)?
        if let smtp = config.intake?.smtp {
            var mailLogger = logger
            mailLogger[metadataKey: "component"] = "smtp"
            let intake = MailIntake(propose: { await api.propose($0) }, settings: smtp, logger: mailLogger)
            do {
                let server = SMTPIntakeServer(settings: smtp, hostname: smtp.hostname ?? "vigil-\(config.nodeID)",
                                              tls: smtp.starttls ? try tls.makeMailServerContext() : nil, logger: mailLogger,
                                              deliver: { await intake.deliver($0) })
                smtpChannel = try await server.start(group: MultiThreadedEventLoopGroup.singleton)
            } catch {
                scheduler?.cancel()
                await forwarding.shutdown()
                await transport.shutdown()
                try? store.close()
                throw NodeError.http("cannot start the SMTP intake on \(smtp.listen): \(error)")
            }
        }
        defer { smtpChannel?.close(promise: nil) }
        var httpLogger = logger
        // Per-request lines would drown the Raft events at info; debug and trace keep them.
        if logger.logLevel > .debug { httpLogger.logLevel = .warning }
        let app = Application(
            router: api.makeRouter(),
            server: server,
            configuration: .init(address: .hostname(config.httpListen.host, port: config.httpListen.port), serverName: "vigil"),
            onServerRunning: { channel in
                logger.info("HTTP API listening", metadata: [
                    "address": "\(channel.localAddress?.description ?? "?")", "scheme": "\(config.api.scheme)",
                ])
            },
            logger: httpLogger)
        let group = ServiceGroup(configuration: .init(
            services: [
                .init(service: LoopService(loop: loop), successTerminationBehavior: .gracefullyShutdownGroup,
                      failureTerminationBehavior: .gracefullyShutdownGroup),
                .init(service: app, successTerminationBehavior: .gracefullyShutdownGroup,
                      failureTerminationBehavior: .gracefullyShutdownGroup),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        var failure: NodeError?
        do {
            try await group.run()
        } catch let error as NodeError {
            failure = error
        } catch {
            failure = .http("\(error)")
        }
        scheduler?.cancel()
        loop.changed.signal()
        await scheduler?.value
        try? await paging?.client.shutdown()
        await forwarding.shutdown()
        await transport.shutdown()
        try? await peerGroup.shutdownGracefully()
        do { try store.close() } catch { if failure == nil { failure = .storage(error.description) } }
        if let failure { throw failure }
        logger.info("stopped cleanly")
    }

    static func openStore(config: NodeConfig, dataDirectory: String, logger: Logger) throws(NodeError) -> (any LogStorage, PersistedState) {
        do {
            try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        } catch {
            throw .storage("cannot create data directory \(dataDirectory): \((error as NSError).localizedDescription)")
        }
        let sqlitePath = dataDirectory + "/" + sqliteLogFileName
        let usesSQLite = FileManager.default.fileExists(atPath: sqlitePath)
        let path = usesSQLite ? sqlitePath : dataDirectory + "/" + logDirectoryName
        do {
            let store: any LogStorage
            if usesSQLite {
                store = try RaftLogStore(path: path, clusterID: config.clusterID, nodeID: config.nodeID)
            } else {
                let segments = try SegmentLog(directory: path, clusterID: config.clusterID, nodeID: config.nodeID,
                                              segmentBytes: config.raft.logSegmentBytes)
                if segments.repairedTailBytes > 0 {
                    logger.warning("cleared the end of a log write a crash interrupted (never acknowledged)", metadata: [
                        "path": "\(path)", "bytes": "\(segments.repairedTailBytes)",
                    ])
                }
                store = segments
            }
            var persisted = try store.load()
            let isEmpty = persisted.hardState == HardState() && persisted.entries.isEmpty && persisted.snapshot.index == 0
            if isEmpty, config.join {
                logger.info("joining a running cluster: waiting for the leader to add this node", metadata: ["path": "\(path)"])
            } else if isEmpty {
                // Every member listed in a config written by `vigil init` is a founding member.
                let founding = PersistedState.bootstrap(voters: config.members.map(\.id))
                try store.persist(hardState: founding.hardState, entries: founding.entries, snapshot: nil)
                persisted = founding
                logger.info("bootstrapped a new cluster log", metadata: ["voters": "\(config.members.map(\.id))", "path": "\(path)"])
            } else {
                logger.info("opened the Raft log", metadata: [
                    "path": "\(path)", "term": "\(persisted.hardState.term)", "commit": "\(persisted.hardState.commit)",
                    "snapshot": "\(persisted.snapshot.index)", "entries": "\(persisted.entries.count)",
                ])
            }
            return (store, persisted)
        } catch {
            throw .storage(error.description)
        }
    }

    /// HTTPS with the API certificate (the node's own by default, reloaded with it), or plain HTTP when configured.
    static func makeHTTPServer(tls: NodeTLS) throws(NodeError) -> HTTPServerBuilder {
        guard let configuration = tls.makeAPIServerConfiguration() else { return .http1() }
        do {
            return try .tls(.http1(), tlsConfiguration: configuration)
        } catch {
            throw .tls("the API's TLS configuration: \(error)")
        }
    }

    static let certificateWarningDays = 30

    static func warnIfExpiringSoon(_ expiresAt: Date, path: String, logger: Logger, now: Date = Date()) {
        let days = Int(expiresAt.timeIntervalSince(now) / 86_400)
        guard days < certificateWarningDays else { return }
        logger.warning("the node certificate expires soon: re-issue it with `vigil cert issue --replace` and reload it with `vigil cert reload` (or SIGHUP)", metadata: [
            "certificate": "\(path)", "days_left": "\(days)", "expires_at": "\(expiresAt)",
        ])
    }

    static func makeTransport(config: NodeConfig, identity: TransportIdentity, group: any EventLoopGroup,
                              logger: Logger) throws(NodeError) -> PeerTransport {
        var peers: [NodeID: PeerAddress] = [:]
        for member in config.members where member.id != config.nodeID {
            peers[member.id] = PeerAddress(host: member.peer.host, port: member.peer.port)
        }
        let configuration = TransportConfiguration(
            localID: config.nodeID, listenHost: config.peerListen.host, listenPort: config.peerListen.port, peers: peers,
            softwareVersion: VigilVersion.running)
        do {
            return try PeerTransport(configuration: configuration, identity: identity, logger: logger, eventLoopGroup: group)
        } catch {
            throw .transport("\(error)")
        }
    }
}
