import Hummingbird
import NIOCore

/// The context of every request: the caller's address (sign-in limits) and, once `RoleMiddleware` or the
/// console has authenticated the caller, who they are.
public struct VigilRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// Nil on open routes and before authentication.
    public var principal: Principal?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
