import NodeSimulation
import Testing

/// The whole-node simulator keeps its own promises: a clean run finds nothing, a seed replays exactly, and each
/// planted bug is caught by the checker meant for it. (`Tests/run.sh` runs thousands of seeds in release.)
@Suite struct WholeNodeSimulationTests {
    /// Runs `options`; the violation, if any.
    static func violation(_ options: WholeNodeOptions) -> PromiseViolation? {
        do {
            try WholeNodeCluster(options: options).run()
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: [(3, UInt64(1)), (3, 2), (5, 3)])
    func aCleanClusterKeepsThePagingPromise(nodes: Int, seed: UInt64) {
        var options = WholeNodeOptions()
        options.nodeCount = nodes
        options.seed = seed
        let cluster = WholeNodeCluster(options: options)
        #expect(throws: Never.self) { try cluster.run() }
        // The run did what it is for: alerts paged, leaders changed, nodes crashed, entries committed.
        #expect(cluster.stats.pagesSent > 0 && cluster.stats.elections > 0 && cluster.stats.committedEntries > 20, "\(cluster.stats.line)")
    }

    /// A node that finds a corrupt record at start-up stays down; the operator's replacement (remove it, add a new
    /// node as a learner, promote it) completes, the new node gets the state from a peer's snapshot, and the promise
    /// holds throughout.
    @Test(arguments: [(3, UInt64(4)), (5, 5)])
    func aNodeThatRefusesItsLogIsReplacedFromItsPeers(nodes: Int, seed: UInt64) {
        var options = WholeNodeOptions()
        options.nodeCount = nodes
        options.seed = seed
        options.corruptRecordRate = 1
        options.trace = true
        let cluster = WholeNodeCluster(options: options)
        #expect(throws: Never.self) { try cluster.run() }
        #expect(cluster.stats.corruptRecords >= 1 && cluster.stats.nodesReplaced == cluster.stats.corruptRecords, "\(cluster.stats.line)")
        let newNode = nodes + 1
        #expect(cluster.trace.contains { $0.contains("node \(newNode) installs a snapshot") })
        #expect(cluster.trace.contains { $0.contains("node \(newNode) replaced node") })
    }

    @Test func oneSeedReplaysExactly() {
        var options = WholeNodeOptions.aggressive(nodes: 3, seed: 11, bug: nil)
        options.trace = true
        let first = WholeNodeCluster(options: options), second = WholeNodeCluster(options: options)
        try? first.run()
        try? second.run()
        #expect(!first.trace.isEmpty)
        #expect(first.trace == second.trace)
        #expect(first.stats.line == second.stats.line)
    }

    /// The first seed (of at most `seeds`, with faults aimed at senders) on which `bug` is caught, and by what.
    static func caught(_ bug: WholeNodeBug, seeds: ClosedRange<UInt64> = 1...40) -> PromiseViolation? {
        for seed in seeds {
            if let violation = violation(.aggressive(nodes: 3, seed: seed, bug: bug)) { return violation }
        }
        return nil
    }

    @Test(arguments: [
        (WholeNodeBug.scheduler(.sendBeforeIntentCommits), PromiseViolation.Property.unfencedSend),
        (.scheduler(.forgetUnfinishedIntents), .lateForDeadline),
        (.scheduler(.outcomeRecordedTwice), .sentTwiceInOneTerm),
        (.applyReadsWallClock, .replicasDiverged),
    ])
    func aPlantedBugIsCaughtByItsChecker(bug: WholeNodeBug, by property: PromiseViolation.Property) {
        let violation = Self.caught(bug)
        #expect(violation?.property == property, "\(bug.rawValue): \(violation.map { "\($0)" } ?? "not caught in 40 seeds")")
    }
}
