import ClusterPKI
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import RaftCore

/// This node's outbound, send-only connection to one peer: its queue, its reconnect loop and its counters.
///
/// Confined to the transport's event loop; every method runs there, so the state needs no lock.
final class PeerConnection {
    let peerID: NodeID
    private(set) var address: PeerAddress
    private let eventLoop: EventLoop
    private let configuration: TransportConfiguration
    private var clientContext: NIOSSLContext
    private let logger: Logger
    private let backoff: ReconnectBackoff
    /// Whether an authenticated connection to this peer existed at least once (see `enqueue`).
    private var hasEverConnected = false
    private var random = SystemRandomNumberGenerator()

    private var queue: SendQueue
    private(set) var metrics = PeerMetrics()
    private var channel: Channel?
    /// The authenticated connection a credentials reload replaces: it carries the frames until the new one is
    /// authenticated (make before break), so the peer never looks unreachable for the redial.
    private var retiring: Channel?
    /// Attempts since the last stable connection; drives the back-off ceiling.
    private var failedAttempts = 0
    private var connectedAt: NIODeadline?
    /// When recent authenticated connections ended, so that a peer closing working connections now and then (a
    /// certificate reload redials everything) is redialed at once, while one that closes each connection right
    /// after the handshake (it refuses our release) still backs off.
    private var authenticatedCloses: [NIODeadline] = []
    static let quickRedialsPerMinute = 6
    private var reconnectTask: Scheduled<Void>?
    /// Incremented per attempt so callbacks of an abandoned attempt are ignored.
    private var generation = 0
    private var isClosed = false

    init(
        peerID: NodeID,
        address: PeerAddress,
        eventLoop: EventLoop,
        configuration: TransportConfiguration,
        clientContext: NIOSSLContext,
        logger: Logger
    ) {
        self.peerID = peerID
        self.address = address
        self.eventLoop = eventLoop
        self.configuration = configuration
        self.clientContext = clientContext
        self.logger = logger
        self.backoff = ReconnectBackoff(
            initialMilliseconds: configuration.reconnectBackoffInitialMilliseconds,
            maximumMilliseconds: configuration.reconnectBackoffMaxMilliseconds)
        self.queue = SendQueue(maximumFrames: configuration.sendQueueMaxFrames,
                               maximumBytes: configuration.sendQueueMaxBytes)
    }

    var currentMetrics: PeerMetrics {
        var snapshot = metrics
        snapshot.queuedFrames = queue.count
        snapshot.queuedBytes = queue.queuedBytes
        return snapshot
    }

    // MARK: Sending

    /// Queues one encoded frame; call `flush()` after a batch.
    func enqueue(_ frame: ByteBuffer) {
        // A peer that went down gets nothing queued: Raft retransmits from its own state once the peer answers
        // again, and a backlog of stale appends would replay minutes of history at it (and hold memory).
        // Before the first connection (a cluster starting up) frames are kept: the peers are seconds away.
        if metrics.reachability == .backoff && hasEverConnected {
            metrics.framesDroppedPeerDown += 1
            return
        }
        if !queue.append(frame) {
            metrics.framesDroppedQueueFull += 1
        }
    }

    func countOversize() {
        metrics.framesDroppedOversize += 1
    }

    /// Writes every queued frame the connection accepts, then flushes once.
    func flush() {
        guard let channel = retiring ?? channel, metrics.reachability == .connected else { return }
        var wrote = false
        while channel.isWritable, let frame = queue.popFirst() {
            metrics.framesSent += 1
            metrics.bytesSent += frame.readableBytes
            channel.write(frame, promise: nil)
            wrote = true
        }
        if wrote { channel.flush() }
    }

    func recordReceived(frameBytes: Int) {
        metrics.framesReceived += 1
        metrics.bytesReceived += frameBytes
    }

    // MARK: Connection lifecycle

    func connect() {
        eventLoop.preconditionInEventLoop()
        guard !isClosed else { return }
        reconnectTask = nil
        generation += 1
        let attempt = generation
        if retiring == nil { metrics.reachability = .connecting }
        metrics.connectAttempts += 1
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        let clientContext = self.clientContext
        let peerID = self.peerID
        let logger = self.logger
        let handshakeTimeout = TimeAmount.milliseconds(Int64(configuration.handshakeTimeoutMilliseconds))
        ClientBootstrap(group: eventLoop)
            .connectTimeout(.milliseconds(Int64(configuration.connectTimeoutMilliseconds)))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.writeBufferWaterMark, value: .init(
                low: configuration.writeBufferLowWaterMarkBytes, high: configuration.writeBufferHighWaterMarkBytes))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // SNI and hostname verification use the node name: NIOSSL refuses IP literals in SNI.
                    let tls = try NIOSSLClientHandler(context: clientContext, serverHostname: NodeName.make(peerID), configuration: .peer)
                    let authentication = PeerAuthenticationHandler(
                        expectation: .peer(peerID),
                        handshakeTimeout: handshakeTimeout,
                        logger: logger,
                        onAuthenticated: { channel, _ in bound.value.authenticated(channel, attempt: attempt) },
                        onRefused: {})
                    let events = OutboundConnectionHandler(
                        peerID: peerID, logger: logger,
                        onWritable: { bound.value.writable(attempt: attempt) },
                        onFailure: { reason in bound.value.failed(reason, attempt: attempt) })
                    try channel.pipeline.syncOperations.addHandlers([tls, authentication, events])
                }
            }
            .connect(host: address.host, port: address.port)
            .assumeIsolated()
            .whenComplete { result in
                let connection = bound.value
                switch result {
                case let .success(channel):
                    guard attempt == connection.generation, !connection.isClosed else {
                        channel.close(promise: nil)
                        return
                    }
                    connection.channel = channel
                    channel.closeFuture.assumeIsolated().whenComplete { _ in connection.closed(attempt: attempt) }
                case let .failure(error):
                    guard attempt == connection.generation, !connection.isClosed else { return }
                    connection.failed("\(error)", attempt: attempt)
                    connection.scheduleReconnect()
                }
            }
    }

    private func authenticated(_ channel: Channel, attempt: Int) {
        guard attempt == generation, !isClosed else { return }
        self.channel = channel
        retire()
        metrics.reachability = .connected
        hasEverConnected = true
        connectedAt = .now()
        logger.info("connected to node\(peerID) at \(address)")
        // The hello goes first, ahead of anything queued, so the peer can refuse a release it cannot read.
        var sink = ByteBufferSink(ByteBufferAllocator().buffer(capacity: 64))
        WireCodec(limits: configuration.wireLimits).encode(
            PeerHello(from: configuration.localID, to: peerID, version: configuration.softwareVersion), into: &sink)
        channel.write(sink.buffer, promise: nil)
        channel.flush()
        flush()
    }

    private func writable(attempt: Int) {
        guard attempt == generation || retiring != nil else { return }
        flush()
    }

    /// The replaced connection closed before its successor was authenticated (the peer closed it): the peer is
    /// unreachable until the new one is.
    private func retiringClosed(_ channel: Channel) {
        guard let retiring, retiring === channel else { return }
        self.retiring = nil
        if !isClosed, metrics.reachability == .connected { metrics.reachability = .connecting }
    }

    /// Closes the connection a reload replaced: the new one is authenticated, or failed.
    private func retire() {
        retiring?.close(promise: nil)
        retiring = nil
    }

    private func failed(_ reason: String, attempt: Int) {
        guard attempt == generation, !isClosed else { return }
        // The first failure in a row is worth a warning; repeats while the peer stays down are not.
        if failedAttempts == 0 {
            logger.warning("connection to node\(peerID) at \(address) failed: \(reason)")
        } else {
            logger.debug("connection to node\(peerID) at \(address) failed again: \(reason)")
        }
    }

    private func closed(attempt: Int) {
        guard attempt == generation else { return }
        channel = nil
        if let connectedAt {
            let now = NIODeadline.now()
            authenticatedCloses.removeAll { now - $0 > .seconds(60) }
            authenticatedCloses.append(now)
            if now - connectedAt >= .milliseconds(Int64(configuration.stableConnectionMilliseconds))
                || authenticatedCloses.count <= Self.quickRedialsPerMinute {
                failedAttempts = 0
            }
        }
        if metrics.reachability == .connected {
            logger.info("connection to node\(peerID) closed")
        }
        connectedAt = nil
        guard !isClosed else { return }
        scheduleReconnect()
    }

    private func scheduleReconnect() {
        retire()
        metrics.reachability = .backoff
        if hasEverConnected {
            metrics.framesDroppedPeerDown += queue.count
            while queue.popFirst() != nil {}
        }
        let delay = backoff.delayMilliseconds(attempt: failedAttempts, using: &random)
        failedAttempts += 1
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        reconnectTask = eventLoop.scheduleTask(in: .milliseconds(Int64(delay))) { bound.value.connect() }
    }

    /// Dials again at once with `context`, closing the current connection; queued frames are kept for the new one.
    func reconnect(with context: NIOSSLContext) {
        clientContext = context
        guard !isClosed else { return }
        reconnectTask?.cancel()
        reconnectTask = nil
        retire()
        if let channel {
            self.channel = nil
            if metrics.reachability == .connected {
                retiring = channel
                let bound = NIOLoopBound(self, eventLoop: eventLoop)
                channel.closeFuture.assumeIsolated().whenComplete { _ in bound.value.retiringClosed(channel) }
            } else {
                channel.close(promise: nil)
            }
        }
        connect()  // a new generation: the old connection's callbacks are ignored
    }

    /// Stops reconnecting and closes the connection; queued frames are discarded.
    func close() -> EventLoopFuture<Void> {
        isClosed = true
        reconnectTask?.cancel()
        reconnectTask = nil
        while queue.popFirst() != nil {}
        retire()
        guard let channel else { return eventLoop.makeSucceededVoidFuture() }
        self.channel = nil
        channel.close(promise: nil)
        return channel.closeFuture
    }
}
