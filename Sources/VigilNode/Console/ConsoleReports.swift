import DutyModel
import Foundation
import Hummingbird
import NIOCore
import Paging

/// The monthly assessment (S10) as tables and a server-drawn SVG chart, its CSV, supervision samples (S12) and
/// customer feedback (S13).
extension Console {
    func reportsPage(_ request: Request, _ viewer: Viewer) async -> Response {
        let t = ConsoleCatalog.messages(Self.language(request))
        let query = request.uri.queryParameters
        let now = HTTPAPI.nowMillis()
        let zone = query.get("time_zone") ?? "UTC"
        let month = query.get("month") ?? String(Self.iso(now).prefix(7))
        let grouping = DutyReport.Grouping(rawValue: query.get("group") ?? "team") ?? .team
        let parts = month.split(separator: "-").compactMap { Int($0) }
        let state = await readState()
        var data: [String: Any] = [
            "month": month, "time_zone": zone,
            "groups": Self.options(DutyReport.Grouping.allCases, selected: grouping, value: \.rawValue) { t["group_\($0.rawValue)"] ?? $0.rawValue },
            "csv_query": "month=\(Self.formEncode(month))&group=\(grouping.rawValue)&time_zone=\(Self.formEncode(zone))",
        ]
        guard parts.count == 2, let report = try? DutyReport(state: state, year: parts[0], month: parts[1], timeZoneIdentifier: zone,
                                                             grouping: grouping, asOf: now) else {
            return page("reports", titleKey: "title_reports", request: request, viewer: viewer, problemKey: "invalid_input", data: data)
        }
        func percent(_ value: Double?) -> String { value.map { String(format: "%.1f %%", $0) } ?? "—" }
        func minutes(_ seconds: Double?) -> String { seconds.map { String(format: "%.1f", $0 / 60) } ?? "—" }
        func overall(_ row: DutyReport.Row) -> Double? {
            let met = row.attainment.values.reduce(0) { $0 + $1.met }, breached = row.attainment.values.reduce(0) { $0 + $1.breached }
            return met + breached == 0 ? nil : Double(met) * 100 / Double(met + breached)
        }
        data["rows"] = report.rows.map { row -> [String: Any] in
            [
                "group": row.group, "registered": "\(row.ticketsRegistered)", "resolved": "\(row.ticketsResolved)",
                "resolution_rate": percent(row.resolutionRatePercent), "mtta": minutes(row.mttaSeconds), "mttr": minutes(row.mttrSeconds),
                "satisfaction": row.satisfactionAverage.map { String(format: "%.2f", $0) } ?? "—",
                "attainment": percent(overall(row)), "breaches": "\(row.breachCount)",
                "targets": SLATarget.allCases.compactMap { target in
                    row.attainment[target].map { ["label": t["target_\(target.rawValue)"] ?? target.rawValue, "percent": percent($0.percent)] }
                },
            ]
        }
        data["chart"] = Self.attainmentSVG(report.rows.map { ($0.group, overall($0)) })
        data["samples"] = state.samples.keys.sorted().compactMap { id -> [String: Any]? in
            guard let sample = state.samples[id] else { return nil }
            var fields: [String: Any] = ["id": id, "size": "\(sample.ticketIDs.count)", "reviewed": "\(sample.reviews.count)"]
            fields["verdicts"] = sample.reviews.map { ["ticket": "\($0.ticketID)", "verdict": t["verdict_\($0.verdict.rawValue)"] ?? $0.verdict.rawValue, "note": $0.note] }
            return fields
        }
        data["feedback"] = state.workingSetTickets().reversed().compactMap { ticket -> [String: Any]? in
            guard let feedback = ticket.feedback else { return nil }
            var fields: [String: Any] = ["id": "\(ticket.id)", "title": ticket.title, "rating": "\(feedback.rating)", "comment": feedback.comment]
            if feedback.rating <= 2 { fields["low"] = true }
            return fields
        }.prefix(Self.maximumListedTickets).map { $0 }
        return page("reports", titleKey: "title_reports", request: request, viewer: viewer, data: data)
    }

    /// The same CSV as `GET /api/v1/reports?format=csv`, as a download.
    func reportCSV(_ request: Request) async -> Response {
        let state = await readState()
        let answer = api.report(request, state)
        guard answer.status == .ok else { return answer }
        var response = answer
        response.headers[.contentType] = "text/csv; charset=utf-8"
        response.headers[.contentDisposition] = "attachment; filename=\"vigil-report.csv\""
        return response
    }

    /// SLA attainment per group as horizontal bars, 0–100 %; a group with no decided clock has no bar.
    static func attainmentSVG(_ rows: [(group: String, percent: Double?)]) -> String {
        let labelWidth = 160.0, barWidth = 400.0, rowHeight = 24.0
        let height = Double(rows.count) * rowHeight + 24
        var svg = "<svg class=\"timeline\" role=\"img\" viewBox=\"0 0 \(Int(labelWidth + barWidth + 70)) \(Int(height))\" xmlns=\"http://www.w3.org/2000/svg\">"
        for mark in stride(from: 0, through: 100, by: 25) {
            let x = labelWidth + barWidth * Double(mark) / 100
            svg += "<line x1=\"\(x)\" y1=\"14\" x2=\"\(x)\" y2=\"\(height)\" stroke=\"#ccc\"/><text x=\"\(x - 8)\" y=\"11\">\(mark)%</text>"
        }
        for (index, row) in rows.enumerated() {
            let y = 18 + Double(index) * rowHeight
            svg += "<text x=\"2\" y=\"\(y + 15)\">\(PageText.html(String(row.group.prefix(24))))</text>"
            if let percent = row.percent {
                svg += "<rect class=\"shift\" x=\"\(labelWidth)\" y=\"\(y)\" width=\"\(max(1, barWidth * percent / 100))\" height=\"\(rowHeight - 6)\"/>"
                svg += "<text x=\"\(labelWidth + barWidth + 6)\" y=\"\(y + 15)\">\(String(format: "%.1f", percent))%</text>"
            }
        }
        return svg + "</svg>"
    }
}
