import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Turns transport errors into short details for outcomes and logs.
///
/// Why not `"\(error)"`: some errors print the URL or peer they were talking to, and a webhook URL can
/// carry a secret (Slack's incoming-webhook path is one) or identify a person. Only the kind of failure
/// and the operating system's reason are kept.
enum NetworkErrorSummary {
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as HTTPClientError:
            return error.description
        case let error as NIOConnectionError:
            if let first = error.connectionErrors.first {
                return "connection failed: \(describe(first.error))"
            }
            if error.dnsAError != nil || error.dnsAAAAError != nil { return "name resolution failed" }
            return "connection failed"
        case let error as IOError:
            return String(cString: strerror(error.errnoCode))
        case let error as ChannelError:
            switch error {
            case .connectTimeout: return "connect timeout"
            case .ioOnClosedChannel, .alreadyClosed, .eof, .outputClosed, .inputClosed: return "connection closed"
            default: return "channel error"
            }
        case let error as NIOSSLError:
            return "TLS: \(error)"
        case let error as BoringSSLError:
            return "TLS: \(error)"
        case is NIOSSLExtraError:
            return "TLS: the certificate does not name the server"
        case is CancellationError:
            return "cancelled"
        default:
            return "\(type(of: error))"
        }
    }
}
