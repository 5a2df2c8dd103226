/// Judges what a drill's webhook sink received against the promise (MISSION.md): every level of every
/// unacknowledged ticket paged no later than its deadline plus the failover allowance; never two different
/// idempotency keys for one step; no page from a node cut off from the majority, nor from one that said it was not
/// the leader all around the time it sent; no accepted alert lost.
public enum PagingCheck {
    /// One broken promise, with what shows it.
    public struct Violation: Sendable, Equatable, CustomStringConvertible {
        public enum Kind: String, Sendable {
            case lostAlert = "lost_alert", missingPage = "missing_page", latePage = "late_page"
            case twoKeysForOneStep = "two_keys_for_one_step", pageFromMinority = "page_from_minority"
            case pageFromNonLeader = "page_from_non_leader"
        }

        public let kind: Kind
        public let detail: String
        public var description: String { "\(kind.rawValue): \(detail)" }
    }

    /// The verdict, and how late the owed levels were (arrival minus deadline, 0 when early).
    public struct Report: Sendable, Equatable {
        public var violations: [Violation] = []
        /// One per level that was owed and paged, in nanoseconds.
        public var delaysNanoseconds: [UInt64] = []
        public var levelsOwed = 0

        public init() {}
    }

    /// `leaders` may be empty (nobody watched): then the non-leader rule is not checked.
    public static func check(alerts: [AlertRecord], pages: [PageRecord], faults: [FaultRecord], leaders: [LeaderRecord] = [],
                             parameters: PagingCheckParameters) -> Report {
        var report = Report()
        var firstArrival: [Level: UInt64] = [:]
        for page in pages {
            let level = Level(ticket: page.ticket, level: page.level)
            firstArrival[level] = min(firstArrival[level] ?? .max, page.arrivedNanoseconds)
        }
        let outages = outageWindows(faults)
        for alert in alerts.sorted(by: { $0.dedupKey < $1.dedupKey }) {
            guard let accepted = alert.acceptedNanoseconds else { continue }
            guard let ticket = alert.ticket else {
                report.violations.append(Violation(kind: .lostAlert, detail: "alert \(alert.dedupKey) was accepted at \(millis(accepted)) but no ticket holds it"))
                continue
            }
            for (index, deadline) in alert.deadlinesNanoseconds.enumerated() {
                if let acknowledged = alert.acknowledgedNanoseconds, acknowledged <= deadline { break }
                // While every node is down (a power cut) nobody can page: a level due then, or due so soon before
                // it that the allowance ran into it, is owed one allowance after the cluster is back.
                var latest = deadline + parameters.allowanceNanoseconds
                for outage in outages where deadline <= outage.upperBound && latest >= outage.lowerBound {
                    latest = max(latest, outage.upperBound + parameters.allowanceNanoseconds)
                }
                let arrival = firstArrival[Level(ticket: ticket, level: index)]
                guard latest <= parameters.observedUntilNanoseconds || arrival != nil else { continue }
                report.levelsOwed += 1
                guard let arrival else {
                    report.violations.append(Violation(kind: .missingPage, detail: "ticket \(ticket) level \(index): due at \(millis(deadline)), never paged (watched until \(millis(parameters.observedUntilNanoseconds)))"))
                    continue
                }
                report.delaysNanoseconds.append(arrival > deadline ? arrival - deadline : 0)
                if arrival > latest {
                    report.violations.append(Violation(kind: .latePage, detail: "ticket \(ticket) level \(index): due at \(millis(deadline)), paged at \(millis(arrival)), \(millis(arrival - deadline)) late (owed by \(millis(latest)))"))
                }
            }
        }
        var keysByStep: [Step: Set<String>] = [:]
        for page in pages { keysByStep[Step(ticket: page.ticket, step: page.step, person: page.person), default: []].insert(page.key) }
        for (step, keys) in keysByStep.sorted(by: { $0.key < $1.key }) where keys.count > 1 {
            report.violations.append(Violation(kind: .twoKeysForOneStep, detail: "ticket \(step.ticket) step \(step.step) to \(step.person) was paged under \(keys.count) keys: \(keys.sorted().joined(separator: ", "))"))
        }
        let timeline = faults.sorted { $0.atNanoseconds < $1.atNanoseconds }
        for page in pages.sorted(by: { $0.arrivedNanoseconds < $1.arrivedNanoseconds }) {
            guard let node = page.node, let since = cutOffSince(node, at: page.arrivedNanoseconds, timeline: timeline) else { continue }
            if page.arrivedNanoseconds - since >= parameters.minorityGraceNanoseconds {
                report.violations.append(Violation(kind: .pageFromMinority, detail: "node \(node) sent ticket \(page.ticket) level \(page.level) (key \(page.key)) at \(millis(page.arrivedNanoseconds)), cut off from the majority since \(millis(since))"))
            }
        }
        let grace = parameters.minorityGraceNanoseconds
        for page in pages.sorted(by: { $0.arrivedNanoseconds < $1.arrivedNanoseconds }) where !leaders.isEmpty {
            guard let node = page.node else { continue }
            let from = page.arrivedNanoseconds > grace ? page.arrivedNanoseconds - grace : 0
            let window = during(from: from, to: page.arrivedNanoseconds + grace, leaders: leaders)
            if !window.contains(where: { $0.claimants.contains(node) }), window.contains(where: { $0.deniers.contains(node) }) {
                report.violations.append(Violation(kind: .pageFromNonLeader, detail: "node \(node) sent ticket \(page.ticket) level \(page.level) (key \(page.key)) at \(millis(page.arrivedNanoseconds)), and said it was not the leader from \(millis(from)) to \(millis(page.arrivedNanoseconds + grace))"))
            }
        }
        return report
    }

    /// The watcher's lines in effect at some instant of [from, to] (the timeline holds changes only).
    static func during(from: UInt64, to: UInt64, leaders: [LeaderRecord]) -> [LeaderRecord] {
        leaders.enumerated().filter { index, change in
            let end = index + 1 < leaders.count ? leaders[index + 1].atNanoseconds : .max
            return change.atNanoseconds <= to && end >= from
        }.map(\.element)
    }

    /// The faults that take every node down (`power-cut`), from the cut to the restart of the same nodes.
    static let outageActions: Set<String> = ["power-cut"]

    static func outageWindows(_ faults: [FaultRecord]) -> [ClosedRange<UInt64>] {
        let timeline = faults.sorted { $0.atNanoseconds < $1.atNanoseconds }
        return timeline.enumerated().compactMap { index, fault in
            guard outageActions.contains(fault.action) else { return nil }
            let end = timeline[(index + 1)...].first { $0.nodes == fault.nodes }?.atNanoseconds ?? .max
            return fault.atNanoseconds...end
        }
    }

    /// When `node`'s current stretch in the minority began, if it is in the minority at `instant`.
    static func cutOffSince(_ node: Int, at instant: UInt64, timeline: [FaultRecord]) -> UInt64? {
        var since: UInt64?
        for fault in timeline {
            guard fault.atNanoseconds <= instant else { break }
            if fault.minority.contains(node) {
                if since == nil { since = fault.atNanoseconds }
            } else {
                since = nil
            }
        }
        return since
    }

    static func millis(_ nanoseconds: UInt64) -> String { "\(nanoseconds / 1_000_000) ms" }

    struct Level: Hashable {
        let ticket: Int
        let level: Int
    }

    struct Step: Hashable, Comparable {
        let ticket: Int
        let step: Int
        let person: String
        static func < (lhs: Step, rhs: Step) -> Bool { (lhs.ticket, lhs.step, lhs.person) < (rhs.ticket, rhs.step, rhs.person) }
    }
}
