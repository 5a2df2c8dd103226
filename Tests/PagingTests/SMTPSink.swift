import ClusterPKI
import Foundation
import NIOSSL
#if canImport(Glibc)
import Glibc
#endif

/// A real SMTP server: aiosmtpd (PyPI) in a Python child process on 127.0.0.1, optionally with
/// STARTTLS or implicit TLS and AUTH. Each accepted message is parsed by Python's `email` package (an
/// independent MIME parser) and written as JSON to the sink's directory.
final class SMTPSink: @unchecked Sendable {
    struct Options {
        var startTLS = false
        var implicitTLS = false
        var requireStartTLS = false
        var credentials: (user: String, password: String)?
        var authWithoutTLS = false
    }

    /// A CA and a certificate for 127.0.0.1 the server presents; `caCertificate` is what clients trust.
    struct Certificates {
        let certificatePath: String
        let keyPath: String
        let caCertificate: NIOSSLCertificate

        static func make(in directory: URL) throws -> Certificates {
            let ca = try ClusterCA.create(clusterName: "smtp-test")
            let server = try ca.issueCredentials(forName: "localhost", nodeID: 1, ipAddresses: ["127.0.0.1"])
            let caPath = directory.appendingPathComponent("ca.pem").path
            try ca.write(certificatePath: caPath, privateKeyPath: directory.appendingPathComponent("ca.key").path)
            let certificatePath = directory.appendingPathComponent("server.pem").path
            let keyPath = directory.appendingPathComponent("server.key").path
            try server.write(certificatePath: certificatePath, privateKeyPath: keyPath)
            return Certificates(certificatePath: certificatePath, keyPath: keyPath,
                                caCertificate: try NIOSSLCertificate.fromPEMFile(caPath)[0])
        }
    }

    static let script = #"""
    import argparse, email, email.policy, json, os, socket, ssl, sys, time
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--cert"); p.add_argument("--key")
    p.add_argument("--starttls", action="store_true")
    p.add_argument("--implicit-tls", action="store_true")
    p.add_argument("--require-starttls", action="store_true")
    p.add_argument("--user"); p.add_argument("--password")
    p.add_argument("--auth-without-tls", action="store_true")
    a = p.parse_args()

    class Handler:
        count = 0
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address.startswith("reject"):
                return "550 5.1.1 <%s>: Recipient address rejected" % address
            if address.startswith("later"):
                return "451 4.3.0 <%s>: try again later" % address
            envelope.rcpt_tos.append(address)
            return "250 OK"
        async def handle_DATA(self, server, session, envelope):
            Handler.count += 1
            raw = envelope.original_content or envelope.content
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            parts = [{"content_type": part.get_content_type(), "charset": part.get_content_charset(),
                      "text": part.get_content()} for part in msg.walk() if not part.is_multipart()]
            record = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos, "tls": session.ssl is not None,
                      "auth_user": session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None,
                      "auth_mechanism": getattr(session, "vigil_mechanism", None),
                      "headers": {k: str(v) for k, v in msg.items()}, "content_type": msg.get_content_type(),
                      "parts": parts, "raw": raw.decode("utf-8", "replace"),
                      "defects": [str(d) for part in msg.walk() for d in part.defects]}
            path = os.path.join(a.dir, "message-%03d.json" % Handler.count)
            with open(path + ".tmp", "w") as f:
                json.dump(record, f)
            os.rename(path + ".tmp", path)
            return "250 2.0.0 Message accepted"

    def authenticator(server, session, envelope, mechanism, auth_data):
        session.vigil_mechanism = mechanism
        if isinstance(auth_data, LoginPassword) and auth_data.login.decode() == a.user and auth_data.password.decode() == a.password:
            return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)

    context = None
    if a.cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(a.cert, a.key)
    probe = socket.socket(); probe.bind(("127.0.0.1", 0)); port = probe.getsockname()[1]; probe.close()
    kwargs = dict(hostname="127.0.0.1", port=port, decode_data=False, require_starttls=a.require_starttls,
                  auth_require_tls=not a.auth_without_tls)
    if a.starttls: kwargs["tls_context"] = context
    if a.implicit_tls:
        # aiosmtpd only counts STARTTLS as TLS when deciding whether to offer AUTH; here all is TLS.
        kwargs["ssl_context"] = context; kwargs["server_hostname"] = "localhost"; kwargs["auth_require_tls"] = False
    if a.user: kwargs["authenticator"] = authenticator
    controller = Controller(Handler(), **kwargs)
    controller.start()
    with open(os.path.join(a.dir, "ready.tmp"), "w") as f:
        f.write(str(port))
    os.rename(os.path.join(a.dir, "ready.tmp"), os.path.join(a.dir, "ready"))
    sys.stdin.read()  # until the test closes our stdin or kills us
    controller.stop()
    """#

    let directory: URL
    let port: Int
    private let process: Process
    private let stdin: Pipe

    private init(directory: URL, port: Int, process: Process, stdin: Pipe) {
        self.directory = directory
        self.port = port
        self.process = process
        self.stdin = stdin
    }

    deinit { stop() }

    /// Starts the server and waits (at most 20 s) until it listens.
    static func start(_ options: Options = Options(), certificates: Certificates? = nil) async throws -> SMTPSink {
        let directory = try Fixtures.temporaryDirectory("smtp")
        let scriptPath = directory.appendingPathComponent("smtp_sink.py")
        try script.write(to: scriptPath, atomically: true, encoding: .utf8)
        var arguments = ["python3", scriptPath.path, "--dir", directory.path]
        if let certificates { arguments += ["--cert", certificates.certificatePath, "--key", certificates.keyPath] }
        if options.startTLS { arguments.append("--starttls") }
        if options.implicitTLS { arguments.append("--implicit-tls") }
        if options.requireStartTLS { arguments.append("--require-starttls") }
        if let credentials = options.credentials { arguments += ["--user", credentials.user, "--password", credentials.password] }
        if options.authWithoutTLS { arguments.append("--auth-without-tls") }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let stdin = Pipe()
        process.standardInput = stdin
        let logPath = directory.appendingPathComponent("server.log").path
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let readyPath = directory.appendingPathComponent("ready").path
        let deadline = ContinuousClock.now.advanced(by: .seconds(20))
        while ContinuousClock.now < deadline, process.isRunning {
            if let text = try? String(contentsOfFile: readyPath, encoding: .utf8), let port = Int(text) {
                return SMTPSink(directory: directory, port: port, process: process, stdin: stdin)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let output = (try? String(contentsOf: directory.appendingPathComponent("server.log"), encoding: .utf8)) ?? ""
        if process.isRunning { process.terminate() }
        throw TestError("""
            aiosmtpd did not start within 20 s (needs `pip install aiosmtpd` for python3 on PATH); its output:
            \(output.suffix(2_000))
            """)
    }

    /// The messages received so far, in order.
    var messages: [[String: Any]] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasPrefix("message-") && $0.hasSuffix(".json") }.sorted()
        return names.compactMap { name in
            (try? Data(contentsOf: directory.appendingPathComponent(name)))
                .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        }
    }

    /// Stops the server with SIGKILL (it holds nothing worth a clean stop) and waits at most 2 s for it.
    func stop() {
        try? stdin.fileHandleForWriting.close()
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        let until = Date().addingTimeInterval(2)
        while process.isRunning, Date() < until { usleep(10_000) }
        if ProcessInfo.processInfo.environment["VIGIL_KEEP_TEST_DIRS"] == nil {
            try? FileManager.default.removeItem(at: directory)
        }
    }
}
