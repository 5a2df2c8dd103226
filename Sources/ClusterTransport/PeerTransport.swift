import Logging
import NIOCore
import NIOPosix
import RaftCore

/// Mutual-TLS message transport between the members of one Raft cluster.
///
/// **Connection model.** Each node dials every peer and sends only on the connection it dialed; connections a
/// node accepts are receive-only. So between two nodes there are two TCP connections, one per direction. This
/// needs no tie-breaking when both ends dial at once (a single shared connection would need a rule for which
/// of two simultaneous dials survives, and a window where messages go to the loser), and each direction gets
/// its own ordered stream, its own TCP flow control and its own back-pressure: a follower slow to read a
/// snapshot never delays the votes it sends the other way.
///
/// **Threads.** All state lives on one event loop: from elsewhere `send` only enqueues a closure there and returns,
/// so it is cheap and safe from any thread or task; on that loop it encodes and writes at once. Encoding, batching
/// (all queued frames written, one flush per batch) and reconnects (exponential back-off with full jitter) happen
/// on that loop.
///
/// **Delivery.** Messages from authenticated peers arrive on `incoming`, an `AsyncStream` with a bounded buffer
/// (`inboundBufferMaxMessages`); a consumer that falls behind loses the newest messages (counted), which Raft
/// tolerates like any network loss. Exactly one task should iterate it.
///
/// **Loss.** The transport never retries a message: a full send queue drops the new frame, a dying connection
/// loses what was written to it. Raft's retransmission covers both.
public final class PeerTransport: Sendable {
    public let localID: NodeID
    /// Messages addressed to this node from authenticated members; finishes after `shutdown()`.
    public let incoming: AsyncStream<Message>
    /// Snapshot chunks and their acknowledgements from authenticated members, apart from `incoming` so that a
    /// slow snapshot consumer never holds up votes and heartbeats; finishes after `shutdown()`.
    public let incomingSnapshotStream: AsyncStream<SnapshotStreamFrame>
    /// Client writes followers forward to this node (see `ForwardedProposals`); finishes after `shutdown()`.
    public let incomingForwarded: AsyncStream<ForwardedProposals>
    /// The largest frame body the wire accepts.
    public let maximumFrameBytes: Int
    /// The one loop every connection and all of the transport's state live on. A task whose executor is this loop
    /// (the node's Raft loop) sends without a hop: `send` writes to the sockets before it returns.
    public let eventLoop: EventLoop
    private let state: NIOLoopBoundBox<TransportState>

    public init(
        configuration: TransportConfiguration,
        identity: TransportIdentity,
        logger: Logger = Logger(label: "vigil.transport"),
        eventLoopGroup: EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) throws(TransportError) {
        try configuration.validate()
        guard identity.nodeID == configuration.localID else {
            throw .invalidIdentity("the certificate names node\(identity.nodeID) but this node is \(configuration.localID)")
        }
        var logger = logger
        logger[metadataKey: "node"] = "node\(configuration.localID)"
        let (stream, continuation) = AsyncStream<Message>.makeStream(
            bufferingPolicy: .bufferingOldest(configuration.inboundBufferMaxMessages))
        // Senders keep only a few chunks in flight per transfer, so a small buffer suffices; an overflow loses
        // chunks, which the receiver's rewind acknowledgement recovers.
        let (snapshotStream, streamContinuation) = AsyncStream<SnapshotStreamFrame>.makeStream(
            bufferingPolicy: .bufferingOldest(256))
        // Batches from at most a few followers per Raft round; an overflow drops writes that then time out.
        let (forwarded, forwardedContinuation) = AsyncStream<ForwardedProposals>.makeStream(bufferingPolicy: .bufferingOldest(1_024))
        let eventLoop = eventLoopGroup.next()
        self.incomingSnapshotStream = snapshotStream
        self.incomingForwarded = forwarded
        self.maximumFrameBytes = configuration.wireLimits.maximumFrameBytes
        self.localID = configuration.localID
        self.incoming = stream
        self.eventLoop = eventLoop
        self.state = NIOLoopBoundBox.makeBoxSendingValue(
            TransportState(
                configuration: configuration,
                eventLoop: eventLoop,
                serverContext: try identity.makeServerContext(configuration),
                clientContext: try identity.makeClientContext(configuration),
                logger: logger,
                continuation: continuation,
                streamContinuation: streamContinuation,
                forwardedContinuation: forwardedContinuation),
            as: TransportState.self,
            eventLoop: eventLoop)
    }

    /// Listens and starts dialing the configured peers; returns the bound port (useful with `listenPort` 0).
    public func start() async throws(TransportError) -> Int {
        let state = self.state
        do {
            return try await eventLoop.flatSubmit { state.value.start() }.get()
        } catch let error as TransportError {
            throw error
        } catch {
            throw .bindFailed(host: "?", port: 0, reason: "\(error)")
        }
    }

    /// What `deliverDirectly` hands over.
    public enum Delivery: Sendable {
        case raft(Message)
        case forwarded(ForwardedProposals)
    }

    /// From now on, hands Raft messages and forwarded writes to `receiver` on the transport's event loop instead of
    /// `incoming` and `incomingForwarded`: a consumer that queues them itself saves a task wake-up per message, on
    /// the path of every write. `receiver` must not block; it returns false to drop a message (counted like a full
    /// buffer). Snapshot-stream frames still arrive on `incomingSnapshotStream`.
    public func deliverDirectly(to receiver: @escaping @Sendable (Delivery) -> Bool) {
        let state = self.state
        eventLoop.execute { state.value.directReceiver = receiver }
    }

    /// Replaces the member list: dials new peers, closes removed ones; inbound connections are accepted only
    /// from listed ids. Non-blocking.
    public func setPeers(_ peers: [NodeID: PeerAddress]) {
        let state = self.state
        onLoop { state.value.setPeers(peers) }
    }

    /// Queues messages for their `to` peers and returns at once; never blocks, never throws. Messages to
    /// unknown peers, over a wire limit, or beyond a full queue are dropped and counted.
    public func send(_ messages: [Message]) {
        guard !messages.isEmpty else { return }
        let state = self.state
        onLoop { state.value.send(messages) }
    }

    public func send(_ message: Message) {
        send([message])
    }

    /// Queues one snapshot-stream frame for its `to` peer; like `send(_:)` it never blocks and may drop.
    public func send(_ frame: SnapshotStreamFrame) {
        let state = self.state
        onLoop { state.value.send(frame) }
    }

    /// Queues client writes for the leader `frame.to`; like `send(_:)` it never blocks and may drop.
    public func send(_ frame: ForwardedProposals) {
        let state = self.state
        onLoop { state.value.send(frame) }
    }

    /// Runs `body` now when called on the transport's loop, else queues it there. A leader's appends must leave
    /// before its own fsync, which blocks the caller: queued behind the caller, they would leave after it.
    private func onLoop(_ body: @escaping @Sendable () -> Void) {
        if eventLoop.inEventLoop { body() } else { eventLoop.execute(body) }
    }

    /// Takes new credentials (a re-issued certificate, a trust bundle with a new or without an old CA) without a
    /// restart: later handshakes use them, and every open connection is closed and redialed under them. Invalid
    /// credentials throw and change nothing.
    public func reload(identity: TransportIdentity) async throws(TransportError) {
        guard identity.nodeID == localID else {
            throw .invalidIdentity("the certificate names node\(identity.nodeID) but this node is \(localID)")
        }
        let state = self.state
        let configuration = try await configurationSnapshot()
        let server = try identity.makeServerContext(configuration)
        let client = try identity.makeClientContext(configuration)
        try? await eventLoop.submit { state.value.replaceContexts(server: server, client: client) }.get()
    }

    private func configurationSnapshot() async throws(TransportError) -> TransportConfiguration {
        let state = self.state
        do {
            return try await eventLoop.submit { state.value.configuration }.get()
        } catch {
            throw .shutDown
        }
    }

    /// A snapshot of reachability and counters.
    public func metrics() async -> TransportMetrics {
        let state = self.state
        return (try? await eventLoop.submit { state.value.currentMetrics() }.get()) ?? TransportMetrics()
    }

    /// Closes the listener and every connection, finishes `incoming`; later sends are ignored.
    public func shutdown() async {
        let state = self.state
        try? await eventLoop.flatSubmit { state.value.shutdown() }.get()
    }
}
