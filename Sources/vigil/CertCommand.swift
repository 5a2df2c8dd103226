import ArgumentParser
import Foundation
import VigilNode

/// `vigil cert`: node certificates, CAs and trust bundles, and their reload by running nodes.
struct CertCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cert", abstract: "Node certificates signed by the cluster CA; rotation without downtime.",
        discussion: """
            Rotating to a new CA (deploy/README.md): `vigil cert ca --out NEW`; on every node `vigil cert bundle --out \
            tls/ca.pem tls/ca.pem NEW/ca.pem` and `vigil cert reload`; then `vigil cert issue --replace --ca-dir NEW` for \
            every node and reload; last, `vigil cert bundle --out tls/ca.pem NEW/ca.pem` everywhere and reload.
            """,
        subcommands: [Issue.self, CA.self, Bundle.self, Reload.self])

    struct Issue: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a key and certificate for a node (a new member, or with --replace a re-issue) into OUT/tls/.",
            discussion: "Reads the CA key from --ca-dir (the operator's ca/ folder written by `vigil init`); it is never copied.")

        @Option(help: "The node id.") var node: UInt64
        @Option(name: .customLong("member"), help: "The node's addresses, as ID=HOST:PEER_PORT:API_PORT (ID must be --node).")
        var memberSpec: String
        @Option(name: .customLong("ca-dir"), help: "The folder holding ca.pem and ca-key.pem.") var caDirectory: String
        @Option(help: "The node's folder; the files go into its tls/ folder.") var out: String
        @Option(help: "Days the certificate is valid (default 730).") var days: Int = 730
        @Option(name: .customLong("config-from"),
                help: "A member's vigil.yaml: also write OUT/vigil.yaml for a node joining that cluster, and copy its paging secrets.")
        var configFrom: String?
        @Flag(help: "Replace the node's existing tls/node.pem and tls/node-key.pem (each swapped in whole); tls/ca.pem is left alone.")
        var replace = false

        func run() throws {
            do {
                let member = try MemberSpec.parse(memberSpec)
                guard member.id == node else {
                    throw InitError.invalidArgument("--member", "names node \(member.id), but --node is \(node)")
                }
                let paths: [String]
                if replace {
                    guard configFrom == nil else { throw InitError.invalidArgument("--config-from", "cannot be combined with --replace") }
                    paths = try ClusterInitializer.reissueNodeCertificate(caDirectory: caDirectory, member: member, nodeDirectory: out, validityDays: days)
                } else {
                    paths = try ClusterInitializer.issueNodeBundle(caDirectory: caDirectory, member: member, outDirectory: out,
                                                                   configFrom: configFrom, validityDays: days)
                }
                for path in paths { print("wrote \(path)") }
            } catch let error as InitError {
                throw fail(error.description, code: 2)
            }
        }
    }

    struct CA: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ca", abstract: "Create a new cluster CA (OUT/ca.pem, OUT/ca-key.pem) to rotate to; keep its key with the operator.")
        @Option(help: "The folder to write; existing files are never overwritten.") var out: String
        @Option(help: "A name for the CA's subject.") var name: String = "rotation"
        @Option(help: "Days the CA is valid (default 3650).") var days: Int = 3650

        func run() throws {
            do {
                for path in try ClusterInitializer.createCA(directory: out, name: name, validityDays: days) { print("wrote \(path)") }
            } catch {
                throw fail(error.description, code: 2)
            }
        }
    }

    struct Bundle: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a trust bundle: the CA certificates of SOURCES (duplicates dropped) in place of OUT, swapped in whole.",
            discussion: "OUT may be one of the SOURCES (all are read before anything is written). Reload the node afterwards.")
        @Option(help: "The bundle to write, e.g. a node's tls/ca.pem.") var out: String
        @Argument(help: "PEM files of CA certificates.") var sources: [String]

        func run() throws {
            do {
                let count = try ClusterInitializer.writeTrustBundle(sources: sources, output: out)
                print("wrote \(out) (\(count) CA certificate\(count == 1 ? "" : "s"))")
            } catch {
                throw fail(error.description, code: 2)
            }
        }
    }

    struct Reload: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make nodes re-read their certificate, key and trust bundle (as SIGHUP does), without a restart.",
            discussion: "Each endpoint is one node (default: every node of the cluster directory); a node refuses files that do not fit together and keeps its current ones.")
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            let all = try connection.resolve()
            var failures = 0
            for endpoint in all.endpoints {
                let one = Connection(endpoints: [endpoint], token: all.token, client: all.client)
                do {
                    let answer = try await one.send(.POST, "/api/v1/cluster/tls/reload")
                    guard (200..<300).contains(answer.status) else {
                        failures += 1
                        print("\(endpoint): refused (HTTP \(answer.status)): \(Connection.message(answer.body))")
                        continue
                    }
                    let object = (try? JSONSerialization.jsonObject(with: answer.body)) as? [String: Any] ?? [:]
                    let expires = (object["certificate_expires_at_ms"] as? Double).map { Date(timeIntervalSince1970: $0 / 1_000) }
                    print("\(endpoint): node \(object["node_id"] ?? "?") reloaded; certificate valid until \(expires.map { "\($0)" } ?? "?"), \(object["trusted_cas"] ?? "?") trusted CA(s)")
                } catch {
                    failures += 1
                    print("\(endpoint): unavailable")
                }
            }
            if failures > 0 { throw ExitCode(Connection.Exit.refused) }
        }
    }
}
