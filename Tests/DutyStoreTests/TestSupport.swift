import DutyModel
@testable import DutyStore
import Foundation
import Testing

/// One entry of a command log, as the Raft log would carry it.
struct LoggedCommand {
    let command: DutyCommand
    let at: Timestamp
    let actor: ActorID
}

/// A small organisation, and a command generator that archives and reopens a lot, so that many
/// commands read tickets back from the archive.
struct ArchiveChurn {
    /// Monday 2026-03-02 00:00 UTC.
    static let t0: Timestamp = 1_772_409_600_000
    static let routingKey = String(repeating: "r", count: 32)
    static let people = ["alice", "bob", "carol", "dave"]

    var random: SplitMix64
    var now = ArchiveChurn.t0

    init(seed: UInt64) { random = SplitMix64(seed: seed) }

    /// Configuration commands every log starts with.
    static func setup() -> [LoggedCommand] {
        var commands: [DutyCommand] = people.map { id in
            .upsertPerson(Person(id: id, name: id.capitalized, role: id == "alice" ? .admin : id == "dave" ? .manager : .responder))
        }
        commands += [
            .upsertTeam(Team(id: "ops", name: "Operations", memberIDs: ["bob", "carol"], managerID: "dave")),
            .upsertSchedule(OnCallSchedule(id: "primary", name: "Primary", timeZoneIdentifier: "UTC", layers: [
                .init(name: "daily", userIDs: ["bob", "carol"], rotation: .daily, startDate: LocalDate(year: 2026, month: 3, day: 1), handoffMinute: 540),
            ])),
            .upsertEscalationPolicy(EscalationPolicy.defaultEmergencyDraft(onCallScheduleID: "primary", leadPersonID: "dave", specialTeamID: "ops")),
            .upsertService(Service(id: "web", name: "Web shop", teamID: "ops", escalationPolicyID: "emergency")),
            .upsertService(Service(id: "helpdesk", name: "Help desk", teamID: "ops")),
            .addIntegrationKey(serviceID: "web", key: routingKey),
            .upsertArticle(ArticleDraft(id: "login", title: "How to reset a password", body: "Steps 步骤", category: "account")),
            .upsertArticle(ArticleDraft(id: "payment", title: "支付失败怎么办", body: "Retry the payment", category: "billing")),
        ]
        return commands.map { LoggedCommand(command: $0, at: t0, actor: ActorID("alice")) }
    }

    mutating func pick<T>(_ values: [T]) -> T { values[random.next(below: values.count)] }

    /// A ticket id biased towards recent tickets, sometimes one past the end.
    mutating func ticketID(_ state: DutyState) -> TicketID {
        let count = state.ticketCount
        guard count > 0 else { return 1 }
        return random.next(below: 3) == 0 ? 1 + random.next(below: count + 1) : max(1, count - random.next(below: min(count, 30)))
    }

    /// The next command given what the state looks like now (as the API and scheduler would see it).
    mutating func next(for state: DutyState) -> LoggedCommand {
        now += Int64(random.next(below: 600_000))
        let actor = ActorID(pick(Self.people + ["customer:acme", "scheduler"]))
        let id = ticketID(state)
        let command: DutyCommand
        switch random.next(below: 20) {
        case 0, 1, 2:
            command = .registerTicket(NewTicket(kind: pick(TicketKind.allCases), priority: pick(Priority.allCases),
                                                title: pick(["Cannot log in", "无法登录 密码重置", "Payment failed", "支付失败"]),
                                                serviceID: pick(["web", "helpdesk"]), customerID: pick([nil, "acme"])))
        case 3, 4, 5, 6, 7:
            // Mostly tickets that can still move, so that many reach the archive.
            var candidate = id
            for _ in 0..<4 where state.ticket(candidate)?.stage == .archived { candidate = ticketID(state) }
            let stage = state.ticket(candidate)?.stage ?? .registered
            command = .advanceTicket(ticketID: candidate, to: TicketLifecycle.forward[stage] ?? .analysing)
        case 8:
            command = .reopenTicket(ticketID: 1 + random.next(below: max(1, state.ticketCount)), reason: pick(["not fixed", "customer called again"]))
        case 9:
            command = .addNote(ticketID: id, text: pick(["update", "正在处理"]), customerVisible: random.next(below: 2) == 0)
        case 10:
            command = .acknowledgeTicket(ticketID: id)
        case 11:
            command = .pagerDutyEvent(PagerDutyEvent(routingKey: Self.routingKey, action: pick([.trigger, .trigger, .acknowledge, .resolve]),
                                                     dedupKey: pick(["db-down", "disk-full", nil]), summary: "alert", severity: pick(["critical", "warning"])))
        case 12:
            command = .submitFeedback(ticketID: id, rating: 1 + random.next(below: 5), comment: "ok")
        case 13:
            command = .drawSupervisionSample(sampleID: "s\(random.next(below: 1000))", seed: random.next(), size: 1 + random.next(below: 8))
        case 14:
            if let step = state.dueEscalationSteps(until: now).first {
                command = .recordEscalationStep(ticketID: step.ticketID, stepIndex: step.stepIndex)
            } else {
                command = .resolveTicket(ticketID: id)
            }
        case 15:
            if let due = state.dueSLAEvents(at: now).first {
                command = due.isBreach ? .recordSLABreach(ticketID: due.ticketID, target: due.target)
                    : .recordSLAWarning(ticketID: due.ticketID, target: due.target)
            } else {
                command = .recordSLABreach(ticketID: id, target: pick(SLATarget.allCases))
            }
        case 16:
            command = .setWaitingForCustomer(ticketID: id, waiting: random.next(below: 2) == 0)
        case 17:
            command = .assignTicket(ticketID: id, ownerID: pick(["bob", "carol"]))
        case 18:
            command = .resolveTicket(ticketID: id)
        default:
            command = .changePriority(ticketID: id, priority: pick(Priority.allCases))
        }
        return LoggedCommand(command: command, at: now, actor: actor)
    }

    /// A log generated against an in-memory replica, with each command's outcome there.
    static func log(seed: UInt64, count: Int) -> [LoggedCommand] {
        var churn = ArchiveChurn(seed: seed)
        var state = DutyState()
        var log = setup()
        for entry in log { _ = state.apply(entry.command, at: entry.at, actor: entry.actor) }
        for _ in 0..<count {
            let entry = churn.next(for: state)
            _ = state.apply(entry.command, at: entry.at, actor: entry.actor)
            log.append(entry)
        }
        return log
    }
}

/// A fresh directory under the system temp dir, removed when the value goes away.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("dutystore-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    var storePath: String { path + "/duty.sqlite" }

    /// The directory's file names, sorted: shows side files (-wal, -shm) a refused open must not leave.
    func listing() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }
}

/// Size and FNV-1a 64-bit checksum of a file's bytes: equal fingerprints mean the file was left untouched.
struct FileFingerprint: Equatable {
    var sizeBytes: Int
    var checksum: UInt64

    init(path: String) throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        sizeBytes = bytes.count
        checksum = hash
    }
}

let testCluster = "test-cluster"

extension DutyStore {
    /// Applies `log[range]` with Raft indices `range.lowerBound + 1 …`, returning each outcome as text.
    @discardableResult
    func apply(_ log: [LoggedCommand], _ range: Range<Int>) throws -> [String] {
        try range.map { position in
            let entry = log[position]
            return "\(try apply(entry.command, at: entry.at, actor: entry.actor, index: UInt64(position + 1)))"
        }
    }
}

extension DutyState {
    @discardableResult
    mutating func apply(_ log: [LoggedCommand], _ range: Range<Int>) -> [String] {
        range.map { "\(apply(log[$0].command, at: log[$0].at, actor: log[$0].actor))" }
    }
}
