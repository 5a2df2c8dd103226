import DutyModel
import Foundation

// Prints throughput, snapshot and memory figures for the duty model. No assertions.
// Usage: duty-bench [openTickets=100000] [archivedTickets=0] [mixedCommands=200000]

let arguments = CommandLine.arguments.dropFirst().map { Int($0) }
let openTarget = (arguments.first ?? nil) ?? 100_000
let archivedTarget = (arguments.dropFirst().first ?? nil) ?? 0
let mixedCount = (arguments.dropFirst(2).first ?? nil) ?? 200_000

/// Holds the mutable bench state so that Swift 6 strict concurrency sees one owner.
struct Bench {
    let openTarget: Int
    let archivedTarget: Int
    let mixedCount: Int

    mutating func run() {
        let routingKey = String(repeating: "k", count: 32)
        let admin = ActorID("admin")
        var now: Timestamp = 1_772_409_600_000  // 2026-03-02 00:00 UTC

        func must(_ state: inout DutyState, _ command: DutyCommand, actor: ActorID = admin) {
            if case .failure(let error) = state.apply(command, at: now, actor: actor) {
                fatalError("setup command \(command.name) failed: \(error)")
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

        var state = DutyState()
        let names = (0..<20).map { "person\($0)" }
        for name in names {
            must(&state, .upsertPerson(Person(id: name, name: name, role: .responder,
                                              contactMethods: [ContactMethod(id: "sms", kind: .sms, address: "+100000")],
                                              notificationRules: [NotificationRule(contactMethodID: "sms", delayMinutes: 0)])))
        }
        must(&state, .upsertTeam(Team(id: "ops", name: "Ops", memberIDs: Array(names.prefix(5)))))
        must(&state, .upsertSchedule(OnCallSchedule(id: "primary", name: "Primary", timeZoneIdentifier: "Europe/Berlin", layers: [
            .init(name: "weekly", userIDs: Array(names.prefix(8)), rotation: .weekly, startDate: LocalDate(year: 2026, month: 1, day: 5), handoffMinute: 540),
            .init(name: "nights", userIDs: Array(names.suffix(4)), rotation: .daily, startDate: LocalDate(year: 2026, month: 1, day: 5),
                  handoffMinute: 1320, restrictions: [.init(startMinute: 1320, endMinute: 360)]),
        ])))
        must(&state, .upsertEscalationPolicy(EscalationPolicy.defaultEmergencyDraft(onCallScheduleID: "primary", leadPersonID: "person0", specialTeamID: "ops")))
        must(&state, .upsertService(Service(id: "web", name: "Web", teamID: "ops", escalationPolicyID: "emergency")))
        must(&state, .addIntegrationKey(serviceID: "web", key: routingKey))
        for index in 0..<20 {
            must(&state, .upsertArticle(ArticleDraft(id: "faq\(index)", title: index % 2 == 0 ? "How to fix problem \(index)" : "问题\(index)如何处理",
                                                     body: "Step by step answer number \(index). 按步骤处理。", category: "general")))
        }

        let titles = ["Cannot log in", "Payment failed", "网站无法访问", "Slow page", "密码重置"]
        var random = SplitMix64(seed: 2026)

        /// One command of the mixed workload, picked against the current state.
        func mixedCommand() -> (DutyCommand, ActorID) {
            let count = state.tickets.count
            let ticketID = count == 0 ? 1 : max(1, count - random.next(below: min(count, 5_000)))
            switch random.next(below: 20) {
            case 0..<6:
                return (.registerTicket(NewTicket(kind: .consultation, priority: [Priority.p1, .p2, .p3, .p4][random.next(below: 4)],
                                                  title: titles[random.next(below: titles.count)], serviceID: "web")), admin)
            case 6..<9:
                return (.acknowledgeTicket(ticketID: ticketID), ActorID(names[random.next(below: names.count)]))
            case 9..<12:
                let stage = state.ticket(ticketID)?.stage ?? .registered
                return (.advanceTicket(ticketID: ticketID, to: TicketLifecycle.forward[stage] ?? .analysing), admin)
            case 12..<14:
                return (.addNote(ticketID: ticketID, text: "update", customerVisible: true), ActorID("person1"))
            case 14..<16:
                return (.pagerDutyEvent(PagerDutyEvent(routingKey: routingKey, action: .trigger, dedupKey: "alert-\(random.next(below: 50))",
                                                       summary: "disk full", severity: "critical")), ActorID("pagerduty"))
            case 16:
                if let step = state.nextDueStep(ticketID) { return (.recordEscalationStep(ticketID: ticketID, stepIndex: step.stepIndex), ActorID("scheduler")) }
                return (.setWaitingForCustomer(ticketID: ticketID, waiting: true), admin)
            case 17:
                return (.setWaitingForCustomer(ticketID: ticketID, waiting: !(state.ticket(ticketID)?.waitingForCustomer ?? false)), admin)
            default:
                return (.recordArticleHit(articleID: "faq\(random.next(below: 20))"), admin)
            }
        }

        print("duty-bench: open=\(openTarget) archived=\(archivedTarget) mixed=\(mixedCount)")
        let clock = ContinuousClock()
        var accepted = 0
        let mixedElapsed = clock.measure {
            for _ in 0..<mixedCount {
                now += 50
                let (command, actor) = mixedCommand()
                if case .success = state.apply(command, at: now, actor: actor) { accepted += 1 }
            }
        }
        print(String(format: "mixed workload: %d commands in %.2f s = %.0f commands/s (%d accepted, %d rejected)",
                     mixedCount, seconds(mixedElapsed), Double(mixedCount) / seconds(mixedElapsed), accepted, mixedCount - accepted))

        let residentBeforeArchived = residentKilobytes()
        let ticketsBeforeArchived = state.tickets.count
        var residentAfterArchived = residentBeforeArchived
        let fillElapsed = clock.measure {
            for _ in 0..<archivedTarget {
                now += 10
                must(&state, .registerTicket(NewTicket(kind: .consultation, priority: .p3, title: titles[random.next(below: titles.count)], serviceID: "web")))
                let id = state.tickets.count
                for stage in [TicketStage.analysing, .handling, .feedback, .archived] { must(&state, .advanceTicket(ticketID: id, to: stage)) }
            }
            residentAfterArchived = residentKilobytes()
            while state.openTicketCount < openTarget {
                now += 10
                must(&state, .registerTicket(NewTicket(kind: .consultation, priority: [Priority.p2, .p3][random.next(below: 2)],
                                                       title: titles[random.next(below: titles.count)], serviceID: "web")))
            }
        }
        let archivedCount = state.tickets.filter { $0.stage == .archived }.count
        print(String(format: "filled in %.2f s: %d tickets (%d open, %d archived); resident %@",
                     seconds(fillElapsed), state.tickets.count, state.openTicketCount, archivedCount, residentMegabytes()))

        let openAdded = state.tickets.count - ticketsBeforeArchived - archivedTarget
        if archivedTarget > 0 {
            print(String(format: "memory per archived ticket (RSS delta): %.0f bytes", (residentAfterArchived - residentBeforeArchived) * 1024 / Double(archivedTarget)))
        }
        if openAdded > 0 {
            print(String(format: "memory per open ticket (RSS delta): %.0f bytes", (residentKilobytes() - residentAfterArchived) * 1024 / Double(openAdded)))
        }

        var bytes: [UInt8] = []
        let snapshotElapsed = clock.measure { bytes = state.snapshot() }
        print(String(format: "snapshot: %.1f MB in %.2f s (%.0f bytes/ticket)",
                     Double(bytes.count) / 1_048_576, seconds(snapshotElapsed), Double(bytes.count) / Double(max(1, state.tickets.count))))
        var restored = DutyState()
        let restoreElapsed = clock.measure {
            do { restored = try DutyState.restore(from: bytes) } catch { fatalError("restore failed: \(error)") }
        }
        print(String(format: "restore: %.2f s; resident after restore %@", seconds(restoreElapsed), residentMegabytes()))
        print("restored snapshot identical: \(restored.snapshot() == bytes)")
        // Where snapshot time goes, to guide a faster format later (set DUTY_BENCH_BREAKDOWN=1).
        if ProcessInfo.processInfo.environment["DUTY_BENCH_BREAKDOWN"] == "1" {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let tickets = state.tickets
            func time(_ label: String, _ body: () throws -> Data) {
                var size = 0
                let elapsed = clock.measure { size = (try? body())?.count ?? 0 }
                print(String(format: "  encode %@: %.2f s, %.1f MB", label, seconds(elapsed), Double(size) / 1_048_576))
            }
            time("tickets") { try encoder.encode(tickets) }
            time("timelines") { try encoder.encode(tickets.map(\.timeline)) }
            time("clocks") { try encoder.encode(tickets.map(\.clocks)) }
            time("escalations") { try encoder.encode(tickets.map(\.escalation)) }
            time("titles") { try encoder.encode(tickets.map(\.title)) }
        }
        let dueElapsed = clock.measure { _ = state.dueEscalationSteps(until: now) }
        print(String(format: "dueEscalationSteps over all tickets: %.3f s", seconds(dueElapsed)))

    }
}

var bench = Bench(openTarget: openTarget, archivedTarget: archivedTarget, mixedCount: mixedCount)
bench.run()
