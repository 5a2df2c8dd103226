import Foundation

/// Every checker over one drill's folder: `history.jsonl`, `alerts.jsonl`, `pages.jsonl`, `faults.jsonl`,
/// `leaders.jsonl` and the paging parameters in `drill.json`. The same code judges a drill as it ends (`vigil drill`) and again
/// later from its files (`vigil-check --drill DIR`).
public enum DrillCheck {
    /// The checking reads of every key (after the faults healed, and after a power cut before anyone writes
    /// again) are made by this client.
    public static let finalReadClient = 0

    /// What the checkers found.
    public struct Verdict: Sendable, Equatable {
        /// Keys whose register history has no linearization, with the checker's detail.
        public var linearizabilityViolations: [(key: String, detail: String)] = []
        /// Acknowledged writes found missing: keys whose history stops being linearizable at one of the checking
        /// reads (client 0), plus accepted alerts with no ticket.
        public var lostWrites = 0
        public var paging = PagingCheck.Report()
        public var operations = 0

        public init() {}

        /// Paging violations other than lost alerts (those count as lost writes).
        public var pagingViolations: [PagingCheck.Violation] { paging.violations.filter { $0.kind != .lostAlert } }
        public var isClean: Bool { linearizabilityViolations.isEmpty && lostWrites == 0 && pagingViolations.isEmpty }

        public static func == (lhs: Verdict, rhs: Verdict) -> Bool {
            lhs.linearizabilityViolations.map(\.key) == rhs.linearizabilityViolations.map(\.key) && lhs.lostWrites == rhs.lostWrites
                && lhs.paging == rhs.paging && lhs.operations == rhs.operations
        }
    }

    public static func run(history: [HistoryOperation], alerts: [AlertRecord], pages: [PageRecord], faults: [FaultRecord],
                           leaders: [LeaderRecord] = [], parameters: PagingCheckParameters) -> Verdict {
        var verdict = Verdict()
        verdict.operations = history.count
        for (key, result) in RegisterLinearizability.check(history).sorted(by: { $0.key < $1.key }) {
            guard case let .violation(detail) = result else { continue }
            verdict.linearizabilityViolations.append((key, detail))
            if revealsLostWrite(history.filter { $0.key == key }) { verdict.lostWrites += 1 }
        }
        verdict.paging = PagingCheck.check(alerts: alerts, pages: pages, faults: faults, leaders: leaders, parameters: parameters)
        verdict.lostWrites += verdict.paging.violations.filter { $0.kind == .lostAlert }.count
        return verdict
    }

    /// Whether one of the checking reads is where the key's history stops being linearizable: everything called
    /// before it fits an order, and with it nothing does — it read a state that lacks an acknowledged write.
    static func revealsLostWrite(_ operations: [HistoryOperation]) -> Bool {
        let checks = operations.filter { $0.client == finalReadClient && $0.op == .get }.sorted { $0.callNanoseconds < $1.callNanoseconds }
        for check in checks {
            let before = operations.filter { $0.callNanoseconds < check.callNanoseconds }
            guard RegisterLinearizability.check(key: before) == .linearizable else { return false }
            if RegisterLinearizability.check(key: before + [check]) != .linearizable { return true }
        }
        return false
    }

    /// Reads a drill folder; a missing or malformed file is refused with its name and line.
    public static func run(directory: String) throws(HistoryError) -> Verdict {
        let settingsPath = directory + "/drill.json"
        let settingsText = try JSONLines.text(path: settingsPath)
        let parameters: PagingCheckParameters
        do {
            parameters = try JSONDecoder().decode(PagingCheckParameters.self, from: Data(settingsText.utf8))
        } catch {
            throw HistoryError(path: settingsPath, line: 0, reason: "no paging parameters (\(JSONLines.describe(error)))")
        }
        return run(history: try HistoryFile.read(path: directory + "/history.jsonl"),
                   alerts: try JSONLines.read(path: directory + "/alerts.jsonl", as: AlertRecord.self),
                   pages: try JSONLines.read(path: directory + "/pages.jsonl", as: PageRecord.self),
                   faults: try JSONLines.read(path: directory + "/faults.jsonl", as: FaultRecord.self),
                   leaders: try JSONLines.read(path: directory + "/leaders.jsonl", as: LeaderRecord.self),
                   parameters: parameters)
    }

    /// `lost_writes=0 linearizability_violations=0 paging_violations=0`.
    public static func summary(_ verdict: Verdict) -> String {
        "lost_writes=\(verdict.lostWrites) linearizability_violations=\(verdict.linearizabilityViolations.count) paging_violations=\(verdict.pagingViolations.count)"
    }

    /// One line per violation, for people.
    public static func describe(_ verdict: Verdict) -> [String] {
        verdict.linearizabilityViolations.map { "linearizability: key \"\($0.key)\": \($0.detail)" }
            + verdict.paging.violations.map { "paging: \($0)" }
    }
}
