import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// Listens for customers' mail (`intake.smtp`): one `SMTPSession` per connection, STARTTLS with the node's
/// certificate, and each message handed to `deliver`, which answers only once the cluster has recorded it.
final class SMTPIntakeServer: Sendable {
    static let maxConnections = 200
    static let idleTimeout = TimeAmount.minutes(5)

    private let settings: SMTPIntakeSettings
    private let hostname: String
    private let tls: NIOSSLContext?
    private let deliver: @Sendable (SMTPSession.Envelope) async -> String
    private let logger: Logger
    private let connections = Mutex(0)

    init(settings: SMTPIntakeSettings, hostname: String, tls: NIOSSLContext?, logger: Logger,
         deliver: @escaping @Sendable (SMTPSession.Envelope) async -> String) {
        self.settings = settings
        self.hostname = hostname
        self.tls = tls
        self.logger = logger
        self.deliver = deliver
    }

    /// Binds the listener; the channel closes when the node stops.
    func start(group: any EventLoopGroup) async throws -> any Channel {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 128)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: Self.idleTimeout))
                    try channel.pipeline.syncOperations.addHandler(SMTPConnectionHandler(server: self))
                }
            }
            .bind(host: settings.listen.host, port: settings.listen.port).get()
        logger.info("SMTP intake listening", metadata: [
            "address": "\(channel.localAddress?.description ?? "?")", "starttls": "\(tls != nil)",
            "mailboxes": "\(settings.mailboxes.count)",
        ])
        return channel
    }

    fileprivate func makeSession() -> SMTPSession {
        let settings = settings
        return SMTPSession(hostname: hostname, maxMessageBytes: settings.maxMessageBytes, offersTLS: tls != nil,
                           acceptsRecipient: { settings.mailbox(for: $0) != nil })
    }

    fileprivate func makeTLSHandler() -> NIOSSLServerHandler? { tls.map { NIOSSLServerHandler(context: $0) } }

    fileprivate func opened() -> Bool {
        connections.withLock { count in
            guard count < Self.maxConnections else { return false }
            count += 1
            return true
        }
    }

    fileprivate func closed() { connections.withLock { $0 -= 1 } }

    fileprivate func handOver(_ envelope: SMTPSession.Envelope) async -> String { await deliver(envelope) }
}

/// Splits the byte stream into lines for the session and carries out its actions.
private final class SMTPConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let server: SMTPIntakeServer
    private var session: SMTPSession
    private var pending: [UInt8] = []
    /// Set while a message is with the cluster: later lines wait (pipelined commands are answered in order).
    private var delivering = false
    private var counted = false
    private var skippingLongLine = false

    init(server: SMTPIntakeServer) {
        self.server = server
        self.session = server.makeSession()
    }

    func channelActive(context: ChannelHandlerContext) {
        guard server.opened() else {
            write(context, "421 4.7.0 too many connections; try again later")
            context.close(promise: nil)
            return
        }
        counted = true
        write(context, session.greeting)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if counted { server.closed(); counted = false }
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent, !delivering {
            write(context, "421 4.4.2 idle too long; closing")
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if let bytes = buffer.readBytes(length: buffer.readableBytes) { pending.append(contentsOf: bytes) }
        processLines(context)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func processLines(_ context: ChannelHandlerContext) {
        var start = 0
        defer { pending.removeFirst(start) }
        while !delivering, context.channel.isActive {
            guard let newline = pending[start...].firstIndex(of: 10) else {
                // No line end yet: a command line over the limit is refused; DATA lines are bounded by the message size.
                let limit = session.phase == .data ? SMTPSession.maxCommandLineBytes * 256 : SMTPSession.maxCommandLineBytes
                if pending.count - start > limit {
                    run(session.lineTooLong(), context)
                    start = pending.count
                    skippingLongLine = true
                }
                return
            }
            var end = newline
            if end > start, pending[end - 1] == 13 { end -= 1 }
            let line = pending[start..<end]
            start = newline + 1
            if skippingLongLine { skippingLongLine = false; continue }
            let actions = session.receive(line: line)
            if actions.contains(.startTLS), start < pending.count {
                // RFC 3207: what came after STARTTLS in the same packet was sent in the clear; it must not count.
                write(context, "501 5.5.1 nothing may follow STARTTLS before the handshake")
                context.close(promise: nil)
                return
            }
            run(actions, context)
        }
    }

    private func run(_ actions: [SMTPSession.Action], _ context: ChannelHandlerContext) {
        for action in actions {
            switch action {
            case let .reply(text): write(context, text)
            case .startTLS:
                guard let handler = server.makeTLSHandler() else { continue }
                // The 220 has passed the pipeline's head already, so it goes out in the clear, as it must.
                do {
                    try context.pipeline.syncOperations.addHandler(handler, position: .first)
                } catch {
                    context.close(promise: nil)
                }
            case .close:
                context.close(promise: nil)
            case let .deliver(envelope):
                delivering = true
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                let server = server
                let eventLoop = context.eventLoop
                Task {
                    let reply = await server.handOver(envelope)
                    eventLoop.execute {
                        let (handler, context) = bound.value
                        handler.delivering = false
                        handler.run(handler.session.finished(with: reply), context)
                        handler.pending.isEmpty ? () : handler.processLines(context)
                    }
                }
            }
        }
    }

    private func write(_ context: ChannelHandlerContext, _ text: String) {
        var buffer = context.channel.allocator.buffer(capacity: text.utf8.count + 2)
        buffer.writeString(text)
        buffer.writeString("\r\n")
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }
}
