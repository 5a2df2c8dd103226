import ArgumentParser
import VigilNode

/// `vigil init`: a new cluster's CA, node certificates and configs.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a cluster CA, one key and certificate per node and one vigil.yaml per node.")

    @Option(help: "Number of nodes (1-7) on --host.") var nodes: Int?
    @Option(name: .customLong("member"),
            help: ArgumentHelp("One node on its own host, as ID=HOST:PEER_PORT:API_PORT; repeat for every node.",
                               discussion: "HOST is a DNS name or IP address (IPv6 in brackets); it goes into the node's certificate."))
    var memberSpecs: [String] = []
    @Option(help: "Directory to write the cluster into; must not hold a cluster already.") var dir: String
    @Option(help: "Address every node listens on and is reached at.") var host: String = "127.0.0.1"
    @Option(name: .customLong("base-port"), help: "Node N uses peer port BASE+N and HTTP port BASE+100+N.") var basePort: Int = 7000
    @Option(name: .customLong("tick-ms"), help: "Raft tick interval in milliseconds.") var tickMilliseconds: Int = NodeConfig.RaftTiming().tickIntervalMilliseconds
    @Option(name: .customLong("election-ticks"), help: "Election timeout in ticks (randomised up to twice this).") var electionTicks: Int = NodeConfig.RaftTiming().electionTimeoutTicks
    @Option(name: .customLong("heartbeat-ticks"), help: "Leader heartbeat interval in ticks.") var heartbeatTicks: Int = NodeConfig.RaftTiming().heartbeatIntervalTicks
    @Option(name: .customLong("snapshot-every"), help: "Compact the log after this many applied entries.") var snapshotEvery: Int = 10_000
    @Option(name: .customLong("snapshot-every-mb"), help: "…or once the entries since the last compaction hold this many MiB (default 64).")
    var snapshotEveryMegabytes: Int?
    @Flag(name: .customLong("plain-http"), help: "Serve the client API over plain HTTP instead of HTTPS (not for production).")
    var plainHTTP = false

    func run() throws {
        let members: [NodeConfig.Member]
        do throws(InitError) {
            members = try MemberSpec.parse(memberSpecs, nodes: nodes)
        } catch {
            throw fail(error.description, code: 2)
        }
        var timing = NodeConfig.RaftTiming(tickIntervalMilliseconds: tickMilliseconds, electionTimeoutTicks: electionTicks,
                                           heartbeatIntervalTicks: heartbeatTicks, snapshotEveryEntries: snapshotEvery)
        timing.snapshotEveryMegabytes = snapshotEveryMegabytes
        let initializer = ClusterInitializer(
            nodeCount: nodes ?? 3, directory: dir, host: host, basePort: basePort,
            timing: timing,
            plainHTTP: plainHTTP, members: members)
        do {
            let paths = try initializer.run()
            print("wrote a \(initializer.nodeCount)-node cluster to \(dir):")
            for (path, member) in zip(paths, initializer.members) {
                print("  node\(member.id): \(path)  peer \(member.peer)  api \(plainHTTP ? "http" : "https")://\(member.http)")
            }
            print("cluster CA (trust it for the API): \(dir)/ca/ca.pem")
            print("bootstrap admin token (mode 0600; issue personal tokens with it, then keep it offline): \(initializer.adminTokenPath)")
        } catch {
            throw fail(error.description, code: 2)
        }
    }
}
