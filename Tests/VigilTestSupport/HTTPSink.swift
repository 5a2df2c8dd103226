import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A real HTTP/1.1 server on 127.0.0.1 (SwiftNIO) that records every request and answers from a script:
/// the n-th request gets the n-th scripted reply, and 200 once the script runs out. Shared by the channel
/// tests and the real-process paging tests.
public final class HTTPSink: Sendable {
    /// Largest request body recorded; a bigger one is answered 413.
    public static let maxBodyBytes = 1 << 20

    public struct Request: Sendable {
        public let method: String
        public let uri: String
        /// Header names lower-cased.
        public let headers: [String: [String]]
        public let body: [UInt8]
        public let receivedAt: ContinuousClock.Instant
        /// Wall-clock time of arrival, to compare with the leader's timestamps.
        public let receivedAtDate: Date

        public func header(_ name: String) -> String? { headers[name.lowercased()]?.first }
        public var bodyText: String { String(decoding: body, as: UTF8.self) }
        public func json() -> [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
        }
    }

    public struct Reply: Sendable {
        public var status: Int
        public var headers: [(String, String)] = []
        /// Wait this long before answering (to trip the client's timeout).
        public var delay: Duration = .zero

        public init(status: Int, headers: [(String, String)] = [], delay: Duration = .zero) {
            self.status = status
            self.headers = headers
            self.delay = delay
        }

        public static func status(_ status: Int, _ headers: [(String, String)] = []) -> Reply { Reply(status: status, headers: headers) }
    }

    private struct State {
        var script: [Reply]
        var requests: [Request] = []
    }

    private let state: Mutex<State>
    private let channel: Mutex<(any Channel)?> = Mutex(nil)
    private let boundPort = Mutex(0)
    public var port: Int { boundPort.withLock { $0 } }

    private init(script: [Reply]) { state = Mutex(State(script: script)) }

    public static func start(_ script: [Reply] = []) async throws -> HTTPSink {
        let sink = HTTPSink(script: script)
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(SinkHandler(sink: sink)) }
                }
            }
        let channel = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        sink.boundPort.withLock { $0 = channel.localAddress?.port ?? 0 }
        sink.channel.withLock { $0 = channel }
        return sink
    }

    public var url: String { "http://127.0.0.1:\(port)/hook" }
    public var requests: [Request] { state.withLock { $0.requests } }

    public func stop() async {
        let channel = self.channel.withLock { $0 }
        try? await channel?.close().get()
    }

    fileprivate func record(_ request: Request) -> Reply {
        state.withLock { state in
            state.requests.append(request)
            return state.script.isEmpty ? Reply(status: 200) : state.script.removeFirst()
        }
    }

    private final class SinkHandler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let sink: HTTPSink
        var head: HTTPRequestHead?
        var body: [UInt8] = []
        var tooLarge = false

        init(sink: HTTPSink) { self.sink = sink }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case let .head(head):
                self.head = head
                body = []
                tooLarge = false
            case var .body(buffer):
                if body.count + buffer.readableBytes > HTTPSink.maxBodyBytes { tooLarge = true } else { body += buffer.readBytes(length: buffer.readableBytes) ?? [] }
            case .end:
                guard let head else { return }
                var headers: [String: [String]] = [:]
                for (name, value) in head.headers { headers[name.lowercased(), default: []].append(value) }
                let reply = tooLarge ? Reply(status: 413)
                    : sink.record(Request(method: head.method.rawValue, uri: head.uri, headers: headers, body: body,
                                          receivedAt: ContinuousClock.now, receivedAtDate: Date()))
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                let respond: @Sendable () -> Void = {
                    let (handler, context) = bound.value
                    var responseHeaders = HTTPHeaders(reply.headers)
                    responseHeaders.add(name: "Content-Length", value: "2")
                    let status = HTTPResponseStatus(statusCode: reply.status)
                    context.write(handler.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: responseHeaders))), promise: nil)
                    context.write(handler.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "ok")))), promise: nil)
                    context.writeAndFlush(handler.wrapOutboundOut(.end(nil)), promise: nil)
                }
                if reply.delay > .zero {
                    context.eventLoop.scheduleTask(in: .nanoseconds(Int64(reply.delay.components.seconds) * 1_000_000_000
                                                       + reply.delay.components.attoseconds / 1_000_000_000)) { respond() }
                } else {
                    respond()
                }
            }
        }
    }
}
