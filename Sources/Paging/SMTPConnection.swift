import NIOCore
import NIOPosix
import NIOSSL

/// One TCP (or TLS) connection to an SMTP server: write a command, wait for its reply with a timeout.
struct SMTPConnection: Sendable {
    let channel: any Channel
    let handler: NIOLoopBound<SMTPReplyHandler>

    static func open(host: String, port: Int, implicitTLS: NIOSSLContext?, group: any EventLoopGroup,
                     connectTimeout: Duration) async throws(SMTPError) -> SMTPConnection {
        let serverHostname = serverNameIndication(for: host)
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.nanoseconds(connectTimeout.nanosecondsClamped))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let implicitTLS {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: implicitTLS, serverHostname: serverHostname))
                    }
                    try channel.pipeline.syncOperations.addHandler(SMTPReplyHandler())
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            throw .connectionFailed(reason: NetworkErrorSummary.describe(error))
        }
        do {
            let handler = try await channel.eventLoop.submit {
                NIOLoopBound(try channel.pipeline.syncOperations.handler(type: SMTPReplyHandler.self), eventLoop: channel.eventLoop)
            }.get()
            return SMTPConnection(channel: channel, handler: handler)
        } catch {
            channel.close(promise: nil)
            throw .connectionClosed(step: .connect)
        }
    }

    /// SNI and certificate name checks want a host name; for an IP address NIOSSL checks the
    /// certificate's IP SANs against the peer address instead.
    static func serverNameIndication(for host: String) -> String? {
        (try? SocketAddress(ipAddress: host, port: 0)) == nil ? host : nil
    }

    /// Waits for a reply without sending anything (the greeting).
    func readReply(step: SMTPStep, timeout: Duration) async throws(SMTPError) -> SMTPReply {
        try await exchange(nil, step: step, timeout: timeout)
    }

    /// Sends `line` plus CRLF and waits for the reply.
    func command(_ line: String, step: SMTPStep, timeout: Duration) async throws(SMTPError) -> SMTPReply {
        try await exchange(Array((line + "\r\n").utf8), step: step, timeout: timeout)
    }

    /// Sends raw bytes (the dot-stuffed message with its terminating ".") and waits for the reply.
    func sendData(_ bytes: [UInt8], step: SMTPStep, timeout: Duration) async throws(SMTPError) -> SMTPReply {
        try await exchange(bytes, step: step, timeout: timeout)
    }

    private func exchange(_ bytes: [UInt8]?, step: SMTPStep, timeout: Duration) async throws(SMTPError) -> SMTPReply {
        let promise = channel.eventLoop.makePromise(of: SMTPReply.self)
        let channel = self.channel
        let handler = self.handler
        channel.eventLoop.execute {
            // The wait starts before the write, so the timeout covers both.
            handler.value.waitForReply(step: step, timeout: .nanoseconds(timeout.nanosecondsClamped),
                                       mustBeFirst: bytes != nil, promise: promise)
            guard let bytes else { return }
            channel.writeAndFlush(ByteBuffer(bytes: bytes)).whenFailure { error in
                let reason = NetworkErrorSummary.describe(error)
                handler.value.fail { step in .networkError(step: step, reason: reason) }
            }
        }
        do {
            return try await promise.futureResult.get()
        } catch let error as SMTPError {
            throw error
        } catch {
            throw .networkError(step: step, reason: NetworkErrorSummary.describe(error))
        }
    }

    /// Arms the STARTTLS guard; call right before sending STARTTLS.
    func armTLSGuard() async {
        let handler = self.handler
        try? await channel.eventLoop.submit { handler.value.armTLSGuard() }.get()
    }

    /// Adds TLS under the reply handler after a 220 to STARTTLS; the handshake runs on the next write.
    func startTLS(context: NIOSSLContext, host: String) async throws(SMTPError) {
        let handler = self.handler
        let serverHostname = Self.serverNameIndication(for: host)
        let result: Result<Void, SMTPError>
        do {
            result = try await channel.eventLoop.submit { () -> Result<Void, SMTPError> in
                let tls: NIOSSLClientHandler
                do {
                    tls = try NIOSSLClientHandler(context: context, serverHostname: serverHostname)
                } catch {
                    return .failure(.tlsFailed(reason: NetworkErrorSummary.describe(error)))
                }
                do throws(SMTPError) {
                    try handler.value.startTLS(tls)
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }.get()
        } catch {
            throw .networkError(step: .startTLS, reason: NetworkErrorSummary.describe(error))
        }
        try result.get()
    }

    func close() async {
        try? await channel.close().get()
    }
}
