/// Runs many whole-node seeds and summarises them; stops at the first violation so it can be replayed.
public struct WholeNodeRunner: Sendable {
    /// The outcome of a batch of seeds.
    public struct Summary: Sendable {
        public var nodes: Int
        public var seedsRun = 0
        public var violations = 0
        public var firstFailure: (seed: UInt64, violation: PromiseViolation)?
        public var stats = WholeNodeStats()
        public var stoppedByTimeLimit = false

        public init(nodes: Int) { self.nodes = nodes }

        public var line: String {
            "seeds=\(seedsRun) violations=\(violations) nodes=\(nodes) " + stats.line + (stoppedByTimeLimit ? " (time limit reached)" : "")
        }

        /// Adds another batch's figures; the failure with the lowest seed is kept.
        public mutating func merge(_ other: Summary) {
            seedsRun += other.seedsRun
            violations += other.violations
            stats.add(other.stats)
            stoppedByTimeLimit = stoppedByTimeLimit || other.stoppedByTimeLimit
            if let failure = other.firstFailure, firstFailure.map({ failure.seed < $0.seed }) ?? true { firstFailure = failure }
        }
    }

    public var template: WholeNodeOptions

    public init(template: WholeNodeOptions) {
        self.template = template
    }

    /// Runs the seeds `seeds` yields; `shouldStop` is asked between seeds (for a wall-clock limit kept outside).
    public func run(seeds: some Sequence<UInt64>, shouldStop: () -> Bool = { false }) -> Summary {
        var summary = Summary(nodes: template.nodeCount)
        for seed in seeds {
            if shouldStop() {
                summary.stoppedByTimeLimit = true
                break
            }
            var options = template
            options.seed = seed
            options.trace = false
            let cluster = WholeNodeCluster(options: options)
            summary.seedsRun += 1
            do {
                try cluster.run()
                summary.stats.add(cluster.stats)
            } catch {
                summary.violations += 1
                summary.firstFailure = (seed, error)
                break
            }
        }
        return summary
    }
}
