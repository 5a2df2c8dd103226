import Foundation
import HistoryCheck

/// Writes a drill's folder: the records any checker can read, `drill.json` (settings and paging parameters),
/// `result.json` (the figures), `report.md` (the verdict and a timeline for people) and `timeline.svg`.
enum DrillReport {
    static func write(directory: String, options: DrillOptions, file: DrillFile, parameters: PagingCheckParameters, result: DrillResult,
                      history: [HistoryOperation], alerts: [AlertRecord], pages: [PageRecord], recorder: DrillRecorder,
                      unreadablePages: Int) throws(DrillError) {
        let leaders = recorder.leaders()
        let faults = recorder.faults()
        try lines(history.map(JSONLines.line), to: directory + "/history.jsonl")
        try lines(alerts.map(JSONLines.line), to: directory + "/alerts.jsonl")
        try lines(pages.sorted { $0.arrivedNanoseconds < $1.arrivedNanoseconds }.map(JSONLines.line), to: directory + "/pages.jsonl")
        try lines(faults.map(JSONLines.line), to: directory + "/faults.jsonl")
        try lines(leaders.map(JSONLines.line), to: directory + "/leaders.jsonl")
        let settings: [String: Any] = [
            "scenario": options.scenario.rawValue, "seed": options.seed, "nodes": file.nodes.map(\.id), "duration_seconds": options.durationSeconds,
            "clients": options.clients, "keys": options.keys, "levels": options.levels, "level_seconds": options.levelSeconds,
            "alert_every_ms": options.alertEveryMilliseconds, "allowance_ns": parameters.allowanceNanoseconds,
            "minority_grace_ns": parameters.minorityGraceNanoseconds, "observed_until_ns": parameters.observedUntilNanoseconds,
        ]
        try json(settings, to: directory + "/drill.json")
        let figures: [String: Any] = [
            "ok": result.isOK, "lost_writes": result.verdict.lostWrites,
            "linearizability_violations": result.verdict.linearizabilityViolations.count,
            "paging_violations": result.verdict.pagingViolations.count, "faults": result.faultsInjected,
            "command_failures": result.commandFailures, "writes_acknowledged": result.acknowledgedWrites, "writes_unknown": result.unknownWrites,
            "longest_write_ms": result.longestWriteMilliseconds, "leaderless_ms": result.leaderlessMilliseconds,
            "failover_ms": result.failoverMilliseconds,
            "failovers": result.failovers.map { ["kind": $0.kind.rawValue, "ms": $0.milliseconds] }, "alerts_accepted": result.alertsAccepted, "pages": result.pagesReceived,
            "page_delays_ms": result.verdict.paging.delaysNanoseconds.map { $0 / 1_000_000 }, "levels_owed": result.verdict.paging.levelsOwed,
            "settle_ms": result.settleMilliseconds, "unreadable_sink_requests": unreadablePages, "operations": history.count,
        ]
        try json(figures, to: directory + "/result.json")

        var report = ["# Drill: \(options.scenario.rawValue), seed \(options.seed), \(file.nodes.count) nodes, \(options.durationSeconds) s", ""]
        report.append("**\(result.isOK ? "OK" : "FAILED")** — `\(result.summary)`")
        report.append("")
        let problems = DrillCheck.describe(result.verdict) + result.commandFailures.map { "command: \($0)" }
        if !problems.isEmpty {
            report.append("## Violations and failures")
            report.append("")
            report += problems.prefix(200).map { "- \($0)" }
            report.append("")
        }
        let svg = DrillTimelineSVG.render(faults: faults, leaders: leaders, history: history, pages: pages,
                                          endNanoseconds: parameters.observedUntilNanoseconds)
        try lines([svg], to: directory + "/timeline.svg")
        report.append("## Timeline")
        report.append("")
        report.append("![faults, leader, write latency (0–1 s; unknown outcomes in red) and pages by level](timeline.svg)")
        report.append("")
        report.append("| time (s) | event |")
        report.append("|---|---|")
        var events: [(UInt64, String)] = []
        events += faults.map { ($0.atNanoseconds, "fault: \($0.detail)\($0.minority.isEmpty ? "" : " — minority \($0.minority)")") }
        events += leaders.map { change in
            (change.atNanoseconds, (change.leader.map { "leader: node \($0) (a majority agrees)" } ?? "leader: none a majority agrees on")
                + "; say they lead: \(change.claimants.isEmpty ? "none" : change.claimants.map(String.init).joined(separator: ", "))")
        }
        events += pages.map { ($0.arrivedNanoseconds, "page: ticket \($0.ticket) level \($0.level) to \($0.person) from node \($0.node.map(String.init) ?? "?")") }
        for (at, text) in events.sorted(by: { $0.0 < $1.0 }) {
            report.append("| \(String(format: "%.3f", Double(at) / 1e9)) | \(text) |")
        }
        try lines(report, to: directory + "/report.md")
    }

    static func lines(_ lines: [String], to path: String) throws(DrillError) {
        do {
            try Data((lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")).utf8).write(to: URL(fileURLWithPath: path))
        } catch {
            throw DrillError("\(path): cannot write: \((error as NSError).localizedDescription)")
        }
    }

    static func json(_ object: [String: Any], to path: String) throws(DrillError) {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])) ?? Data("{}".utf8)
        try lines([String(decoding: data, as: UTF8.self)], to: path)
    }
}
