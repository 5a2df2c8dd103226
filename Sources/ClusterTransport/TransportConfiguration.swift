import RaftCore

/// Everything a `PeerTransport` needs besides its TLS identity; every queue and wait is bounded here.
public struct TransportConfiguration: Sendable {
    public var localID: NodeID
    public var listenHost: String
    /// 0 picks an ephemeral port; `PeerTransport.start()` returns the bound one.
    public var listenPort: Int
    /// The other members and where they listen; inbound connections are accepted only from these ids.
    public var peers: [NodeID: PeerAddress]
    public var wireLimits: WireLimits
    public var sendQueueMaxFrames: Int
    public var sendQueueMaxBytes: Int
    public static let defaultInboundBufferMaxMessages = 16_384
    /// Messages received but not yet taken from `PeerTransport.incoming`; beyond this they are dropped.
    public var inboundBufferMaxMessages: Int
    public var inboundConnectionsMax: Int
    public var reconnectBackoffInitialMilliseconds: Int
    public var reconnectBackoffMaxMilliseconds: Int
    /// A connection that lived this long resets the back-off; a shorter one (say, refused right after
    /// the TLS 1.3 handshake) keeps growing it. Short enough that connections a peer closes on a certificate
    /// reload, a few hundred milliseconds apart, are each redialed within the first back-off step.
    public var stableConnectionMilliseconds: Int
    public var connectTimeoutMilliseconds: Int
    /// From TCP connect to an authenticated peer; also bounds how long a silent plaintext client is kept.
    public var handshakeTimeoutMilliseconds: Int
    public var tlsShutdownTimeoutMilliseconds: Int
    public var writeBufferLowWaterMarkBytes: Int
    public var writeBufferHighWaterMarkBytes: Int
    /// This node's release, announced in the hello of every connection it dials and checked against each peer's.
    public var softwareVersion: SoftwareVersion

    public init(
        localID: NodeID,
        listenHost: String = "127.0.0.1",
        listenPort: Int = 0,
        peers: [NodeID: PeerAddress] = [:],
        wireLimits: WireLimits = WireLimits(),
        sendQueueMaxFrames: Int = 4096,
        sendQueueMaxBytes: Int = 96 << 20,
        inboundBufferMaxMessages: Int = TransportConfiguration.defaultInboundBufferMaxMessages,
        inboundConnectionsMax: Int = 64,
        reconnectBackoffInitialMilliseconds: Int = 50,
        reconnectBackoffMaxMilliseconds: Int = 2000,
        stableConnectionMilliseconds: Int = 250,
        connectTimeoutMilliseconds: Int = 2000,
        handshakeTimeoutMilliseconds: Int = 5000,
        tlsShutdownTimeoutMilliseconds: Int = 1000,
        writeBufferLowWaterMarkBytes: Int = 1 << 20,
        writeBufferHighWaterMarkBytes: Int = 4 << 20,
        softwareVersion: SoftwareVersion = SoftwareVersion(major: 0, minor: 0, patch: 0)
    ) {
        self.softwareVersion = softwareVersion
        self.localID = localID
        self.listenHost = listenHost
        self.listenPort = listenPort
        self.peers = peers
        self.wireLimits = wireLimits
        self.sendQueueMaxFrames = sendQueueMaxFrames
        self.sendQueueMaxBytes = sendQueueMaxBytes
        self.inboundBufferMaxMessages = inboundBufferMaxMessages
        self.inboundConnectionsMax = inboundConnectionsMax
        self.reconnectBackoffInitialMilliseconds = reconnectBackoffInitialMilliseconds
        self.reconnectBackoffMaxMilliseconds = reconnectBackoffMaxMilliseconds
        self.stableConnectionMilliseconds = stableConnectionMilliseconds
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.handshakeTimeoutMilliseconds = handshakeTimeoutMilliseconds
        self.tlsShutdownTimeoutMilliseconds = tlsShutdownTimeoutMilliseconds
        self.writeBufferLowWaterMarkBytes = writeBufferLowWaterMarkBytes
        self.writeBufferHighWaterMarkBytes = writeBufferHighWaterMarkBytes
    }

    func validate() throws(TransportError) {
        func require(_ condition: Bool, _ reason: String) throws(TransportError) {
            if !condition { throw .invalidConfiguration(reason) }
        }
        try require(localID != noNode, "localID must not be 0")
        try require(!peers.keys.contains(noNode), "peer id 0 is reserved")
        try require(peers[localID] == nil, "peers must not include this node (\(localID))")
        try require((0...65_535).contains(listenPort), "listenPort \(listenPort) is not a TCP port")
        for (id, address) in peers {
            try require((1...65_535).contains(address.port), "port \(address.port) of node\(id) is not a TCP port")
        }
        try require(sendQueueMaxFrames >= 1, "sendQueueMaxFrames must be at least 1")
        try require(sendQueueMaxBytes >= wireLimits.maximumFrameBytes + WireCodec.lengthPrefixBytes,
                    "sendQueueMaxBytes (\(sendQueueMaxBytes)) must hold one maximum frame (\(wireLimits.maximumFrameBytes) bytes)")
        try require(inboundBufferMaxMessages >= 1, "inboundBufferMaxMessages must be at least 1")
        try require(inboundConnectionsMax >= 1, "inboundConnectionsMax must be at least 1")
        try require(reconnectBackoffInitialMilliseconds >= 1, "reconnectBackoffInitialMilliseconds must be positive")
        try require(reconnectBackoffMaxMilliseconds >= reconnectBackoffInitialMilliseconds,
                    "reconnectBackoffMaxMilliseconds must be at least the initial back-off")
        try require(connectTimeoutMilliseconds >= 1, "connectTimeoutMilliseconds must be positive")
        try require(handshakeTimeoutMilliseconds >= 1, "handshakeTimeoutMilliseconds must be positive")
        try require(tlsShutdownTimeoutMilliseconds >= 1, "tlsShutdownTimeoutMilliseconds must be positive")
        try require(writeBufferLowWaterMarkBytes >= 1 && writeBufferHighWaterMarkBytes >= writeBufferLowWaterMarkBytes,
                    "write buffer water marks must satisfy 1 <= low <= high")
    }
}
