import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Testing

extension ProcessTests {
    /// How a node stops on SIGTERM while clients hold connections to its API.
    @Suite("stopping")
    struct StopProcessTests {
        /// A TLS client that makes one request, then reads nothing more: it never answers the server's
        /// close_notify, as a client process that is busy or paused would not.
        final class SilentClient: ChannelInboundHandler, @unchecked Sendable {
            typealias InboundIn = ByteBuffer
            let answered: EventLoopPromise<Void>
            init(answered: EventLoopPromise<Void>) { self.answered = answered }

            func channelRead(context: ChannelHandlerContext, data: NIOAny) {
                // The first bytes of the answer: stop reading from here on.
                context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in self.answered.succeed(()) }
            }
        }

        @Test("a node stops within a few seconds of SIGTERM although a client's idle connection never answers its close_notify")
        func silentClientDoesNotHoldTheStop() async throws {
            let cluster = try ProcessCluster(nodes: 3)
            for id in cluster.ids { try cluster.start(id) }
            let leader = try #require(await cluster.waitForLeader(timeout: .seconds(30)))
            let follower = try #require(cluster.ids.first { $0 != leader })

            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(cluster.caPath))
            let context = try NIOSSLContext(configuration: tls)
            let group = MultiThreadedEventLoopGroup.singleton
            let answered = group.next().makePromise(of: Void.self)
            let channel = try await ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                        try channel.pipeline.syncOperations.addHandler(SilentClient(answered: answered))
                    }
                }
                .connect(host: "127.0.0.1", port: cluster.basePort + 100 + Int(follower)).get()
            defer { channel.close(promise: nil) }
            try await channel.writeAndFlush(ByteBuffer(string: "GET /healthz HTTP/1.1\r\nHost: vigil\r\n\r\n")).get()
            try await answered.futureResult.get()

            let started = ContinuousClock.now
            let exit = await cluster.terminate(follower)
            let took = ContinuousClock.now - started
            #expect(exit == 0, "\(cluster.logTail(follower))")
            // NIOSSL's default would wait 5 s for the client's close_notify, with the API closed and the Raft
            // member still running; followers forwarding to it on HTTP met refused connects all that while.
            #expect(took < .seconds(3), "the node took \(took) to stop\n\(cluster.logTail(follower))")
        }
    }
}
