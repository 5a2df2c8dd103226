import Logging
import NIOCore
import RaftCore

/// The end of an inbound (receive-only) pipeline: checks each message against the authenticated identity and
/// hands it to the transport; a malformed frame closes this connection and no other.
final class InboundMessageHandler: ChannelInboundHandler {
    typealias InboundIn = DecodedFrame

    private let localID: NodeID
    private let logger: Logger
    private let deliver: (NodeID, DecodedFrame) -> Void
    private let onRejected: () -> Void
    private let onMalformed: () -> Void
    private var peerID: NodeID?
    private var rejectionLogged = false

    init(
        localID: NodeID,
        logger: Logger,
        deliver: @escaping (NodeID, DecodedFrame) -> Void,
        onRejected: @escaping () -> Void,
        onMalformed: @escaping () -> Void
    ) {
        self.localID = localID
        self.logger = logger
        self.deliver = deliver
        self.onRejected = onRejected
        self.onMalformed = onMalformed
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let authenticated = event as? PeerAuthenticatedEvent {
            peerID = authenticated.peerID
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard let peerID else {
            context.close(promise: nil)
            return
        }
        let message = frame.payload
        guard message.from == peerID, message.to == localID else {
            onRejected()
            // One warning per connection: a misbehaving peer must not flood the log.
            if !rejectionLogged {
                rejectionLogged = true
                logger.warning(
                    "dropping message not from the authenticated peer or not for this node",
                    metadata: ["peer": "node\(peerID)", "from": "\(message.from)", "to": "\(message.to)",
                               "kind": "\(message.kindName)"])
            }
            return
        }
        deliver(peerID, frame)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        let peer = peerID.map { "node\($0)" } ?? "unauthenticated peer"
        if let wireError = error as? WireError {
            onMalformed()
            logger.warning("closing connection from \(peer): malformed frame: \(wireError)")
        } else if error is ByteToMessageDecoderError {
            onMalformed()
            logger.warning("closing connection from \(peer): \(error)")
        } else {
            logger.info("closing connection from \(peer): \(error)")
        }
        context.close(promise: nil)
    }
}
