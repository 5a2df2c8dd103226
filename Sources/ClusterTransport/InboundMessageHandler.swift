import Logging
import NIOCore
import RaftCore

/// The end of an inbound (receive-only) pipeline: checks each message against the authenticated identity and
/// hands it to the transport; a malformed frame closes this connection and no other.
final class InboundMessageHandler: ChannelInboundHandler {
    typealias InboundIn = DecodedFrame

    /// What the handler reports to the transport besides delivered frames.
    struct Events {
        var onRejected: () -> Void
        var onMalformed: () -> Void
        /// The peer's hello was accepted: it runs this release.
        var onPeerVersion: (NodeID, SoftwareVersion) -> Void
        /// The peer's release cannot interoperate with ours; the connection is being closed.
        var onVersionRefused: (NodeID, SoftwareVersion, String) -> Void
        var onUnknownKind: () -> Void
    }

    private let localID: NodeID
    private let localVersion: SoftwareVersion
    private let logger: Logger
    private let deliver: (NodeID, DecodedFrame) -> Void
    private let events: Events
    private var peerID: NodeID?
    private var rejectionLogged = false
    private var unknownKindLogged = false
    private var sawFirstFrame = false
    /// Set once this handler closed the connection: frames already decoded from the same read must not slip through.
    private var isClosing = false

    init(localID: NodeID, localVersion: SoftwareVersion, logger: Logger, deliver: @escaping (NodeID, DecodedFrame) -> Void, events: Events) {
        self.localID = localID
        self.localVersion = localVersion
        self.logger = logger
        self.deliver = deliver
        self.events = events
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let authenticated = event as? PeerAuthenticatedEvent {
            peerID = authenticated.peerID
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard !isClosing else { return }
        guard let peerID else {
            isClosing = true
            context.close(promise: nil)
            return
        }
        let isFirstFrame = !sawFirstFrame
        sawFirstFrame = true
        guard let addressing = frame.payload.addressing else {
            events.onUnknownKind()
            if !unknownKindLogged {
                unknownKindLogged = true
                logger.info("skipping frames of a kind this release does not know (the peer runs a newer release)",
                            metadata: ["peer": "node\(peerID)", "kind": "\(frame.payload.kindName)"])
            }
            return
        }
        guard addressing.from == peerID, addressing.to == localID else {
            events.onRejected()
            // One warning per connection: a misbehaving peer must not flood the log.
            if !rejectionLogged {
                rejectionLogged = true
                logger.warning(
                    "dropping message not from the authenticated peer or not for this node",
                    metadata: ["peer": "node\(peerID)", "from": "\(addressing.from)", "to": "\(addressing.to)",
                               "kind": "\(frame.payload.kindName)"])
            }
            return
        }
        if case let .hello(hello) = frame.payload {
            // A hello later in the stream is a protocol error of the peer, not a reason to trust a new version.
            guard isFirstFrame else {
                events.onMalformed()
                logger.warning("closing connection from node\(peerID): a second hello on one connection")
                isClosing = true
                context.close(promise: nil)
                return
            }
            if let reason = localVersion.refusal(of: hello.version) {
                events.onVersionRefused(peerID, hello.version, reason)
                isClosing = true
                context.close(promise: nil)
                return
            }
            events.onPeerVersion(peerID, hello.version)
            return
        }
        // No hello first: a release from before the handshake existed (0.5), which speaks wire format 1 as we do.
        deliver(peerID, frame)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        let peer = peerID.map { "node\($0)" } ?? "unauthenticated peer"
        if let wireError = error as? WireError {
            events.onMalformed()
            logger.warning("closing connection from \(peer): malformed frame: \(wireError)")
        } else if error is ByteToMessageDecoderError {
            events.onMalformed()
            logger.warning("closing connection from \(peer): \(error)")
        } else {
            logger.info("closing connection from \(peer): \(error)")
        }
        isClosing = true
        context.close(promise: nil)
    }
}
