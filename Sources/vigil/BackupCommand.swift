import ArgumentParser
import AsyncHTTPClient
import Foundation
import VigilNode

/// `vigil backup --out FILE`: a consistent copy of the whole state at a committed index, like `etcdctl snapshot save`.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Save everything committed (settings, tickets, people, schedules, policies, articles, tokens, outbox) to a file (admin).",
        discussion: "The file is checked (header, length, SHA-256) before it is given its name; `vigil restore` writes a new cluster from it.")

    @OptionGroup var connection: ConnectionOptions
    @Option(help: "The backup file to write; must not exist.") var out: String
    @Option(name: .customLong("from-duty-snapshot"),
            help: ArgumentHelp("Write the backup from a duty-bench snapshot (DUTY_BENCH_SAVE_SNAPSHOT) instead of a cluster; for benchmarks.", visibility: .hidden))
    var dutySnapshot: String?

    func run() async throws {
        guard !FileManager.default.fileExists(atPath: out) else { throw fail("--out: \(out) already exists", code: 2) }
        if let dutySnapshot {
            do {
                let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dutySnapshot)))
                try BackupFile.write(dutySnapshot: bytes, clusterID: ClusterInitializer.newClusterID(), to: out)
            } catch let error as NodeError {
                throw fail(error.description, code: 2)
            } catch {
                throw fail("cannot read \(dutySnapshot): \((error as NSError).localizedDescription)", code: 2)
            }
            print("wrote \(out) from \(dutySnapshot)")
            return
        }
        let partial = out + ".part"
        let resolved = try await connection.resolve()
        var lastProblem = "no endpoint"
        for endpoint in resolved.endpoints {
            var request = HTTPClientRequest(url: endpoint + "/api/v1/cluster/backup")
            if let token = resolved.token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
            do {
                let response = try await resolved.client.execute(request, timeout: .seconds(600))
                guard response.status == .ok else {
                    let body = try await response.body.collect(upTo: 1 << 20)
                    let message = Connection.message(Data(body.readableBytesView))
                    if response.status.code == 503 { lastProblem = "\(endpoint): \(message)"; continue }
                    throw fail("HTTP \(response.status.code): \(message)", code: response.status.code == 401 || response.status.code == 403 ? 4 : 1)
                }
                guard FileManager.default.createFile(atPath: partial, contents: nil, attributes: [.posixPermissions: 0o600]),
                      let handle = FileHandle(forWritingAtPath: partial) else {
                    throw fail("cannot create \(partial)", code: 2)
                }
                defer { try? handle.close() }
                for try await chunk in response.body { try handle.write(contentsOf: Data(chunk.readableBytesView)) }
                try handle.synchronize()
                let header: BackupHeader
                do {
                    header = try BackupFile.verify(path: partial).header
                } catch {
                    try? FileManager.default.removeItem(atPath: partial)
                    throw fail("the backup received from \(endpoint) is damaged: \(error)", code: 3)
                }
                try FileManager.default.moveItem(atPath: partial, toPath: out)
                print("wrote \(out): cluster \(header.clusterID), index \(header.index), term \(header.term), \(header.bodyBytes) bytes of state, from node \(header.takenOnNode)")
                return
            } catch let exit as ExitCode {
                throw exit
            } catch {
                try? FileManager.default.removeItem(atPath: partial)
                lastProblem = "\(endpoint): \(error)"
            }
        }
        throw fail("the cluster is unavailable (\(lastProblem))", code: 3)
    }
}

/// `vigil restore --from FILE --dir DIR`: a new cluster, as `vigil init` writes one, whose nodes start from a backup.
struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Write a new cluster (CA, certificates, configs) whose every node starts from a backup.",
        discussion: "The file is checked completely first; a damaged, truncated or newer-format backup writes nothing. Tokens in the backup keep working; a new bootstrap admin token is written too.")

    @Option(help: "The backup file.") var from: String
    @Option(help: "Directory to write the cluster into; must not hold a cluster already.") var dir: String
    @Option(help: "Number of nodes (1-7) on --host.") var nodes: Int?
    @Option(name: .customLong("member"), help: "One node on its own host, as ID=HOST:PEER_PORT:API_PORT; repeat for every node.")
    var memberSpecs: [String] = []
    @Option(help: "Address every node listens on and is reached at.") var host: String = "127.0.0.1"
    @Option(name: .customLong("base-port"), help: "Node N uses peer port BASE+N and HTTP port BASE+100+N.") var basePort: Int = 7000
    @Flag(name: .customLong("keep-cluster-id"), help: "Keep the backup's cluster id (only when the old cluster is gone for good).")
    var keepClusterID = false
    @Flag(name: .customLong("plain-http"), help: "Serve the client API over plain HTTP instead of HTTPS (not for production).")
    var plainHTTP = false

    func run() throws {
        do throws(InitError) {
            let members = try MemberSpec.parse(memberSpecs, nodes: nodes)
            let initializer = ClusterInitializer(nodeCount: nodes ?? 3, directory: dir, host: host, basePort: basePort,
                                                 plainHTTP: plainHTTP, members: members)
            let (header, paths) = try ClusterRestorer.restore(from: from, into: initializer, keepClusterID: keepClusterID)
            print("restored index \(header.index) (term \(header.term)) of cluster \(header.clusterID) into a \(paths.count)-node cluster in \(dir):")
            for path in paths { print("  \(path)") }
            print("bootstrap admin token: \(initializer.adminTokenPath)")
        } catch {
            throw fail(error.description, code: 2)
        }
    }
}
