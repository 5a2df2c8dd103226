import ClusterPKI
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import RaftCore

/// All mutable state of a `PeerTransport`, confined to its single event loop (no locks needed).
final class TransportState {
    let configuration: TransportConfiguration
    let eventLoop: EventLoop
    let codec: WireCodec
    let logger: Logger
    private var serverContext: NIOSSLContext
    private var clientContext: NIOSSLContext
    private let continuation: AsyncStream<Message>.Continuation
    private let streamContinuation: AsyncStream<SnapshotStreamFrame>.Continuation
    private let forwardedContinuation: AsyncStream<ForwardedProposals>.Continuation

    private var peerAddresses: [NodeID: PeerAddress]
    private var peers: [NodeID: PeerConnection] = [:]
    private var inboundChannels: [ObjectIdentifier: Channel] = [:]
    /// The newest authenticated inbound connection of each peer; an older one is closed when a newer arrives.
    private var inboundByPeer: [NodeID: ObjectIdentifier] = [:]
    private var serverChannel: Channel?
    private var metrics = TransportMetrics()
    /// Set by `PeerTransport.deliverDirectly`: takes Raft messages and forwarded writes instead of the streams.
    var directReceiver: (@Sendable (PeerTransport.Delivery) -> Bool)?
    /// What each peer's latest hello said; a peer from before the handshake has none.
    private var peerVersions: [NodeID: SoftwareVersion] = [:]
    /// "id/version" pairs already refused with a warning; a redial every back-off only logs at debug.
    private var refusalsLogged: Set<String> = []
    private var isStarted = false
    private var isShutDown = false

    init(
        configuration: TransportConfiguration,
        eventLoop: EventLoop,
        serverContext: NIOSSLContext,
        clientContext: NIOSSLContext,
        logger: Logger,
        continuation: AsyncStream<Message>.Continuation,
        streamContinuation: AsyncStream<SnapshotStreamFrame>.Continuation,
        forwardedContinuation: AsyncStream<ForwardedProposals>.Continuation
    ) {
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.codec = WireCodec(limits: configuration.wireLimits)
        self.serverContext = serverContext
        self.clientContext = clientContext
        self.logger = logger
        self.continuation = continuation
        self.streamContinuation = streamContinuation
        self.forwardedContinuation = forwardedContinuation
        self.peerAddresses = configuration.peers
    }

    // MARK: Start and stop

    func start() -> EventLoopFuture<Int> {
        guard !isShutDown else { return eventLoop.makeFailedFuture(TransportError.shutDown) }
        guard !isStarted else { return eventLoop.makeFailedFuture(TransportError.alreadyStarted) }
        isStarted = true
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        let host = configuration.listenHost
        let port = configuration.listenPort
        return ServerBootstrap(group: eventLoop, childGroup: eventLoop)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 128)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try bound.value.initializeInbound(channel) }
            }
            .bind(host: host, port: port)
            .flatMapErrorThrowing { error in
                bound.value.isStarted = false  // a failed bind may be retried
                throw TransportError.bindFailed(host: host, port: port, reason: "\(error)")
            }
            .map { serverChannel in
                let state = bound.value
                state.serverChannel = serverChannel
                let boundPort = serverChannel.localAddress?.port ?? port
                state.logger.info("listening for peers on \(host):\(boundPort)")
                state.reconcilePeers()
                return boundPort
            }
    }

    func shutdown() -> EventLoopFuture<Void> {
        guard !isShutDown else { return eventLoop.makeSucceededVoidFuture() }
        isShutDown = true
        var closing: [EventLoopFuture<Void>] = []
        if let serverChannel { closing.append(serverChannel.close()) }
        serverChannel = nil
        for peer in peers.values { closing.append(peer.close()) }
        peers.removeAll()
        for channel in inboundChannels.values {
            channel.close(promise: nil)
            closing.append(channel.closeFuture)
        }
        continuation.finish()
        streamContinuation.finish()
        forwardedContinuation.finish()
        return EventLoopFuture.andAllComplete(closing, on: eventLoop)
    }

    // MARK: Membership

    func setPeers(_ addresses: [NodeID: PeerAddress]) {
        guard !isShutDown else { return }
        peerAddresses = addresses.filter { $0.key != configuration.localID && $0.key != noNode }
        if isStarted { reconcilePeers() }
    }

    func isMember(_ id: NodeID) -> Bool { peerAddresses[id] != nil }

    /// Opens connections to new peers, closes removed ones, redials a peer whose address changed.
    private func reconcilePeers() {
        for (id, peer) in peers where peerAddresses[id] != peer.address {
            _ = peer.close()
            peers[id] = nil
            if peerAddresses[id] == nil, let inbound = inboundByPeer.removeValue(forKey: id) {
                inboundChannels[inbound]?.close(promise: nil)
            }
        }
        for (id, address) in peerAddresses where peers[id] == nil {
            let peer = PeerConnection(
                peerID: id, address: address, eventLoop: eventLoop, configuration: configuration,
                clientContext: clientContext, logger: logger)
            peers[id] = peer
            peer.connect()
        }
    }

    // MARK: Sending

    func send(_ messages: [Message]) {
        guard !isShutDown else { return }
        var touched: [NodeID: PeerConnection] = [:]
        for message in messages {
            guard message.from == configuration.localID, let peer = peers[message.to] else {
                metrics.messagesToUnknownPeer += 1
                continue
            }
            var frame = ByteBufferAllocator().buffer(capacity: 0)
            do {
                try codec.encode(message, into: &frame)
            } catch {
                peer.countOversize()
                logger.warning("not sending \(message.kindName) to node\(message.to): \(error)")
                continue
            }
            peer.enqueue(frame)
            touched[message.to] = peer
        }
        for peer in touched.values { peer.flush() }
    }

    func send(_ frame: SnapshotStreamFrame) {
        sendFrame(from: frame.from, to: frame.to, kindName: frame.kindName) { (sink: inout ByteBufferSink) throws(WireError) in
            try codec.encode(frame, into: &sink)
        }
    }

    func send(_ frame: ForwardedProposals) {
        sendFrame(from: frame.from, to: frame.to, kindName: "forwardedProposals") { (sink: inout ByteBufferSink) throws(WireError) in
            try codec.encode(frame, into: &sink)
        }
    }

    /// Encodes one frame for its peer and flushes it; a frame that does not fit is dropped and counted.
    private func sendFrame(from: NodeID, to: NodeID, kindName: String, _ encode: (inout ByteBufferSink) throws(WireError) -> Void) {
        guard !isShutDown else { return }
        guard from == configuration.localID, let peer = peers[to] else {
            metrics.messagesToUnknownPeer += 1
            return
        }
        var sink = ByteBufferSink(ByteBufferAllocator().buffer(capacity: 0))
        do {
            try encode(&sink)
        } catch {
            peer.countOversize()
            logger.warning("not sending \(kindName) to node\(to): \(error)")
            return
        }
        peer.enqueue(sink.buffer)
        peer.flush()
    }

    // MARK: Inbound connections

    private func initializeInbound(_ channel: Channel) throws {
        guard !isShutDown, inboundChannels.count < configuration.inboundConnectionsMax else {
            metrics.inboundConnectionsOverLimit += 1
            logger.warning("refusing inbound connection: \(inboundChannels.count) connections open (limit \(configuration.inboundConnectionsMax))",
                           metadata: ["remote": "\(PeerAuthenticationHandler.remote(channel))"])
            channel.close(promise: nil)
            return
        }
        let key = ObjectIdentifier(channel)
        inboundChannels[key] = channel
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        channel.closeFuture.assumeIsolated().whenComplete { _ in bound.value.inboundClosed(key) }
        let localID = configuration.localID
        let authentication = PeerAuthenticationHandler(
            expectation: .anyMember(localID: localID, isMember: { bound.value.isMember($0) }),
            handshakeTimeout: .milliseconds(Int64(configuration.handshakeTimeoutMilliseconds)),
            logger: logger,
            onAuthenticated: { channel, peerID in bound.value.inboundAuthenticated(channel, peerID: peerID) },
            onRefused: { bound.value.metrics.inboundConnectionsRefused += 1 })
        let decoder = ByteToMessageHandler(
            FrameDecoder(codec: codec),
            maximumBufferSize: configuration.wireLimits.maximumFrameBytes + WireCodec.lengthPrefixBytes)
        let messages = InboundMessageHandler(
            localID: localID,
            localVersion: configuration.softwareVersion,
            logger: logger,
            deliver: { peerID, frame in bound.value.deliver(frame, from: peerID) },
            events: .init(
                onRejected: { bound.value.metrics.messagesRejected += 1 },
                onMalformed: { bound.value.metrics.malformedFrames += 1 },
                onPeerVersion: { peerID, version in bound.value.peerVersions[peerID] = version },
                onVersionRefused: { peerID, version, reason in bound.value.versionRefused(peerID, version, reason) },
                onUnknownKind: { bound.value.metrics.framesSkippedUnknownKind += 1 }))
        try channel.pipeline.syncOperations.addHandlers([
            NIOSSLServerHandler(context: serverContext, configuration: .peer), authentication, decoder, messages,
        ])
    }

    private func inboundAuthenticated(_ channel: Channel, peerID: NodeID) {
        metrics.inboundConnectionsAccepted += 1
        let key = ObjectIdentifier(channel)
        if let previous = inboundByPeer[peerID], previous != key {
            // The peer redialed, so its old connection is dead or dying; closing it frees the slot now.
            inboundChannels[previous]?.close(promise: nil)
        }
        inboundByPeer[peerID] = key
        logger.info("accepted connection from node\(peerID)",
                    metadata: ["remote": "\(PeerAuthenticationHandler.remote(channel))"])
    }

    private func versionRefused(_ peerID: NodeID, _ version: SoftwareVersion, _ reason: String) {
        metrics.peersRefusedVersion += 1
        let message: Logger.Message = "refusing node\(peerID): \(reason)"
        if refusalsLogged.insert("\(peerID)/\(version)").inserted {
            logger.error(message, metadata: ["peer_version": "\(version)", "local_version": "\(configuration.softwareVersion)"])
        } else {
            logger.debug(message)
        }
    }

    // MARK: Credentials

    /// New TLS contexts for every later handshake; then every connection is closed and redialed, so that none
    /// outlives the trust it was authenticated under (a CA just removed from the bundle, say).
    func replaceContexts(server: NIOSSLContext, client: NIOSSLContext) {
        guard !isShutDown else { return }
        serverContext = server
        clientContext = client
        for peer in peers.values { peer.reconnect(with: client) }
        for channel in inboundChannels.values { channel.close(promise: nil) }
    }

    private func inboundClosed(_ key: ObjectIdentifier) {
        inboundChannels[key] = nil
        for (peerID, current) in inboundByPeer where current == key {
            inboundByPeer[peerID] = nil
        }
    }

    private func deliver(_ frame: DecodedFrame, from peerID: NodeID) {
        peers[peerID]?.recordReceived(frameBytes: frame.frameBytes)
        switch frame.payload {
        case let .raft(message):
            if let directReceiver {
                if !directReceiver(.raft(message)) { metrics.deliveriesDroppedBufferFull += 1 }
            } else if case .dropped = continuation.yield(message) {
                metrics.deliveriesDroppedBufferFull += 1
            }
        case let .snapshotStream(streamFrame):
            if case .dropped = streamContinuation.yield(streamFrame) { metrics.deliveriesDroppedBufferFull += 1 }
        case let .forwarded(forwarded):
            if let directReceiver {
                if !directReceiver(.forwarded(forwarded)) { metrics.deliveriesDroppedBufferFull += 1 }
            } else if case .dropped = forwardedContinuation.yield(forwarded) {
                metrics.deliveriesDroppedBufferFull += 1
            }
        case .hello, .unknownKind:
            break  // handled by InboundMessageHandler, never delivered
        }
    }

    // MARK: Metrics

    func currentMetrics() -> TransportMetrics {
        var snapshot = metrics
        for (id, peer) in peers {
            snapshot.peers[id] = peer.currentMetrics
            snapshot.peers[id]?.version = peerVersions[id]
        }
        return snapshot
    }
}

extension NIOSSLHandler.Configuration {
    /// NIOSSL keeps its encrypted-output buffer at the largest size one flush ever needed: a leader catching up a
    /// follower flushes megabytes of appends at once, and each of its peer connections then held 10–30 MB for
    /// good (heaptrack, a node holding 100,000 open tickets). Bursts above 1 MiB now cost one allocation each.
    static let peer: NIOSSLHandler.Configuration = {
        var configuration = NIOSSLHandler.Configuration()
        configuration.maximumPreservedOutboundBufferCapacity = 1 << 20
        return configuration
    }()
}
