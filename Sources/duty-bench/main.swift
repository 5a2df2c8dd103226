import DutyModel
import DutyStore
import Foundation

// Prints throughput, snapshot and memory figures for the duty model. No assertions.
// Usage: duty-bench [--store] [openTickets=100000] [archivedTickets=0] [mixedCommands=200000]
// --store keeps archived tickets in a DutyStore (SQLite in a temporary directory) instead of in memory.

let useStore = CommandLine.arguments.contains("--store")
let arguments = CommandLine.arguments.dropFirst().filter { !$0.hasPrefix("--") }.map { Int($0) }
let openTarget = (arguments.first ?? nil) ?? 100_000
let archivedTarget = (arguments.dropFirst().first ?? nil) ?? 0
let mixedCount = (arguments.dropFirst(2).first ?? nil) ?? 200_000

/// The state under test: a plain `DutyState`, or a `DutyStore` fed Raft-like indices and batches.
final class Replica {
    private var memory: DutyState
    let store: DutyStore?
    private(set) var index: UInt64 = 0
    /// Commands per commit, as a node would apply a batch of committed Raft entries.
    let batchSize = 1_000

    init(store: DutyStore?) {
        self.store = store
        memory = DutyState()
    }

    var state: DutyState { store?.state ?? memory }

    func apply(_ command: DutyCommand, at: Timestamp, actor: ActorID) -> Result<[DutyEvent], DutyError> {
        index += 1
        guard let store else { return memory.apply(command, at: at, actor: actor) }
        do {
            let result = try store.apply(command, at: at, actor: actor, index: index)
            if index % UInt64(batchSize) == 0 { try store.commit() }
            return result
        } catch {
            fatalError("store failed: \(error)")
        }
    }

    func commit() {
        do { try store?.commit() } catch { fatalError("commit failed: \(error)") }
    }
}

func residentKilobytes() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
    return Double(line.split(separator: " ").last { !$0.isEmpty && $0 != "kB" }.map(String.init) ?? "") ?? 0
}

func residentMegabytes() -> String { String(format: "%.0f MB", residentKilobytes() / 1024) }

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func megabytes(_ bytes: Int64) -> String { String(format: "%.1f MB", Double(bytes) / 1_048_576) }

/// Holds the mutable bench state so that Swift 6 strict concurrency sees one owner.
struct Bench {
    let openTarget: Int
    let archivedTarget: Int
    let mixedCount: Int
    let directory: String?

    mutating func run() throws {
        let routingKey = String(repeating: "k", count: 32)
        let admin = ActorID("admin")
        var now: Timestamp = 1_772_409_600_000  // 2026-03-02 00:00 UTC
        let clock = ContinuousClock()
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

        /// Times the mixed workload, picking included (picks read the state as the API would), and the
        /// final commit of the store.
        func mixed(_ label: String) {
            var accepted = 0
            let elapsed = clock.measure {
                for _ in 0..<mixedCount {
                    now += 50
                    let (command, actor) = mixedCommand()
                    if case .success = replica.apply(command, at: now, actor: actor) { accepted += 1 }
                }
                replica.commit()
            }
            print(String(format: "%@: %d commands in %.2f s = %.0f commands/s (%d accepted, %d rejected)",
                         label, mixedCount, seconds(elapsed), Double(mixedCount) / seconds(elapsed), accepted, mixedCount - accepted))
        }

        print("duty-bench: open=\(openTarget) archived=\(archivedTarget) mixed=\(mixedCount) archive=\(storePath ?? "in memory")")
        mixed("mixed workload")

        let residentBeforeArchived = residentKilobytes()
        let ticketsBeforeArchived = replica.state.ticketCount
        var residentAfterArchived = residentBeforeArchived
        let fillElapsed = clock.measure {
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
        let state = replica.state
        print(String(format: "filled in %.2f s: %d tickets (%d open, %d unarchived in memory, %d archived); resident %@",
                     seconds(fillElapsed), state.ticketCount, state.openTicketCount, state.workingSetTicketCount,
                     state.archivedTicketCount, residentMegabytes()))
        let openAdded = state.ticketCount - ticketsBeforeArchived - archivedTarget
        if archivedTarget > 0 {
            print(String(format: "memory per archived ticket (RSS delta): %.0f bytes", (residentAfterArchived - residentBeforeArchived) * 1024 / Double(archivedTarget)))
        }
        if openAdded > 0 {
            print(String(format: "memory per open ticket (RSS delta): %.0f bytes", (residentKilobytes() - residentAfterArchived) * 1024 / Double(openAdded)))
        }

        if let store = replica.store {
            let checkpointElapsed = try clock.measure { try store.checkpoint() }
            print(String(format: "checkpoint (working set of %d tickets + archive merge): %.2f s; store file %@; resident %@",
                         state.workingSetTicketCount, seconds(checkpointElapsed), megabytes(store.sizeBytes), residentMegabytes()))
        }

        mixed("mixed workload on the full state")
        print("resident with the full state: \(residentMegabytes())")

        let sampleElapsed = clock.measure {
            now += 50
            _ = replica.apply(.drawSupervisionSample(sampleID: "bench", seed: 7, size: 100), at: now, actor: admin)
        }
        print(String(format: "drawSupervisionSample over %d archived tickets: %.3f s", replica.state.archivedTicketCount, seconds(sampleElapsed)))
        let reportElapsed = try clock.measure {
            _ = try DutyReport(state: replica.state, year: 2026, month: 3, timeZoneIdentifier: "Asia/Shanghai", grouping: .person, asOf: now)
        }
        print(String(format: "monthly report (March, per person): %.2f s", seconds(reportElapsed)))
        let dueElapsed = clock.measure { _ = replica.state.dueEscalationSteps(until: now) }
        print(String(format: "dueEscalationSteps over the working set: %.3f s", seconds(dueElapsed)))

        var bytes: [UInt8] = []
        let snapshotElapsed = try clock.measure {
            if let store = replica.store { bytes = try store.snapshot() } else { bytes = replica.state.snapshot() }
        }
        let ticketCount = replica.state.ticketCount
        print(String(format: "snapshot: %.1f MB in %.2f s (%.0f bytes/ticket); resident %@",
                     Double(bytes.count) / 1_048_576, seconds(snapshotElapsed), Double(bytes.count) / Double(max(1, ticketCount)), residentMegabytes()))

        if let directory, let store = replica.store {
            try store.checkpoint()
            try store.close()
            let reopenElapsed = try clock.measure { _ = try DutyStore(path: storePath!, clusterID: "bench").close() }
            print(String(format: "restart (validate + load the working set): %.2f s", seconds(reopenElapsed)))
            let target = try DutyStore(path: directory + "/restored.sqlite", clusterID: "bench")
            let restoreElapsed = try clock.measure { try target.restore(from: bytes, appliedIndex: replica.index) }
            print(String(format: "restore into SQLite: %.2f s; store file %@; resident %@",
                         seconds(restoreElapsed), megabytes(target.sizeBytes), residentMegabytes()))
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
            let restoreElapsed = clock.measure {
                do { restored = try DutyState.restore(from: bytes) } catch { fatalError("restore failed: \(error)") }
            }
            print(String(format: "restore: %.2f s; resident after restore %@", seconds(restoreElapsed), residentMegabytes()))
            print("restored snapshot identical: \(restored.snapshot() == bytes)")
        }
    }
}

let directory: String? = useStore ? NSTemporaryDirectory() + "duty-bench-\(UUID().uuidString)" : nil
if let directory { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
defer { if let directory { try? FileManager.default.removeItem(atPath: directory) } }
var bench = Bench(openTarget: openTarget, archivedTarget: archivedTarget, mixedCount: mixedCount, directory: directory)
try bench.run()
