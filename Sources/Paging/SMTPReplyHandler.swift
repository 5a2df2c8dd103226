import NIOCore
import NIOSSL

/// The last handler of an SMTP connection: splits the server's bytes into replies and hands each to the
/// one waiting step, with that step's timeout. It runs on the channel's event loop only.
///
/// It also guards the STARTTLS switch: once armed, the reply to STARTTLS must be the last plaintext the
/// server sends; anything after it, before TLS is in place, fails the session (plaintext injected by a
/// man in the middle would otherwise be read as if it came through TLS).
final class SMTPReplyHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    /// Replies nobody asked for that we keep before calling the server broken.
    static let maxQueuedReplies = 4

    private enum TLSGuard { case off, armed, awaitingUpgrade }

    private struct Waiter {
        let promise: EventLoopPromise<SMTPReply>
        let step: SMTPStep
        let timeout: Scheduled<Void>
    }

    private var buffer = ByteBuffer()
    private var parser = SMTPReplyParser()
    private var queued: [SMTPReply] = []
    private var waiter: Waiter?
    /// Set once the session is broken; later waits fail with it (mapped to their step).
    private var failure: (@Sendable (SMTPStep) -> SMTPError)?
    private var tlsGuard = TLSGuard.off
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard failure == nil else { return }
        var bytes = unwrapInboundIn(data)
        if tlsGuard == .awaitingUpgrade {
            fail { _ in .unexpectedDataAfterStartTLS }
            return
        }
        buffer.writeBuffer(&bytes)
        while let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            let length = newline - buffer.readableBytesView.startIndex + 1
            var line = buffer.readBytes(length: length) ?? []
            line.removeLast()
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            let reply: SMTPReply?
            do {
                reply = try parser.feed(line)
            } catch {
                fail { step in .malformedReply(step: step, reason: error.description) }
                return
            }
            guard let reply else { continue }
            if tlsGuard == .armed {
                if reply.code == 220 {
                    tlsGuard = .awaitingUpgrade
                    if buffer.readableBytes > 0 {
                        fail { _ in .unexpectedDataAfterStartTLS }
                        return
                    }
                } else {
                    tlsGuard = .off
                }
            }
            deliver(reply)
            if failure != nil || tlsGuard == .awaitingUpgrade { return }
        }
        if buffer.readableBytes > SMTPReplyParser.maxLineBytes {
            fail { step in .malformedReply(step: step, reason: SMTPReplyParseError.lineTooLong.description) }
            return
        }
        buffer.discardReadBytes()
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail { step in .connectionClosed(step: step) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let reason = NetworkErrorSummary.describe(error)
        if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError {
            fail { _ in .tlsFailed(reason: reason) }
        } else {
            fail { step in .networkError(step: step, reason: reason) }
        }
    }

    // MARK: called by SMTPConnection on the event loop

    /// Completes `promise` with the next reply, or fails it after `timeout` (and closes the connection).
    /// With `mustBeFirst`, a reply already queued (sent before we asked anything) is a protocol error.
    func waitForReply(step: SMTPStep, timeout: TimeAmount, mustBeFirst: Bool, promise: EventLoopPromise<SMTPReply>) {
        if let failure { return promise.fail(failure(step)) }
        guard waiter == nil else {
            return promise.fail(SMTPError.malformedReply(step: step, reason: "two steps waiting at once (a bug in Vigil)"))
        }
        if !queued.isEmpty {
            if mustBeFirst {
                fail { step in .malformedReply(step: step, reason: "a reply arrived before the command was sent") }
                return promise.fail(failure!(step))
            }
            return promise.succeed(queued.removeFirst())
        }
        guard let context else { return promise.fail(SMTPError.connectionClosed(step: step)) }
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let scheduled = context.eventLoop.scheduleTask(in: timeout) { bound.value.timeOut() }
        waiter = Waiter(promise: promise, step: step, timeout: scheduled)
    }

    /// Called before STARTTLS is written.
    func armTLSGuard() { tlsGuard = .armed }

    /// Puts TLS below this handler once the server said 220 to STARTTLS and sent nothing else.
    func startTLS(_ tlsHandler: NIOSSLClientHandler) throws(SMTPError) {
        guard tlsGuard == .awaitingUpgrade, buffer.readableBytes == 0, queued.isEmpty, failure == nil, let context else {
            throw .unexpectedDataAfterStartTLS
        }
        do {
            try context.pipeline.syncOperations.addHandler(tlsHandler, position: .first)
        } catch {
            throw .tlsFailed(reason: NetworkErrorSummary.describe(error))
        }
        tlsGuard = .off
    }

    /// Marks the session broken with `error`, fails the waiting step, and closes the connection.
    func fail(_ error: @escaping @Sendable (SMTPStep) -> SMTPError) {
        if failure == nil { failure = error }
        if let waiter {
            self.waiter = nil
            waiter.timeout.cancel()
            waiter.promise.fail(failure!(waiter.step))
        }
        context?.close(promise: nil)
    }

    private func deliver(_ reply: SMTPReply) {
        if let waiter {
            self.waiter = nil
            waiter.timeout.cancel()
            waiter.promise.succeed(reply)
            return
        }
        queued.append(reply)
        if queued.count > Self.maxQueuedReplies {
            fail { step in .malformedReply(step: step, reason: "more than \(Self.maxQueuedReplies) replies nobody asked for") }
        }
    }

    private func timeOut() {
        guard let waiter else { return }
        let step = waiter.step
        fail { _ in .timedOut(step: step) }
    }
}
