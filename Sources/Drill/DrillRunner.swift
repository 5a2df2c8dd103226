import Foundation
import HistoryCheck
import Logging
import NIOHTTP1
import Synchronization

/// How a drill runs: its scenario and seed, its workload, and how long it lasts.
public struct DrillOptions: Sendable {
    public var scenario: DrillScenario = .random
    public var seed: UInt64 = 1
    public var durationSeconds = 30
    /// Clients of the settings store, each bound to one node (client N to the Nth node, round the list).
    public var clients = 4
    public var keys = 3
    /// The drill's escalation policy: this many levels, each this many seconds after the previous.
    public var levels = 3
    public var levelSeconds = 2
    public var alertEveryMilliseconds = 2_000
    /// How late past its deadline a level may be paged (one failover, with margin for a loaded machine).
    public var allowanceMilliseconds = 5_000
    public var requestTimeoutMilliseconds = 2_000
    public var outputDirectory = "drill"

    public init() {}

    public func validate() throws(DrillError) {
        func check(_ value: Int, _ range: ClosedRange<Int>, _ name: String) throws(DrillError) {
            guard range.contains(value) else { throw DrillError("--\(name): \(value) is not in \(range.lowerBound)…\(range.upperBound)") }
        }
        try check(durationSeconds, 10...3_600, "duration-seconds")
        try check(clients, 1...64, "clients")
        try check(keys, 1...100, "keys")
        try check(levels, 1...5, "levels")
        try check(levelSeconds, 1...60, "level-seconds")
        try check(alertEveryMilliseconds, 200...60_000, "alert-every-ms")
        try check(allowanceMilliseconds, 100...120_000, "allowance-ms")
        try check(requestTimeoutMilliseconds, 100...30_000, "request-timeout-ms")
    }
}

/// What one drill measured and what the checkers found.
public struct DrillResult: Sendable {
    public var verdict = DrillCheck.Verdict()
    public var acknowledgedWrites = 0
    public var unknownWrites = 0
    public var longestWriteMilliseconds = 0
    /// Time with no leader that a majority agreed on, summed over the drill.
    public var leaderlessMilliseconds = 0
    /// Per fault on the leader: from the injection until another node said it leads (elected by a majority).
    public var failoverMilliseconds: [Int] { failovers.map(\.milliseconds) }
    /// The same, with the kind of fault.
    public var failovers: [(kind: PlannedFault.Kind, milliseconds: Int)] = []
    public var faultsInjected = 0
    public var commandFailures: [String] = []
    public var pagesReceived = 0
    public var alertsAccepted = 0
    public var settleMilliseconds = 0

    public var isOK: Bool { verdict.isClean && commandFailures.isEmpty }

    /// The per-drill summary line.
    public var summary: String {
        let failovers = failoverMilliseconds.sorted()
        let median = failovers.isEmpty ? "-" : "\(failovers[failovers.count / 2])"
        return "ok=\(isOK ? 1 : 0) \(DrillCheck.summary(verdict)) faults=\(faultsInjected) command_failures=\(commandFailures.count) "
            + "writes_acknowledged=\(acknowledgedWrites) writes_unknown=\(unknownWrites) longest_write_ms=\(longestWriteMilliseconds) "
            + "leaderless_ms=\(leaderlessMilliseconds) failover_ms_median=\(median) alerts=\(alertsAccepted) pages=\(pagesReceived) "
            + "page_delay_ms_max=\((verdict.paging.delaysNanoseconds.max() ?? 0) / 1_000_000)"
    }
}

/// Runs one drill against a live cluster: sets up its people, policy and service, runs clients of the settings
/// store and a stream of PagerDuty alerts while it injects the plan's faults through the drill file's commands,
/// heals everything, reads every key once more, waits for the pages owed, and checks the lot.
public final class DrillRunner: Sendable {
    let file: DrillFile
    let options: DrillOptions
    let plan: [PlannedFault]
    let logger: Logger
    let clock = DrillClock()
    let http: DrillHTTP
    let sink = DrillSink()
    let recorder = DrillRecorder()
    let watcher: LeaderWatcher
    /// Set while every node is down (a power cut) until every key was read again: clients wait, so the first
    /// operation on each key after the restart is a read, which shows a write the cut lost.
    private let workloadPaused = Atomic<Bool>(false)

    public init(file: DrillFile, options: DrillOptions, logger: Logger) throws(DrillError) {
        try options.validate()
        self.file = file
        self.options = options
        self.logger = logger
        plan = try DrillPlan.make(options.scenario, seed: options.seed, durationMilliseconds: options.durationSeconds * 1_000,
                                  nodeIDs: file.nodes.map(\.id), available: Set(file.commands.keys))
        if plan.contains(where: { $0.kind == .replace }), let node = file.nodes.first(where: { $0.peer == nil }) {
            throw DrillError("node-replace adds the node back, so the drill file must give every node's peer address (nodes[id \(node.id)].peer)")
        }
        http = try DrillHTTP(file: file)
        watcher = LeaderWatcher(nodes: file.nodes.map(\.id))
    }

    static let service = "drill"

    public func run() async throws(DrillError) -> DrillResult {
        do {
            try FileManager.default.createDirectory(atPath: options.outputDirectory, withIntermediateDirectories: true)
        } catch {
            throw DrillError("--out \(options.outputDirectory): cannot create: \((error as NSError).localizedDescription)")
        }
        do {
            try await sink.start(host: file.sinkListenHost, port: file.sinkListenPort, clock: clock, logger: logger)
        } catch {
            await http.shutdown()
            throw error
        }
        let result: DrillResult
        do {
            result = try await drill()
        } catch {
            await sink.stop()
            await http.shutdown()
            // What was seen up to the failure, for whoever investigates it.
            try? DrillReport.lines(recorder.faults().map(JSONLines.line), to: options.outputDirectory + "/faults.jsonl")
            try? DrillReport.lines(recorder.leaders().map(JSONLines.line), to: options.outputDirectory + "/leaders.jsonl")
            try? DrillReport.lines(recorder.history().map(JSONLines.line), to: options.outputDirectory + "/history.jsonl")
            throw error
        }
        await sink.stop()
        await http.shutdown()
        return result
    }

    private func drill() async throws(DrillError) -> DrillResult {
        logger.info("waiting for a leader", metadata: ["nodes": "\(file.nodes.count)"])
        guard let leader = await waitForAgreedLeader(within: .seconds(60)) else {
            throw DrillError("the cluster has no leader a majority agrees on after 60 s; is it running, and does the drill file name its API addresses?")
        }
        let routingKey = try await setUp(leader: leader)
        logger.info("drill begins", metadata: ["scenario": "\(options.scenario.rawValue)", "seed": "\(options.seed)", "faults": "\(plan.count)"])
        let durationMilliseconds = clock.milliseconds() + options.durationSeconds * 1_000
        let watching = Task { await watcher.run(http: http, clock: clock, recorder: recorder) }
        var result = DrillResult()
        let workload = Task {
            await withTaskGroup(of: Void.self) { group in
                for client in 1...options.clients {
                    group.addTask { await self.settingsClient(client, until: durationMilliseconds) }
                }
                group.addTask { await self.alertClient(routingKey: routingKey, until: durationMilliseconds) }
            }
        }
        let faults = await injectFaults(startedAt: durationMilliseconds - options.durationSeconds * 1_000)
        await workload.value
        result.commandFailures = faults.failures
        result.faultsInjected = faults.injected
        result.failovers = faults.failovers

        let settleStart = clock.milliseconds()
        await healEverything(down: faults.down)
        guard let settled = await waitForAgreedLeader(within: .seconds(60), everyNode: true) else {
            watcher.stop()
            await watching.value
            throw DrillError("the cluster did not settle within 60 s after every fault was healed (see faults.jsonl and the nodes' logs)")
        }
        result.settleMilliseconds = clock.milliseconds() - settleStart
        await finalReads(through: settled)
        watcher.stop()
        await watching.value

        var alerts = await ticketsOfAlerts(through: settled)
        let observedUntil = await waitForPages(alerts)
        await resolveDrillTickets(alerts, through: settled)
        let pages = sink.pages.withLock { $0 }
        let parameters = PagingCheckParameters(allowanceNanoseconds: UInt64(options.allowanceMilliseconds) * 1_000_000,
                                               minorityGraceNanoseconds: 1_000_000_000, observedUntilNanoseconds: observedUntil)
        alerts.sort { $0.dedupKey < $1.dedupKey }
        let history = recorder.history()
        result.verdict = DrillCheck.run(history: history, alerts: alerts, pages: pages, faults: recorder.faults(), leaders: recorder.leaders(),
                                        parameters: parameters)
        result.pagesReceived = pages.count
        result.alertsAccepted = alerts.filter { $0.acceptedNanoseconds != nil }.count
        let writes = recorder.writeFigures()
        result.acknowledgedWrites = writes.acknowledged
        result.unknownWrites = writes.unknown
        result.longestWriteMilliseconds = writes.longestMilliseconds
        result.leaderlessMilliseconds = recorder.leaderlessMilliseconds(until: clock.nanoseconds())
        try DrillReport.write(directory: options.outputDirectory, options: options, file: file, parameters: parameters, result: result,
                              history: history, alerts: alerts, pages: pages, recorder: recorder, unreadablePages: sink.unreadable.withLock { $0 })
        return result
    }

    // MARK: - Set-up

    /// People `drill-l<level>-<n>` paged by webhook at the sink, a round-robin policy over them (so storm control,
    /// which limits pages per person, never delays a drill's page), service `drill` and an integration key.
    private func setUp(leader: Int) async throws(DrillError) -> String {
        let peoplePerLevel = 6
        var steps: [(HTTPMethod, String, [String: Any])] = []
        var levels: [[String: Any]] = []
        for level in 0..<options.levels {
            var targets: [[String: Any]] = []
            for number in 1...peoplePerLevel {
                let person = "drill-l\(level)-\(number)"
                steps.append((.PUT, "/api/v1/people/\(person)", [
                    "id": person, "name": person, "role": "responder",
                    "contact_methods": [["id": "hook", "kind": "webhook", "address": "\(file.sinkURL)/drill/\(person)"]],
                    "notification_rules": [["contact_method_id": "hook", "delay_seconds": 0]],
                ]))
                targets.append(["person": person])
            }
            levels.append(["targets": targets, "mode": "roundRobin", "delay_seconds": options.levelSeconds])
        }
        steps.append((.PUT, "/api/v1/escalation-policies/\(Self.service)",
                      ["id": Self.service, "name": "vigil drill", "repeat_count": 0, "repeat_from_level": 0, "levels": levels]))
        steps.append((.PUT, "/api/v1/services/\(Self.service)", ["id": Self.service, "name": "vigil drill", "escalation_policy_id": Self.service]))
        let routingKey = String(format: "drill%027llx", options.seed & 0x7FFF_FFFF_FFFF_FFFF)
        steps.append((.POST, "/api/v1/services/\(Self.service)/integration-keys", ["key": routingKey]))
        for (method, path, body) in steps {
            var answer: (status: Int, body: Data)?
            for _ in 0..<20 {
                answer = await http.call(method, node: leader, path, json: body, timeout: .seconds(5))
                if let status = answer?.status, status != 503 { break }
                try? await Task.sleep(for: .milliseconds(250))
            }
            guard let answer, (200..<300).contains(answer.status) || (answer.status == 409 && path.hasSuffix("integration-keys")) else {
                let detail = answer.map { "HTTP \($0.status): \(String(decoding: $0.body.prefix(300), as: UTF8.self))" } ?? "no answer"
                throw DrillError("setting up the drill (\(method) \(path)) failed: \(detail); the drill needs an admin token")
            }
        }
        return routingKey
    }

    // MARK: - Workload

    private func settingsClient(_ client: Int, until endMilliseconds: Int) async {
        let node = file.nodes[(client - 1) % file.nodes.count].id
        var random = SplitMix64(seed: options.seed &* 0x9E37_79B9 &+ UInt64(client))
        let timeout = Duration.milliseconds(options.requestTimeoutMilliseconds)
        var sequence = 0
        while clock.milliseconds() < endMilliseconds, sequence < 100_000 {
            if workloadPaused.load(ordering: .relaxed) {
                try? await Task.sleep(for: .milliseconds(50))
                continue
            }
            sequence += 1
            let key = "drill-k\(random.next() % UInt64(options.keys))"
            let call = clock.nanoseconds()
            if random.next() % 10 < 6 {
                let value = "c\(client)-\(sequence)"
                let answer = await http.call(.PUT, node: node, "/api/v1/settings/\(key)", json: ["value": value], timeout: timeout)
                let returned = clock.nanoseconds()
                switch answer?.status {
                case let status? where (200..<300).contains(status):
                    recorder.record(HistoryOperation(client: client, op: .put, key: key, value: value, callNanoseconds: call, returnNanoseconds: returned))
                case let status? where (400..<500).contains(status):
                    break  // refused: it changed nothing
                default:
                    recorder.record(HistoryOperation(client: client, op: .put, key: key, value: value, callNanoseconds: call, returnNanoseconds: nil))
                }
            } else {
                let answer = await http.call(.GET, node: node, "/api/v1/settings/\(key)", timeout: timeout)
                let returned = clock.nanoseconds()
                switch answer?.status {
                case 200?:
                    let value = answer.flatMap { DrillHTTP.object($0.body)?["value"] as? String }
                    recorder.record(HistoryOperation(client: client, op: .get, key: key, value: value, callNanoseconds: call, returnNanoseconds: returned))
                case 404?:
                    recorder.record(HistoryOperation(client: client, op: .get, key: key, value: nil, callNanoseconds: call, returnNanoseconds: returned))
                default:
                    break  // a read with no answer saw nothing
                }
            }
            try? await Task.sleep(for: .milliseconds(10 + Int(random.next() % 40)))
        }
    }

    private func alertClient(routingKey: String, until endMilliseconds: Int) async {
        var number = 0
        var next = clock.milliseconds()
        while clock.milliseconds() < endMilliseconds - options.levels * options.levelSeconds * 1_000 / 2, number < 10_000 {
            await clock.sleep(untilMilliseconds: next)
            next += options.alertEveryMilliseconds
            number += 1
            let node = file.nodes[number % file.nodes.count].id
            let dedupKey = "drill-\(options.seed)-\(number)"
            let body: [String: Any] = ["routing_key": routingKey, "event_action": "trigger", "dedup_key": dedupKey,
                                       "payload": ["summary": dedupKey, "source": "vigil-drill", "severity": "critical"]]
            let answer = await http.call(.POST, node: node, "/v2/enqueue", json: body, timeout: .milliseconds(options.requestTimeoutMilliseconds))
            recorder.recordAlert(dedupKey, acceptedNanoseconds: answer?.status == 202 ? clock.nanoseconds() : nil)
        }
    }

    // MARK: - Faults

    struct FaultOutcome {
        var injected = 0
        var failures: [String] = []
        var failovers: [(kind: PlannedFault.Kind, milliseconds: Int)] = []
        /// Nodes left down (a start that failed): the heal starts them again.
        var down: Set<Int> = []
    }

    private func injectFaults(startedAt origin: Int) async -> FaultOutcome {
        var outcome = FaultOutcome()
        var random = SplitMix64(seed: options.seed ^ 0xFA17_5EED)
        let ids = file.nodes.map(\.id)
        var restarted: Set<Int> = []
        for fault in plan {
            await clock.sleep(untilMilliseconds: origin + fault.atMilliseconds)
            let leader = watcher.leader() ?? ids[Int(random.next() % UInt64(ids.count))]
            // A rolling restart takes each node once.
            let followers = ids.filter { $0 != leader && (fault.kind != .restart || !restarted.contains($0)) }
            var victims: [Int]
            switch fault.target {
            case .leader: victims = [leader]
            case .follower: victims = [followers.isEmpty ? leader : followers[Int(random.next() % UInt64(followers.count))]]
            }
            if fault.kind == .powerCut { victims = ids }
            if fault.kind == .partition {
                var others = ids.filter { !victims.contains($0) }
                while victims.count < ids.count / 2, !others.isEmpty {
                    victims.append(others.remove(at: Int(random.next() % UInt64(others.count))))
                }
            }
            victims.sort()
            if fault.kind == .restart { restarted.formUnion(victims) }
            let rest = ids.filter { !victims.contains($0) }
            let injectedAt = clock.nanoseconds()
            if fault.kind == .replace {
                outcome.injected += 1
                outcome.failures += await replace(victims[0], leader: leader)
                continue
            }
            // Every other fault is one command and its undoing (replacements were handled above).
            let act = fault.kind.actions[0], undo = fault.kind.actions[1]
            if fault.kind == .restart, victims == [leader], let successor = rest.first {
                // A graceful restart hands leadership over first, as the upgrade procedure does.
                _ = await http.call(.POST, node: leader, "/api/v1/cluster/leader", json: ["to": successor], timeout: .seconds(5))
            }
            var failed = false
            if fault.kind == .powerCut { workloadPaused.store(true, ordering: .relaxed) }
            for victim in victims {
                let command = file.command(act, node: victim, peers: fault.kind == .loss ? [] : rest, fraction: fault.fraction,
                                           milliseconds: fault.delayMilliseconds)!
                if let failure = await runCommand(command, action: act, node: victim) {
                    outcome.failures.append(failure)
                    failed = true
                }
            }
            outcome.injected += 1
            let minority = DrillPlan.minority(fault.kind, nodes: victims, clusterSize: ids.count)
            recorder.recordFault(FaultRecord(atNanoseconds: injectedAt, action: fault.kind.rawValue, nodes: victims, minority: minority,
                                             detail: detail(fault, victims: victims, rest: rest, leader: leader) + (failed ? " (command failed)" : "")))
            logger.info("fault", metadata: ["kind": "\(fault.kind.rawValue)", "nodes": "\(victims)", "hold_ms": "\(fault.holdMilliseconds)"])
            let holdUntil = clock.milliseconds() + fault.holdMilliseconds
            // Time to a new leader, for faults that take the leader out; a cut leader is held until it is replaced
            // (bounded), so the figure is measured even when the hold is short.
            let measuresFailover = victims.contains(leader) && ![.loss, .restart, .slowDisk, .powerCut].contains(fault.kind)
            let waitsForFailover = measuresFailover && [.isolate, .oneWay, .partition].contains(fault.kind)
            var failover: Int?
            while true {
                let now = clock.milliseconds()
                // A node leads only once a majority elected it: the first other node to say it leads ends the failover.
                if measuresFailover, failover == nil, watcher.claimants().contains(where: { !victims.contains($0) }) {
                    failover = Int((clock.nanoseconds() - injectedAt) / 1_000_000)
                }
                if now >= holdUntil, failover != nil || !waitsForFailover || now >= holdUntil + 10_000 { break }
                try? await Task.sleep(for: .milliseconds(20))
            }
            if let failover { outcome.failovers.append((fault.kind, failover)) }
            for victim in victims {
                guard let command = file.command(undo, node: victim) else { continue }
                if let failure = await runCommand(command, action: undo, node: victim) {
                    outcome.failures.append(failure)
                    if undo == .start { outcome.down.insert(victim) }
                }
            }
            if fault.kind == .diskFull {
                // A node that stopped on the full disk may still be shutting down when space returns: the undo (which
                // starts it when its process is gone) is repeated until the node answers again, bounded.
                for victim in victims {
                    for _ in 0..<15 {
                        if await http.call(.GET, node: victim, "/api/v1/cluster", timeout: .milliseconds(500))?.status == 200 { break }
                        try? await Task.sleep(for: .seconds(1))
                        if let command = file.command(undo, node: victim) { _ = await runCommand(command, action: undo, node: victim) }
                    }
                }
            }
            recorder.recordFault(FaultRecord(atNanoseconds: clock.nanoseconds(), action: undo.rawValue, nodes: victims, minority: [],
                                             detail: "\(undo.rawValue) node\(victims.count == 1 ? "" : "s") \(victims.map(String.init).joined(separator: ", "))"))
            if fault.kind == .powerCut {
                if let leader = await waitForAgreedLeader(within: .seconds(30)) { await finalReads(through: leader) }
                workloadPaused.store(false, ordering: .relaxed)
            }
            if fault.kind == .restart {
                // The next node waits until this one answers again, as a rolling restart must.
                _ = await waitForAgreedLeader(within: .seconds(30), everyNode: true)
            }
        }
        return outcome
    }

    private func detail(_ fault: PlannedFault, victims: [Int], rest: [Int], leader: Int) -> String {
        let names = victims.map { $0 == leader ? "\($0) (leader)" : "\($0)" }.joined(separator: ", ")
        switch fault.kind {
        case .kill: return "kill -9 node \(names)"
        case .pause: return "SIGSTOP node \(names)"
        case .isolate, .partition: return "node\(victims.count == 1 ? "" : "s") \(names) cut from \(rest.map(String.init).joined(separator: ", "))"
        case .oneWay: return "node \(names) receives nothing from \(rest.map(String.init).joined(separator: ", "))"
        case .loss: return "node \(names) drops \(Int(fault.fraction * 100)) % of what it receives"
        case .restart: return "graceful restart of node \(names)"
        case .diskFull: return "the data directory of node \(names) is full"
        case .replace: return "node \(names) dies with its disk and is replaced"
        case .slowDisk: return "every log write of node \(names) takes \(fault.delayMilliseconds) ms longer"
        case .powerCut: return "power cut: kill -9 of every node at once"
        }
    }

    /// The operations guide's replacement of a dead node, with the same id and address: kill, remove from the
    /// members, wipe, add back as a learner, start; done when the leader counts it a voter again. Returns failures.
    private func replace(_ victim: Int, leader: Int) async -> [String] {
        guard let node = file.nodes.first(where: { $0.id == victim }), let peer = node.peer, let httpAddress = node.http else {
            return ["replace node \(victim): the drill file gives no peer address for it"]
        }
        var failures: [String] = []
        func step(_ action: DrillFile.Action, _ detail: String) async {
            if let command = file.command(action, node: victim), let failure = await runCommand(command, action: action, node: victim) {
                failures.append(failure)
            }
            recorder.recordFault(FaultRecord(atNanoseconds: clock.nanoseconds(), action: "replace-\(action.rawValue)", nodes: [victim], minority: [],
                                             detail: detail))
        }
        /// Sends to whoever leads now (the leader may change during a replacement), until a 2xx, bounded.
        func leaderCall(_ method: HTTPMethod, _ path: String, _ body: [String: Any]?, accept: Set<Int> = []) async -> Bool {
            for _ in 0..<60 {
                let target = watcher.leader() ?? leader
                if let answer = await http.call(method, node: target, path, json: body, timeout: .seconds(5)),
                   (200..<300).contains(answer.status) || accept.contains(answer.status) {
                    return true
                }
                try? await Task.sleep(for: .milliseconds(500))
            }
            return false
        }
        await step(.kill, "node \(victim) dies with its disk (kill -9)")
        if !(await leaderCall(.DELETE, "/api/v1/cluster/members/\(victim)", nil, accept: [404])) {
            failures.append("replace node \(victim): the leader did not remove it within 30 s")
        }
        recorder.recordFault(FaultRecord(atNanoseconds: clock.nanoseconds(), action: "replace-remove", nodes: [victim], minority: [],
                                         detail: "node \(victim) removed from the members"))
        await step(.wipe, "node \(victim)'s data deleted; it will start as a joining node")
        if !(await leaderCall(.POST, "/api/v1/cluster/members", ["id": victim, "peer": peer, "http": httpAddress])) {
            failures.append("replace node \(victim): the leader did not add it back within 30 s")
        }
        recorder.recordFault(FaultRecord(atNanoseconds: clock.nanoseconds(), action: "replace-add", nodes: [victim], minority: [],
                                         detail: "node \(victim) added back as a learner"))
        await step(.start, "node \(victim) started with an empty disk")
        var voter = false
        for _ in 0..<120 where !voter {
            let target = watcher.leader() ?? leader
            if let answer = await http.call(.GET, node: target, "/api/v1/cluster/members", timeout: .seconds(2)), answer.status == 200,
               let items = DrillHTTP.object(answer.body)?["items"] as? [[String: Any]] {
                voter = items.contains { $0["id"] as? Int == victim && $0["voter"] as? Bool == true }
            }
            if !voter { try? await Task.sleep(for: .milliseconds(500)) }
        }
        if voter {
            recorder.recordFault(FaultRecord(atNanoseconds: clock.nanoseconds(), action: "replace-voter", nodes: [victim], minority: [],
                                             detail: "node \(victim) caught up and is a voter again"))
        } else {
            failures.append("replace node \(victim): not a voter again within 60 s")
        }
        return failures
    }

    /// Runs one drill-file command, bounded; returns why it failed, or nil.
    private func runCommand(_ command: String, action: DrillFile.Action, node: Int) async -> String? {
        let log = options.outputDirectory + "/commands.log"
        let line = "[\(clock.milliseconds()) ms] \(action.rawValue) node \(node): \(command)\n"
        if let handle = FileHandle(forWritingAtPath: log) {
            handle.seekToEndOfFile()
            handle.write(Data(line.utf8))
            try? handle.close()
        } else {
            _ = FileManager.default.createFile(atPath: log, contents: Data(line.utf8))
        }
        switch await ShellCommand.run(command, logPath: log, timeoutMilliseconds: 15_000) {
        case .success(0): return nil
        case let .success(status): return "\(action.rawValue) node \(node): exit \(status): \(command)"
        case let .failure(error): return "\(action.rawValue) node \(node): \(error): \(command)"
        }
    }

    /// Undoes whatever may still hold: network faults, pauses, and nodes a failed start left down.
    private func healEverything(down: Set<Int>) async {
        for node in file.nodes.map(\.id) {
            for action in [DrillFile.Action.heal, .resume] {
                if let command = file.command(action, node: node) { _ = await runCommand(command, action: action, node: node) }
            }
            if down.contains(node), let command = file.command(.start, node: node) { _ = await runCommand(command, action: .start, node: node) }
        }
    }

    // MARK: - After the faults

    /// A leader a majority of the nodes (or, with `everyNode`, all of them) agree on; nil when none in time.
    private func waitForAgreedLeader(within limit: Duration, everyNode: Bool = false) async -> Int? {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            let views = await LeaderWatcher.poll(http: http, nodes: file.nodes.map(\.id), timeout: .milliseconds(500))
            if let leader = LeaderWatcher.agreed(views, clusterSize: file.nodes.count),
               !everyNode || views.count == file.nodes.count && views.values.allSatisfy({ $0 == leader }) {
                return leader
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    /// A linearizable read of every key through the leader, as client 0 (at the end, and after a power cut before
    /// anyone writes again): a lost acknowledged write has no place in any order with it.
    private func finalReads(through leader: Int) async {
        for index in 0..<options.keys {
            let key = "drill-k\(index)"
            for _ in 0..<20 {
                let call = clock.nanoseconds()
                let answer = await http.call(.GET, node: leader, "/api/v1/settings/\(key)", timeout: .seconds(5))
                let returned = clock.nanoseconds()
                if answer?.status == 200 || answer?.status == 404 {
                    let value = answer?.status == 200 ? answer.flatMap { DrillHTTP.object($0.body)?["value"] as? String } : nil
                    recorder.record(HistoryOperation(client: DrillCheck.finalReadClient, op: .get, key: key, value: value,
                                                     callNanoseconds: call, returnNanoseconds: returned))
                    break
                }
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    /// Each alert with the ticket that holds it (matched by title, which is the dedup key) and its levels' deadlines.
    private func ticketsOfAlerts(through leader: Int) async -> [AlertRecord] {
        var tickets: [String: (id: Int, registered: Int64, acknowledged: Int64?)] = [:]
        var after = 0
        for _ in 0..<200 {
            guard let answer = await http.call(.GET, node: leader, "/api/v1/tickets?limit=500&after=\(after)&service_id=\(Self.service)",
                                               timeout: .seconds(10)),
                  answer.status == 200, let page = DrillHTTP.object(answer.body), let items = page["items"] as? [[String: Any]] else { break }
            for item in items {
                guard let id = item["id"] as? Int, let title = item["title"] as? String, let registered = item["registered_at"] as? Int64 else { continue }
                tickets[title] = (id, registered, item["acknowledged_at"] as? Int64)
            }
            guard let next = page["next"] as? String, let cursor = Int(next) else { break }
            after = cursor
        }
        return recorder.alerts().map { dedupKey, accepted in
            guard let ticket = tickets[dedupKey] else {
                return AlertRecord(dedupKey: dedupKey, acceptedNanoseconds: accepted, ticket: nil, deadlinesNanoseconds: [], acknowledgedNanoseconds: nil)
            }
            let registered = clock.nanoseconds(ofWallMilliseconds: ticket.registered)
            let deadlines = (0..<options.levels).map { registered + UInt64($0 * options.levelSeconds) * 1_000_000_000 }
            return AlertRecord(dedupKey: dedupKey, acceptedNanoseconds: accepted, ticket: ticket.id, deadlinesNanoseconds: deadlines,
                               acknowledgedNanoseconds: ticket.acknowledged.map { clock.nanoseconds(ofWallMilliseconds: $0) })
        }
    }

    /// Waits until every owed level has a page or its deadline plus the allowance has passed (bounded);
    /// returns the end of the observation.
    private func waitForPages(_ alerts: [AlertRecord]) async -> UInt64 {
        let owed = alerts.filter { $0.acceptedNanoseconds != nil && $0.ticket != nil }
        let latest = owed.compactMap(\.deadlinesNanoseconds.last).max().map { $0 + UInt64(options.allowanceMilliseconds) * 1_000_000 } ?? 0
        let limit = clock.nanoseconds() + 120_000_000_000
        while clock.nanoseconds() < min(latest, limit) {
            let paged = Set(sink.pages.withLock { $0.map { "\($0.ticket)/\($0.level)" } })
            let missing = owed.contains { alert in (0..<alert.deadlinesNanoseconds.count).contains { !paged.contains("\(alert.ticket!)/\($0)") } }
            if !missing { break }
            try? await Task.sleep(for: .milliseconds(200))
        }
        // A moment more for a duplicate page under another key to show up, if the product sends one.
        try? await Task.sleep(for: .milliseconds(500))
        return clock.nanoseconds()
    }

    /// The drill's tickets stop paging once it is over (best effort: a staging cluster should not keep them open).
    private func resolveDrillTickets(_ alerts: [AlertRecord], through leader: Int) async {
        for ticket in Set(alerts.compactMap(\.ticket)).sorted() {
            _ = await http.call(.POST, node: leader, "/api/v1/tickets/\(ticket)/resolve", timeout: .seconds(5))
        }
    }
}
