import DutyModel
import DutyStore
import Foundation

// Prints throughput, snapshot and memory figures for the duty model. No assertions.
// Usage: duty-bench [--store] [openTickets=100000] [archivedTickets=0] [mixedCommands=200000]
//   --store           archived tickets go to a DutyStore (SQLite in a temporary directory), driven like a node
//                     would: Raft indices, a commit every 1,000 commands, a checkpoint every 100,000.
//   --restore FILE    only restores saved snapshot bytes into a fresh store (for profiling restore).
// DUTY_BENCH_SAVE_SNAPSHOT=FILE saves the snapshot of a full run there; DUTY_BENCH_START_MS=T starts the clock
// of the commands at T (Unix milliseconds; default 2026-03-02), so that a saved state can be made recent.
// Times are wall clock and CPU seconds of this process: CPU time is what the figures mean when other
// work shares the machine.

let useStore = CommandLine.arguments.contains("--store")
let arguments = CommandLine.arguments.dropFirst().filter { !$0.hasPrefix("--") }.map { Int($0) }
let openTarget = (arguments.first ?? nil) ?? 100_000
let archivedTarget = (arguments.dropFirst().first ?? nil) ?? 0
let mixedCount = (arguments.dropFirst(2).first ?? nil) ?? 200_000

func residentKilobytes(_ field: String = "VmRSS:") -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field) }) else { return 0 }
    return Double(line.split(separator: " ").last { !$0.isEmpty && $0 != "kB" }.map(String.init) ?? "") ?? 0
}

func residentMegabytes() -> String {
    String(format: "%.0f MB (peak %.0f MB)", residentKilobytes() / 1024, residentKilobytes("VmHWM:") / 1024)
}

func megabytes(_ bytes: Int64) -> String { String(format: "%.1f MB", Double(bytes) / 1_048_576) }

func cpuSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

/// Wall and CPU seconds of one run of `body`.
struct Timing: CustomStringConvertible {
    var wall = 0.0
    var cpu = 0.0

    static func of(_ body: () throws -> Void) rethrows -> Timing {
        let cpuBefore = cpuSeconds()
        let start = ContinuousClock.now
        try body()
        let elapsed = (ContinuousClock.now - start).components
        return Timing(wall: Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18, cpu: cpuSeconds() - cpuBefore)
    }

    static func + (lhs: Timing, rhs: Timing) -> Timing { Timing(wall: lhs.wall + rhs.wall, cpu: lhs.cpu + rhs.cpu) }

    var description: String { String(format: "%.2f s (%.2f CPU s)", wall, cpu) }
}

/// The state under test: a plain `DutyState`, or a `DutyStore` fed Raft-like indices and batches.
final class Replica {
    private var memory = DutyState()
    let store: DutyStore?
    private(set) var index: UInt64 = 0
    /// Commands per commit, as a node would apply a batch of committed Raft entries.
    let commitEvery: UInt64 = 1_000
    let checkpointEvery: UInt64 = 100_000
    private(set) var checkpoints: [Timing] = []

    init(store: DutyStore?) { self.store = store }

    /// Read through at once: a copy kept alive would make the next command copy the working set.
    var state: DutyState { store?.state ?? memory }

    func apply(_ command: DutyCommand, at: Timestamp, actor: ActorID) -> Result<[DutyEvent], DutyError> {
        index += 1
        guard let store else { return memory.apply(command, at: at, actor: actor) }
        do {
            let result = try store.apply(command, at: at, actor: actor, index: index)
            if index % checkpointEvery == 0 {
                checkpoints.append(try Timing.of { try store.checkpoint() })
            } else if index % commitEvery == 0 {
                try store.commit()
            }
            return result
        } catch {
            fatalError("store failed: \(error)")
        }
    }

    func commit() {
        do { try store?.commit() } catch { fatalError("commit failed: \(error)") }
    }

    func takeCheckpointSummary() -> String? {
        defer { checkpoints = [] }
        guard !checkpoints.isEmpty else { return nil }
        let total = checkpoints.reduce(Timing(), +)
        let slowest = checkpoints.max { $0.wall < $1.wall }!
        return "\(checkpoints.count) checkpoints took \(total), the slowest \(slowest)"
    }
}

/// Holds the mutable bench state so that Swift 6 strict concurrency sees one owner.
struct Bench {
    let openTarget: Int
    let archivedTarget: Int
    let mixedCount: Int
    let directory: String?

    mutating func run() throws {
        let routingKey = String(repeating: "k", count: 32)
        let admin = ActorID("admin")
        var now: Timestamp = ProcessInfo.processInfo.environment["DUTY_BENCH_START_MS"].flatMap { Timestamp($0) }
            ?? 1_772_409_600_000  // 2026-03-02 00:00 UTC
        let storePath = directory.map { $0 + "/duty.sqlite" }
        let replica = Replica(store: try storePath.map { try DutyStore(path: $0, clusterID: "bench") })

        func must(_ command: DutyCommand, actor: ActorID = admin) {
            if case .failure(let error) = replica.apply(command, at: now, actor: actor) {
                fatalError("setup command \(command.name) failed: \(error)")
            }
        }

        let names = (0..<20).map { "person\($0)" }
        for name in names {
            must(.upsertPerson(Person(id: name, name: name, role: .responder,
                                      contactMethods: [ContactMethod(id: "sms", kind: .sms, address: "+100000")],
                                      notificationRules: [NotificationRule(contactMethodID: "sms", delayMinutes: 0)])))
        }
        must(.upsertTeam(Team(id: "ops", name: "Ops", memberIDs: Array(names.prefix(5)))))
        must(.upsertSchedule(OnCallSchedule(id: "primary", name: "Primary", timeZoneIdentifier: "Europe/Berlin", layers: [
            .init(name: "weekly", userIDs: Array(names.prefix(8)), rotation: .weekly, startDate: LocalDate(year: 2026, month: 1, day: 5), handoffMinute: 540),
            .init(name: "nights", userIDs: Array(names.suffix(4)), rotation: .daily, startDate: LocalDate(year: 2026, month: 1, day: 5),
                  handoffMinute: 1320, restrictions: [.init(startMinute: 1320, endMinute: 360)]),
        ])))
        must(.upsertEscalationPolicy(EscalationPolicy.defaultEmergencyDraft(onCallScheduleID: "primary", leadPersonID: "person0", specialTeamID: "ops")))
        must(.upsertService(Service(id: "web", name: "Web", teamID: "ops", escalationPolicyID: "emergency")))
        must(.addIntegrationKey(serviceID: "web", key: routingKey))
        for index in 0..<20 {
            must(.upsertArticle(ArticleDraft(id: "faq\(index)", title: index % 2 == 0 ? "How to fix problem \(index)" : "问题\(index)如何处理",
                                             body: "Step by step answer number \(index). 按步骤处理。", category: "general")))
        }

        let titles = ["Cannot log in", "Payment failed", "网站无法访问", "Slow page", "密码重置"]
        var random = SplitMix64(seed: 2026)

        /// One command of the mixed workload, picked against the current state (mostly recent tickets).
        func mixedCommand() -> (DutyCommand, ActorID) {
            let count = replica.state.ticketCount
            let ticketID = count == 0 ? 1 : max(1, count - random.next(below: min(count, 5_000)))
            switch random.next(below: 20) {
            case 0..<6:
                return (.registerTicket(NewTicket(kind: .consultation, priority: [Priority.p1, .p2, .p3, .p4][random.next(below: 4)],
                                                  title: titles[random.next(below: titles.count)], serviceID: "web")), admin)
            case 6..<9:
                return (.acknowledgeTicket(ticketID: ticketID), ActorID(names[random.next(below: names.count)]))
            case 9..<12:
                let stage = replica.state.ticket(ticketID)?.stage ?? .registered
                return (.advanceTicket(ticketID: ticketID, to: TicketLifecycle.forward[stage] ?? .analysing), admin)
            case 12..<14:
                return (.addNote(ticketID: ticketID, text: "update", customerVisible: true), ActorID("person1"))
            case 14..<16:
                return (.pagerDutyEvent(PagerDutyEvent(routingKey: routingKey, action: .trigger, dedupKey: "alert-\(random.next(below: 50))",
                                                       summary: "disk full", severity: "critical")), ActorID("pagerduty"))
            case 16:
                if let step = replica.state.nextDueStep(ticketID) { return (.recordEscalationStep(ticketID: ticketID, stepIndex: step.stepIndex), ActorID("scheduler")) }
                return (.setWaitingForCustomer(ticketID: ticketID, waiting: true), admin)
            case 17:
                return (.setWaitingForCustomer(ticketID: ticketID, waiting: !(replica.state.ticket(ticketID)?.waitingForCustomer ?? false)), admin)
            default:
                return (.recordArticleHit(articleID: "faq\(random.next(below: 20))"), admin)
            }
        }

        /// Times the mixed workload, picking included (picks read the state as the API would), commits
        /// and checkpoints included.
        func mixed(_ label: String) {
            var accepted = 0
            let timing = Timing.of {
                for _ in 0..<mixedCount {
                    now += 50
                    let (command, actor) = mixedCommand()
                    if case .success = replica.apply(command, at: now, actor: actor) { accepted += 1 }
                }
                replica.commit()
            }
            print(String(format: "%@: %d commands in %@ = %.0f commands/s, %.0f per CPU second (%d accepted, %d rejected)",
                         label, mixedCount, timing.description, Double(mixedCount) / timing.wall, Double(mixedCount) / timing.cpu,
                         accepted, mixedCount - accepted))
            if let summary = replica.takeCheckpointSummary() { print("  \(summary)") }
        }

        print("duty-bench: open=\(openTarget) archived=\(archivedTarget) mixed=\(mixedCount) archive=\(storePath ?? "in memory")")
        mixed("mixed workload")

        let residentBeforeArchived = residentKilobytes()
        let ticketsBeforeArchived = replica.state.ticketCount
        var residentAfterArchived = residentBeforeArchived
        let fill = Timing.of {
            for _ in 0..<archivedTarget {
                now += 10
                must(.registerTicket(NewTicket(kind: .consultation, priority: .p3, title: titles[random.next(below: titles.count)], serviceID: "web")))
                let id = replica.state.ticketCount
                for stage in [TicketStage.analysing, .handling, .feedback, .archived] { must(.advanceTicket(ticketID: id, to: stage)) }
            }
            replica.commit()
            residentAfterArchived = residentKilobytes()
            while replica.state.openTicketCount < openTarget {
                now += 10
                must(.registerTicket(NewTicket(kind: .consultation, priority: [Priority.p2, .p3][random.next(below: 2)],
                                               title: titles[random.next(below: titles.count)], serviceID: "web")))
            }
            replica.commit()
        }
        let (ticketCount, openCount, workingSetCount, archivedCount) = { (state: DutyState) in
            (state.ticketCount, state.openTicketCount, state.workingSetTicketCount, state.archivedTicketCount)
        }(replica.state)
        print("filled in \(fill): \(ticketCount) tickets (\(openCount) open, \(workingSetCount) unarchived in memory, \(archivedCount) archived)")
        if let summary = replica.takeCheckpointSummary() { print("  \(summary)") }
        print("resident with \(openCount) open and \(archivedCount) archived tickets: \(residentMegabytes())")
        let openAdded = ticketCount - ticketsBeforeArchived - archivedTarget
        if archivedTarget > 0 {
            print(String(format: "memory per archived ticket (RSS delta): %.0f bytes", (residentAfterArchived - residentBeforeArchived) * 1024 / Double(archivedTarget)))
        }
        if openAdded > 0 {
            print(String(format: "memory per open ticket (RSS delta): %.0f bytes", (residentKilobytes() - residentAfterArchived) * 1024 / Double(openAdded)))
        }
        if let store = replica.store {
            let checkpoint = try Timing.of { try store.checkpoint() }
            print("checkpoint of \(workingSetCount) unarchived tickets: \(checkpoint); store file \(megabytes(store.sizeBytes)); resident \(residentMegabytes())")
        }

        mixed("mixed workload on the full state (it registers ~\(mixedCount * 6 / 20) more tickets)")
        print("resident after it: \(residentMegabytes())")

        let sample = Timing.of {
            now += 50
            _ = replica.apply(.drawSupervisionSample(sampleID: "bench", seed: 7, size: 100), at: now, actor: admin)
        }
        print("drawSupervisionSample over \(replica.state.archivedTicketCount) archived tickets: \(sample)")
        let report = try Timing.of {
            _ = try DutyReport(state: replica.state, year: 2026, month: 3, timeZoneIdentifier: "Asia/Shanghai", grouping: .person, asOf: now)
        }
        print("monthly report (March, per person, every ticket): \(report)")
        let due = Timing.of { _ = replica.state.dueEscalationSteps(until: now) }
        print("dueEscalationSteps over the working set: \(due)")

        var bytes: [UInt8] = []
        let snapshot = try Timing.of {
            if let store = replica.store { bytes = try store.snapshot() } else { bytes = replica.state.snapshot() }
        }
        print(String(format: "snapshot: %.1f MB in %@ (%.0f bytes/ticket); resident %@",
                     Double(bytes.count) / 1_048_576, snapshot.description, Double(bytes.count) / Double(max(1, replica.state.ticketCount)),
                     residentMegabytes()))
        if let path = ProcessInfo.processInfo.environment["DUTY_BENCH_SAVE_SNAPSHOT"] { try Data(bytes).write(to: URL(fileURLWithPath: path)) }

        if let directory, let store = replica.store, let storePath {
            try store.checkpoint()
            try store.close()
            let reopen = try Timing.of { _ = try DutyStore(path: storePath, clusterID: "bench").close() }
            print("restart (validate the file, load the working set): \(reopen)")
            let target = try DutyStore(path: directory + "/restored.sqlite", clusterID: "bench")
            let restore = try Timing.of { try target.restore(from: bytes, appliedIndex: replica.index) }
            print("restore into SQLite: \(restore); store file \(megabytes(target.sizeBytes)); resident \(residentMegabytes())")
            var offset = 0
            var identical = true
            try target.writeSnapshot { chunk in
                identical = identical && offset + chunk.count <= bytes.count && bytes[offset..<(offset + chunk.count)].elementsEqual(chunk)
                offset += chunk.count
            }
            print("restored snapshot identical: \(identical && offset == bytes.count)")
            try target.close()
        } else {
            var restored = DutyState()
            let restore = Timing.of {
                do { restored = try DutyState.restore(from: bytes) } catch { fatalError("restore failed: \(error)") }
            }
            print("restore: \(restore); resident after restore \(residentMegabytes())")
            print("restored snapshot identical: \(restored.snapshot() == bytes)")
        }
    }
}

if let flag = CommandLine.arguments.firstIndex(of: "--restore"), flag + 1 < CommandLine.arguments.count {
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: CommandLine.arguments[flag + 1])))
    let directory = NSTemporaryDirectory() + "duty-bench-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let store = try DutyStore(path: directory + "/restored.sqlite", clusterID: "bench")
    let restore = try Timing.of { try store.restore(from: bytes, appliedIndex: 1) }
    print("restore of \(megabytes(Int64(bytes.count))) into SQLite: \(restore); \(store.state.ticketCount) tickets, "
          + "\(store.state.archivedTicketCount) archived; store file \(megabytes(store.sizeBytes)); resident \(residentMegabytes())")
    try store.close()
} else {
    let directory: String? = useStore ? NSTemporaryDirectory() + "duty-bench-\(UUID().uuidString)" : nil
    if let directory { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
    defer { if let directory { try? FileManager.default.removeItem(atPath: directory) } }
    var bench = Bench(openTarget: openTarget, archivedTarget: archivedTarget, mixedCount: mixedCount, directory: directory)
    try bench.run()
}
