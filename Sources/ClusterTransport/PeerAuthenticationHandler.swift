import ClusterPKI
import Logging
import NIOCore
import NIOSSL
import NIOTLS
import RaftCore
import X509

/// Admits a connection only after its TLS handshake finished and the verified peer certificate names the
/// expected member; until then any application byte is a protocol violation that closes the connection.
///
/// NIOSSL has already checked the chain against the cluster CA (and, when dialing, the DNS name against SNI);
/// this handler adds the cluster's own rule: the identity must be a configured member's `node<ID>` name.
final class PeerAuthenticationHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// Who may be on the other end.
    enum Expectation {
        /// We dialed this member.
        case peer(NodeID)
        /// Someone dialed us: any configured member except ourselves.
        case anyMember(localID: NodeID, isMember: (NodeID) -> Bool)
    }

    private let expectation: Expectation
    private let handshakeTimeout: TimeAmount
    private let logger: Logger
    private let onAuthenticated: (Channel, NodeID) -> Void
    private let onRefused: () -> Void
    private var authenticatedID: NodeID?
    private var refused = false
    private var timeout: Scheduled<Void>?

    init(
        expectation: Expectation,
        handshakeTimeout: TimeAmount,
        logger: Logger,
        onAuthenticated: @escaping (Channel, NodeID) -> Void,
        onRefused: @escaping () -> Void
    ) {
        self.expectation = expectation
        self.handshakeTimeout = handshakeTimeout
        self.logger = logger
        self.onAuthenticated = onAuthenticated
        self.onRefused = onRefused
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        timeout = context.eventLoop.assumeIsolated().scheduleTask(in: handshakeTimeout) { [weak self] in
            guard let self, self.authenticatedID == nil else { return }
            self.refuse(channel: channel, reason: "no authenticated TLS handshake within \(self.handshakeTimeout.nanoseconds / 1_000_000) ms")
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timeout?.cancel()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event, authenticatedID == nil, !refused {
            authenticate(context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard authenticatedID != nil else {
            // Unreachable through NIOSSL (it reports the handshake before any data), kept as a guard.
            refuse(channel: context.channel, reason: "application data before authentication")
            return
        }
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if authenticatedID == nil {
            refuse(channel: context.channel, reason: Self.describeHandshakeFailure(error))
        } else {
            context.fireErrorCaught(error)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        timeout?.cancel()
        if authenticatedID == nil && !refused {
            refused = true
            onRefused()
            logger.debug("connection closed before authentication", metadata: ["remote": "\(Self.remote(context.channel))"])
        }
        context.fireChannelInactive()
    }

    private func authenticate(context: ChannelHandlerContext) {
        let peerID: NodeID
        do {
            guard let presented = try context.pipeline.syncOperations.nioSSL_peerCertificate() else {
                refuse(channel: context.channel, reason: "the peer presented no certificate")
                return
            }
            let certificate = try Certificate(derEncoded: presented.toDERBytes())
            peerID = try CertificateChecker.nodeID(of: certificate)
        } catch let error as PKIError {
            refuse(channel: context.channel, reason: error.description)
            return
        } catch {
            refuse(channel: context.channel, reason: "unreadable peer certificate: \(error)")
            return
        }
        switch expectation {
        case let .peer(expected):
            guard peerID == expected else {
                refuse(channel: context.channel, reason: "dialed node\(expected) but the certificate names node\(peerID)")
                return
            }
        case let .anyMember(localID, isMember):
            guard peerID != localID else {
                refuse(channel: context.channel, reason: "the certificate names this node (node\(localID))")
                return
            }
            guard isMember(peerID) else {
                refuse(channel: context.channel, reason: "node\(peerID) is not a member of this cluster")
                return
            }
        }
        authenticatedID = peerID
        timeout?.cancel()
        onAuthenticated(context.channel, peerID)
        context.fireUserInboundEventTriggered(PeerAuthenticatedEvent(peerID: peerID))
    }

    private func refuse(channel: Channel, reason: String) {
        guard !refused else { return }
        refused = true
        onRefused()
        let role: String
        switch expectation {
        case let .peer(expected): role = "connection to node\(expected)"
        case .anyMember: role = "inbound connection"
        }
        logger.warning("\(role) refused: \(reason)", metadata: ["remote": "\(Self.remote(channel))"])
        channel.close(promise: nil)
    }

    static func remote(_ channel: Channel) -> String {
        channel.remoteAddress.map { "\($0)" } ?? "unknown"
    }

    /// Names the usual causes so an operator can tell a plaintext client from a foreign CA.
    static func describeHandshakeFailure(_ error: Error) -> String {
        let text = String(describing: error)
        if text.contains("WRONG_VERSION_NUMBER") || text.contains("HTTP_REQUEST") || text.contains("UNKNOWN_PROTOCOL") {
            return "TLS handshake failed: the peer does not speak TLS (plaintext?): \(text)"
        }
        if text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("UNKNOWN_CA") {
            return "TLS handshake failed: certificate not issued by the cluster CA: \(text)"
        }
        if text.contains("PEER_DID_NOT_RETURN_A_CERTIFICATE") {
            return "TLS handshake failed: the peer presented no client certificate: \(text)"
        }
        if text.contains("UNSUPPORTED_PROTOCOL") || text.contains("PROTOCOL_VERSION") {
            return "TLS handshake failed: the peer does not offer TLS 1.3: \(text)"
        }
        return "TLS handshake failed: \(text)"
    }
}
