import ArgumentParser
import Drill
import Foundation
import Logging

/// `vigil drill`: a failover drill against a running (staging) cluster, with the commands that stop, start or
/// isolate its nodes taken from a drill file, and the checkers' verdict at the end.
struct DrillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill", abstract: "Run a failover drill against a cluster and check what clients and pagers saw.",
        discussion: """
            Writes and reads settings through every node and sends PagerDuty alerts to service `drill` (it creates \
            people drill-l<level>-<n>, paged by webhook at the drill's sink, a policy and the service) while it injects \
            faults with the drill file's commands, heals them, and checks: no acknowledged write lost, every key's \
            history linearizable, every level of every alert paged by its deadline plus --allowance-ms, never two keys \
            for one step, no page from a node cut off from the majority. Files in --out: history.jsonl, alerts.jsonl, \
            pages.jsonl, faults.jsonl, leaders.jsonl, drill.json, result.json, report.md (see chaos/README.md). \
            Exit 0 when everything held, 1 on a violation or a failed command, 2 on bad input, 3 when the cluster \
            has no leader.
            """)

    @Option(help: "The drill file (nodes, API, token, sink, commands; see chaos/README.md).") var file: String
    @Option(help: "leader-kill, leader-isolate, leader-pause, partition, disk-full, slow-disk, rolling-restart, node-replace or random.")
    var scenario: String = "random"
    @Option(help: "Seed of the fault schedule and the workload.") var seed: UInt64 = 1
    @Option(name: .customLong("duration-seconds"), help: "How long clients write while faults come and go.") var durationSeconds = 30
    @Option(help: "Clients of the settings store (client N talks to the Nth node).") var clients = 4
    @Option(help: "Keys they write and read.") var keys = 3
    @Option(help: "Levels of the drill's escalation policy.") var levels = 3
    @Option(name: .customLong("level-seconds"), help: "Seconds between levels.") var levelSeconds = 2
    @Option(name: .customLong("alert-every-ms"), help: "One PagerDuty alert this often.") var alertEveryMilliseconds = 2_000
    @Option(name: .customLong("allowance-ms"), help: "How late past its deadline a level may be paged.") var allowanceMilliseconds = 5_000
    @Option(name: .customLong("request-timeout-ms"), help: "A client request with no answer by then has an unknown outcome.")
    var requestTimeoutMilliseconds = 2_000
    @Option(help: "Folder for the drill's files.") var out: String = "drill"

    func run() async throws {
        guard let scenario = DrillScenario(rawValue: scenario) else {
            throw fail("--scenario: '\(scenario)' is not one of \(DrillScenario.allCases.map(\.rawValue).joined(separator: ", "))", code: 2)
        }
        var options = DrillOptions()
        options.scenario = scenario
        options.seed = seed
        options.durationSeconds = durationSeconds
        options.clients = clients
        options.keys = keys
        options.levels = levels
        options.levelSeconds = levelSeconds
        options.alertEveryMilliseconds = alertEveryMilliseconds
        options.allowanceMilliseconds = allowanceMilliseconds
        options.requestTimeoutMilliseconds = requestTimeoutMilliseconds
        options.outputDirectory = out
        var logger = Logger(label: "vigil.drill")
        logger.logLevel = .info
        let runner: DrillRunner
        do {
            runner = try DrillRunner(file: try DrillFile.load(path: file), options: options, logger: logger)
        } catch {
            throw fail(error.description, code: 2)
        }
        let result: DrillResult
        do {
            result = try await runner.run()
        } catch {
            throw fail(error.description, code: 3)
        }
        print("drill: \(result.summary)")
        print("report: \(out)/report.md")
        if !result.isOK { throw ExitCode(1) }
    }
}
