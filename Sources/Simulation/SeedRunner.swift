import RaftCore

/// Runs many seeds and summarises them; stops at the first violation so it can be replayed.
public struct SeedRunner {
    /// The outcome of a batch of seeds.
    public struct Summary: Sendable {
        public var nodes: Int
        public var seedsRun = 0
        public var violations = 0
        public var firstFailure: (seed: UInt64, violation: Violation)? = nil
        public var stats = SimStats()
        public var stoppedByTimeLimit = false

        public var line: String {
            "seeds=\(seedsRun) violations=\(violations) nodes=\(nodes) committed=\(stats.committedEntries) acked=\(stats.writesAcknowledged) "
                + "reads=\(stats.readsServed) elections=\(stats.elections) crashes=\(stats.crashes) partitions=\(stats.partitions) "
                + "transfers=\(stats.transfers) confchanges=\(stats.membershipChanges) snapshots=\(stats.snapshotsTaken) "
                + "checks=\(stats.checks) messages=\(stats.messagesSent)" + (stoppedByTimeLimit ? " (time limit reached)" : "")
        }
    }

    public var template: SimOptions

    public init(template: SimOptions) {
        self.template = template
    }

    /// Runs seeds `first ..< first + count`; `shouldStop` is asked between seeds (for a wall-clock limit kept outside).
    public func run(firstSeed: UInt64, count: Int, shouldStop: () -> Bool = { false }) -> Summary {
        var summary = Summary(nodes: template.nodeCount)
        for offset in 0..<count {
            if shouldStop() { summary.stoppedByTimeLimit = true; break }
            var options = template
            options.seed = firstSeed + UInt64(offset)
            options.trace = false
            let cluster = SimCluster(options: options)
            do {
                try cluster.run()
                summary.stats.add(cluster.stats)
                summary.seedsRun += 1
            } catch {
                summary.seedsRun += 1
                summary.violations += 1
                summary.firstFailure = (options.seed, error)
                break
            }
        }
        return summary
    }
}
