import Logging
import NIOCore
import RaftCore

/// The end of an outbound (send-only) pipeline: reports writability and failures to the peer's connection.
///
/// The peer never writes on a connection we dialed, so any data is a protocol violation. With TLS 1.3 a server
/// that refuses our certificate does so after our handshake completed; the refusal arrives here as the first
/// read error, which is why errors are reported as a possible authentication failure.
final class OutboundConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let peerID: NodeID
    private let logger: Logger
    private let onWritable: () -> Void
    private let onFailure: (String) -> Void

    init(peerID: NodeID, logger: Logger, onWritable: @escaping () -> Void, onFailure: @escaping (String) -> Void) {
        self.peerID = peerID
        self.logger = logger
        self.onWritable = onWritable
        self.onFailure = onFailure
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        onFailure("node\(peerID) sent data on a send-only connection")
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { onWritable() }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        onFailure("\(error) (if this follows the handshake, node\(peerID) may have refused our certificate)")
        context.close(promise: nil)
    }
}
