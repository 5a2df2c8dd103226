import AsyncHTTPClient
import NIOCore
import NIOPosix
import NIOSSL

/// Makes the HTTP client the webhook, chat and gateway channels expect; the caller owns and shuts it down.
public enum PagingHTTPClient {
    /// Redirects are disabled: a redirect could carry a signed page somewhere the operator did not
    /// configure, so a 3xx is reported as a permanent failure instead. `tlsConfiguration` nil trusts the
    /// system's roots.
    public static func make(eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                            tlsConfiguration: TLSConfiguration? = nil) -> HTTPClient {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        if let tlsConfiguration { configuration.tlsConfiguration = tlsConfiguration }
        configuration.connectionPool = .init(idleTimeout: .seconds(30))
        // The channels retry under their own policy (counted, backed off, bounded in time); the pool's own
        // reconnect loop would hide a refused connection until the attempt's timeout.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout = .init(connect: .seconds(10))
        return HTTPClient(eventLoopGroup: eventLoopGroup, configuration: configuration)
    }
}
