import AsyncHTTPClient
import DutyModel
import Foundation
import Logging
import NIOSSL
import Paging

/// Builds the pager of one node from `paging:` in its config: the ack-link signer, the channels and the scheduler.
struct PagingRuntime {
    let signer: AckLinkSigner
    let router: ChannelRouter
    let client: HTTPClient
    let configuration: PagingSchedulerConfiguration

    /// Nil (paging disabled, logged) when the config names no ack secret: without it no link can be signed.
    static func make(config: NodeConfig, baseDirectory: String, logger: Logger) throws(NodeError) -> PagingRuntime? {
        let settings = config.paging
        guard let ackFile = settings.ackSecretFile else {
            logger.warning("paging is off: the config names no paging.ack_secret_file")
            return nil
        }
        let ackSecret = try readHexSecret(ackFile, key: "paging.ack_secret_file", baseDirectory: baseDirectory)
        let baseURL = settings.publicURL ?? "\(config.api.scheme)://\(config.httpListen.host):\(config.httpListen.port)"
        let signer: AckLinkSigner
        do {
            signer = try AckLinkSigner(secret: ackSecret, baseURL: baseURL)
        } catch {
            throw .config(.invalidValue(key: "paging", reason: error.description))
        }
        let retry = RetryPolicy(maxAttempts: settings.maxAttempts, attemptTimeout: .milliseconds(settings.attemptTimeoutMilliseconds))
        let client = PagingHTTPClient.make()
        var channels: [ContactMethod.Kind: any NotificationChannel] = [:]
        var customerMailer: CustomerMailer?
        do {
            let webhookSecret = try settings.webhookSecretFile.map { file throws(NodeError) in
                try readHexSecret(file, key: "paging.webhook_secret_file", baseDirectory: baseDirectory)
            }
            if let webhookSecret {
                channels[.webhook] = try WebhookChannel(configuration: WebhookConfiguration(secret: webhookSecret, retryPolicy: retry,
                                                                                                  senderNodeID: config.nodeID),
                                                        client: client, logger: logger)
            } else {
                logger.warning("webhook contact methods cannot be paged: the config names no paging.webhook_secret_file")
            }
            channels[.chat] = try ChatChannel(retryPolicy: retry, client: client, logger: logger)
            if let smtp = settings.smtp {
                let email = try emailConfiguration(smtp, retry: retry, baseDirectory: baseDirectory)
                channels[.email] = try EmailChannel(configuration: email, logger: logger)
                customerMailer = try CustomerMailer(configuration: email, logger: logger)
            }
            if let gateway = settings.smsGateway {
                channels[.sms] = try GatewayChannel(kind: "sms", configuration: gatewayConfiguration(gateway, retry: retry), client: client,
                                                    logger: logger)
            }
            if let gateway = settings.voiceGateway {
                channels[.phone] = try GatewayChannel(kind: "voice", configuration: gatewayConfiguration(gateway, retry: retry),
                                                      client: client, logger: logger)
            }
            if let exec = settings.exec {
                let channel = try ExecChannel(configuration: ExecConfiguration(
                    executablePath: NodeConfig.resolve(exec.path, against: baseDirectory), arguments: exec.arguments ?? [],
                    timeout: .milliseconds(settings.attemptTimeoutMilliseconds)), logger: logger)
                for kind in exec.kinds.compactMap(ContactMethod.Kind.init(rawValue:)) { channels[kind] = channel }
            }
        } catch let error as NodeError {
            try? client.syncShutdown()
            throw error
        } catch {
            try? client.syncShutdown()
            throw .config(.invalidValue(key: "paging", reason: "\(error)"))
        }
        var configuration = PagingSchedulerConfiguration(
            signer: signer, ackLinkLifetimeSeconds: settings.ackLinkLifetimeSeconds, rateLimitBurst: settings.rateLimitBurst,
            rateLimitRefillMilliseconds: settings.rateLimitRefillMilliseconds)
        configuration.customerMailer = customerMailer
        if ProcessInfo.processInfo.environment["VIGIL_UNSAFE_UNFENCED_PAGES"] == "1" {
            configuration.unsafeUnfencedPages = true
            logger.warning("UNSAFE test knob VIGIL_UNSAFE_UNFENCED_PAGES=1: every node pages what it sees due, without an intent or leadership")
        }
        let router = ChannelRouter(channels)
        logger.info("paging configured", metadata: ["channels": "\(router.configuredKinds.map(\.rawValue))"])
        return PagingRuntime(signer: signer, router: router, client: client, configuration: configuration)
    }

    static func readHexSecret(_ file: String, key: String, baseDirectory: String) throws(NodeError) -> [UInt8] {
        let path = NodeConfig.resolve(file, against: baseDirectory)
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw .config(.unreadable(path: path, reason: "cannot read the secret named by \(key)"))
        }
        let hex = text.trimmingCharacters(in: .whitespacesAndNewlines)
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) ?? hex.endIndex
            guard let byte = UInt8(hex[index..<next], radix: 16), hex.distance(from: index, to: next) == 2 else {
                throw .config(.invalidValue(key: key, reason: "\(path) must hold hexadecimal digits only (an even number of them)"))
            }
            bytes.append(byte)
            index = next
        }
        guard bytes.count >= 16 else { throw .config(.invalidValue(key: key, reason: "\(path) holds fewer than 16 bytes")) }
        return bytes
    }

    static func emailConfiguration(_ smtp: PagingSettings.SMTPSettings, retry: RetryPolicy, baseDirectory: String) throws(NodeError) -> EmailConfiguration {
        let security: SMTPConfiguration.Security = switch smtp.security ?? "starttls" {
        case "starttls_required": .startTLSRequired
        case "tls": .implicitTLS
        case "plaintext": .plaintext
        default: .startTLSIfOffered
        }
        var credentials: SMTPCredentials?
        if let username = smtp.username {
            guard let file = smtp.passwordFile else {
                throw .config(.invalidValue(key: "paging.smtp.password_file", reason: "a username needs a password file"))
            }
            let path = NodeConfig.resolve(file, against: baseDirectory)
            guard let password = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw .config(.unreadable(path: path, reason: "cannot read paging.smtp.password_file"))
            }
            credentials = SMTPCredentials(username: username, password: password.trimmingCharacters(in: .newlines))
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caCert = smtp.caCert {
            let path = NodeConfig.resolve(caCert, against: baseDirectory)
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(path))
            } catch {
                throw .config(.invalidValue(key: "paging.smtp.ca_cert", reason: "\(path): \(error)"))
            }
        }
        let port = smtp.port ?? (security == .implicitTLS ? 465 : 25)
        return EmailConfiguration(smtp: SMTPConfiguration(host: smtp.host, port: port, security: security, tlsConfiguration: tls,
                                                          credentials: credentials,
                                                          allowAuthenticationWithoutTLS: ["127.0.0.1", "localhost", "::1"].contains(smtp.host)),
                                  fromAddress: smtp.from, retryPolicy: retry)
    }

    static func gatewayConfiguration(_ gateway: PagingSettings.GatewaySettings, retry: RetryPolicy) -> GatewayConfiguration {
        let body: GatewayConfiguration.Body
        if let json = gateway.jsonBody {
            body = .json(json)
        } else if let form = gateway.form {
            body = .form(form.sorted { $0.key < $1.key }.map { GatewayConfiguration.FormField($0.key, $0.value) })
        } else {
            body = .none
        }
        return GatewayConfiguration(urlTemplate: gateway.url, method: GatewayConfiguration.Method(rawValue: (gateway.method ?? "POST").uppercased()) ?? .post,
                                    body: body, headers: (gateway.headers ?? [:]).sorted { $0.key < $1.key }.map { .init($0.key, $0.value) },
                                    retryPolicy: retry)
    }
}
