import ArgumentParser
import Foundation
import RaftCore
import Simulation

/// `vigil-sim`: runs the deterministic cluster simulator over many seeds, replays one, or benchmarks the core.
@main
struct VigilSim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil-sim",
        abstract: "Deterministic Raft cluster simulation: seeded faults, safety checkers, replay.",
        discussion: "Exit status 0 when every seed passes, 1 when a checker found a violation.")

    @Option(name: .long, help: "Voters in the cluster (1-7).")
    var nodes: Int = 3

    @Option(name: .long, help: "How many seeds to run.")
    var seeds: Int = 100

    @Option(name: .long, help: "The first seed of the batch.")
    var firstSeed: UInt64 = 1

    @Option(name: .long, help: "Replay one seed with a readable trace.")
    var seed: UInt64?

    @Flag(name: .long, help: "With --seed: also trace every delivered message.")
    var traceMessages = false

    @Option(name: .long, help: "Stop starting new seeds after this many seconds (the summary says so).")
    var timeLimitSeconds: Double?

    @Option(name: .long, help: "Switch on a deliberately injected core bug (see --list-bugs).")
    var injectBug: String?

    @Flag(name: .long, help: "List the injectable bugs.")
    var listBugs = false

    @Flag(name: .long, help: "Use the aggressive fault preset (more crashes and partitions).")
    var aggressive = false

    @Flag(name: .long, help: "The aggressive preset with crashes aimed at leader changes with partial replication (reaches Figure 8).")
    var targeted = false

    @Option(name: .long, help: "Ticks of the fault phase per seed.")
    var faultTicks: Int?

    @Flag(name: .long, help: "Measure the core's throughput instead of checking seeds.")
    var bench = false

    @Option(name: .long, help: "With --bench: entries to commit.")
    var benchEntries: Int = 200_000

    @Option(name: .long, help: "With --bench: proposals per batch.")
    var benchBatch: Int = 64

    func validate() throws {
        guard (1...7).contains(nodes) else { throw ValidationError("--nodes must be between 1 and 7, got \(nodes)") }
        guard seeds >= 1 else { throw ValidationError("--seeds must be at least 1, got \(seeds)") }
        if let injectBug, InjectedBug(rawValue: injectBug) == nil {
            throw ValidationError("unknown bug '\(injectBug)'; known: \(InjectedBug.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let timeLimitSeconds, timeLimitSeconds <= 0 { throw ValidationError("--time-limit-seconds must be positive") }
    }

    func run() throws {
        if listBugs {
            for bug in InjectedBug.allCases { print(bug.rawValue) }
            return
        }
        if bench {
            let result = ThroughputBenchmark(nodes: nodes, entries: benchEntries, batch: benchBatch).run()
            print(result.line)
            return
        }
        let bug = injectBug.flatMap(InjectedBug.init(rawValue:))
        var template = targeted ? SimOptions.targeted(nodes: nodes, seed: firstSeed, bug: bug)
            : aggressive ? SimOptions.aggressive(nodes: nodes, seed: firstSeed, bug: bug) : SimOptions()
        template.nodeCount = nodes
        template.injectedBug = bug
        if let faultTicks { template.faultTicks = faultTicks }
        if let seed {
            try replay(seed: seed, template: template)
            return
        }
        let started = Date()
        let summary = SeedRunner(template: template).run(firstSeed: firstSeed, count: seeds) {
            guard let limit = timeLimitSeconds else { return false }
            return Date().timeIntervalSince(started) > limit
        }
        let seconds = Date().timeIntervalSince(started)
        print(summary.line + String(format: " seconds=%.1f", seconds))
        if let failure = summary.firstFailure {
            print("FAILED seed \(failure.seed): \(failure.violation)")
            print("replay: swift run -c release vigil-sim --nodes \(nodes) --seed \(failure.seed)" + replayFlags)
            throw ExitCode(1)
        }
    }

    private var replayFlags: String {
        (targeted ? " --targeted" : aggressive ? " --aggressive" : "") + (injectBug.map { " --inject-bug \($0)" } ?? "") + (faultTicks.map { " --fault-ticks \($0)" } ?? "")
    }

    private func replay(seed: UInt64, template: SimOptions) throws {
        var options = template
        options.seed = seed
        options.trace = true
        options.traceMessages = traceMessages
        let cluster = SimCluster(options: options)
        do {
            try cluster.run()
            for line in cluster.trace { print(line) }
            print("seed \(seed): ok \(cluster.stats)")
        } catch {
            for line in cluster.trace { print(line) }
            print("seed \(seed): \(error)")
            throw ExitCode(1)
        }
    }
}
