import ArgumentParser
import Foundation
import NodeSimulation
import Synchronization

/// `vigil-nodesim`: whole nodes (Raft, the duty state machine, the paging scheduler, the outbox) under seeded faults
/// on simulated time; checks the paging promise after every step, replays one seed with a trace.
@main
struct VigilNodeSim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil-nodesim",
        abstract: "Deterministic whole-node simulation: Raft, the duty model, the paging scheduler and its receiver under faults.",
        discussion: "Exit status 0 when every seed passes, 1 when a checker found a violation (reversed by --expect-violations).")

    @Option(name: .long, help: "Voters in the cluster (1-7).")
    var nodes: Int = 3

    @Option(name: .long, help: "How many seeds to run.")
    var seeds: Int = 100

    @Option(name: .long, help: "The first seed of the batch.")
    var firstSeed: UInt64 = 1

    @Option(name: .long, help: "Replay one seed with a readable trace.")
    var seed: UInt64?

    @Option(name: .long, help: "Threads running seeds side by side (each seed is single-threaded and deterministic).")
    var jobs: Int = 2

    @Option(name: .long, help: "Stop starting new seeds after this many seconds (the summary says so).")
    var timeLimitSeconds: Double?

    @Option(name: .long, help: "Plant a bug the checkers must catch (see --list-bugs).")
    var bug: String?

    @Flag(name: .long, help: "List the bugs that can be planted.")
    var listBugs = false

    @Flag(name: .long, help: "Faults aimed at leaders while they send (more partitions, leader crashes, lost answers).")
    var aggressive = false

    @Flag(name: .long, help: "Succeed only if a checker finds a violation (with --bug: the planted bug was caught).")
    var expectViolations = false

    @Option(name: .long, help: "Simulated seconds with faults per seed.")
    var faultSeconds: Int?

    func validate() throws {
        guard (1...7).contains(nodes) else { throw ValidationError("--nodes must be between 1 and 7, got \(nodes)") }
        guard seeds >= 1 else { throw ValidationError("--seeds must be at least 1, got \(seeds)") }
        guard (1...64).contains(jobs) else { throw ValidationError("--jobs must be between 1 and 64, got \(jobs)") }
        if let bug, WholeNodeBug(rawValue: bug) == nil {
            throw ValidationError("unknown bug '\(bug)'; known: \(WholeNodeBug.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let timeLimitSeconds, timeLimitSeconds <= 0 { throw ValidationError("--time-limit-seconds must be positive") }
        if let faultSeconds, !(1...3_600).contains(faultSeconds) { throw ValidationError("--fault-seconds must be 1…3600") }
    }

    func run() throws {
        if listBugs {
            for bug in WholeNodeBug.allCases { print(bug.rawValue) }
            return
        }
        let planted = bug.flatMap(WholeNodeBug.init(rawValue:))
        var template = aggressive ? WholeNodeOptions.aggressive(nodes: nodes, seed: firstSeed, bug: planted) : WholeNodeOptions()
        template.nodeCount = nodes
        template.bug = planted
        if let faultSeconds { template.faultMillis = Int64(faultSeconds) * 1_000 }
        if let seed {
            try replay(seed: seed, template: template)
            return
        }
        let started = Date()
        let limit = timeLimitSeconds
        let runner = WholeNodeRunner(template: template)
        let total = Mutex(WholeNodeRunner.Summary(nodes: nodes))
        // Seeds are dealt out in turn; a thread stops at its first violation, the others at their next seed.
        let failed = Atomic<Bool>(false)
        let first = firstSeed, count = UInt64(seeds), threads = jobs
        DispatchQueue.concurrentPerform(iterations: threads) { lane in
            let mine = stride(from: first + UInt64(lane), to: first + count, by: threads)
            let summary = runner.run(seeds: mine) {
                failed.load(ordering: .relaxed) || limit.map { Date().timeIntervalSince(started) > $0 } ?? false
            }
            if summary.violations > 0 { failed.store(true, ordering: .relaxed) }
            total.withLock { $0.merge(summary) }
        }
        var summary = total.withLock { $0 }
        if summary.violations > 0 { summary.stoppedByTimeLimit = false }
        let seconds = Date().timeIntervalSince(started)
        print(summary.line + String(format: " seconds=%.1f", seconds) + (planted.map { " bug=\($0.rawValue)" } ?? ""))
        if let failure = summary.firstFailure {
            print("FAILED seed \(failure.seed): \(failure.violation)")
            print("replay: vigil-nodesim --nodes \(nodes) --seed \(failure.seed)" + replayFlags)
            if expectViolations {
                print("expected: a violation was found, as --expect-violations asks")
                return
            }
            throw ExitCode(1)
        }
        if expectViolations {
            print("NOT CAUGHT: no checker found a violation in \(summary.seedsRun) seeds, and --expect-violations asks for one")
            throw ExitCode(1)
        }
    }

    private var replayFlags: String {
        (aggressive ? " --aggressive" : "") + (bug.map { " --bug \($0)" } ?? "") + (faultSeconds.map { " --fault-seconds \($0)" } ?? "")
    }

    private func replay(seed: UInt64, template: WholeNodeOptions) throws {
        var options = template
        options.seed = seed
        options.trace = true
        let cluster = WholeNodeCluster(options: options)
        do {
            try cluster.run()
            for line in cluster.trace { print(line) }
            print("seed \(seed): ok \(cluster.stats.line)")
        } catch {
            for line in cluster.trace { print(line) }
            print("seed \(seed): \(error)")
            throw ExitCode(1)
        }
    }
}
