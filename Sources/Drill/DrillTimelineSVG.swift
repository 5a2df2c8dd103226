import Foundation
import HistoryCheck

/// A drill's timeline as an SVG picture (`timeline.svg`, shown in `report.md`): faults as bands, the agreed
/// leader, each acknowledged write's latency (unknown outcomes in red), and every page by level.
enum DrillTimelineSVG {
    static let width = 1_000.0
    static let left = 70.0
    static let rowHeight = 60.0

    static func render(faults: [FaultRecord], leaders: [LeaderRecord], history: [HistoryOperation], pages: [PageRecord],
                       endNanoseconds: UInt64) -> String {
        let end = Double(max(endNanoseconds, 1))
        func x(_ nanoseconds: UInt64) -> Double { left + (width - left - 10) * min(Double(nanoseconds), end) / end }
        func f(_ value: Double) -> String { String(format: "%.1f", value) }
        let colours = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#9c755f"]
        var body: [String] = []
        let rows = ["faults", "leader", "writes", "pages"]
        for (index, name) in rows.enumerated() {
            let top = 20 + Double(index) * rowHeight
            body.append("<text x=\"4\" y=\"\(f(top + rowHeight / 2))\">\(name)</text>")
            body.append("<line x1=\"\(f(left))\" x2=\"\(f(width - 10))\" y1=\"\(f(top + rowHeight - 4))\" y2=\"\(f(top + rowHeight - 4))\" stroke=\"#ccc\"/>")
        }
        // Faults: from each injection to the next line about the same nodes.
        for (index, fault) in faults.enumerated() where !["heal", "resume", "start", "free_disk", "fast_disk"].contains(fault.action) && !fault.action.hasPrefix("replace-") {
            let until = faults[(index + 1)...].first { $0.nodes == fault.nodes }?.atNanoseconds ?? endNanoseconds
            body.append("<rect x=\"\(f(x(fault.atNanoseconds)))\" y=\"22\" width=\"\(f(max(2, x(until) - x(fault.atNanoseconds))))\" height=\"50\" fill=\"#e15759\" opacity=\"0.35\"><title>\(escape(fault.detail))</title></rect>")
            body.append("<text x=\"\(f(x(fault.atNanoseconds) + 2))\" y=\"34\" font-size=\"10\">\(escape(fault.action)) \(fault.nodes.map(String.init).joined(separator: ","))</text>")
        }
        for (index, change) in leaders.enumerated() {
            let until = index + 1 < leaders.count ? leaders[index + 1].atNanoseconds : endNanoseconds
            let colour = change.leader.map { colours[($0 - 1) % colours.count] } ?? "#bbb"
            body.append("<rect x=\"\(f(x(change.atNanoseconds)))\" y=\"86\" width=\"\(f(max(1, x(until) - x(change.atNanoseconds))))\" height=\"40\" fill=\"\(colour)\"><title>\(change.leader.map { "leader: node \($0)" } ?? "no agreed leader")</title></rect>")
            if let leader = change.leader, x(until) - x(change.atNanoseconds) > 14 {
                body.append("<text x=\"\(f(x(change.atNanoseconds) + 3))\" y=\"110\" fill=\"white\" font-size=\"11\">\(leader)</text>")
            }
        }
        // Writes: latency up to 1 s on the row's height; unknown outcomes as red ticks at the top.
        for operation in history where operation.op == .put && operation.client != DrillCheck.finalReadClient {
            if let returned = operation.returnNanoseconds {
                let latency = min(1.0, Double(returned - operation.callNanoseconds) / 1e9)
                body.append("<circle cx=\"\(f(x(operation.callNanoseconds)))\" cy=\"\(f(196 - latency * 50))\" r=\"1.2\" fill=\"#4e79a7\"/>")
            } else {
                body.append("<line x1=\"\(f(x(operation.callNanoseconds)))\" x2=\"\(f(x(operation.callNanoseconds)))\" y1=\"142\" y2=\"150\" stroke=\"#e15759\"/>")
            }
        }
        for page in pages {
            let y = 210 + Double(page.level % 4) * 12
            body.append("<rect x=\"\(f(x(page.arrivedNanoseconds) - 1))\" y=\"\(f(y))\" width=\"2\" height=\"10\" fill=\"\(colours[page.level % colours.count])\"><title>ticket \(page.ticket) level \(page.level) from node \(page.node.map(String.init) ?? "?")</title></rect>")
        }
        let seconds = Int(end / 1e9)
        for second in stride(from: 0, through: seconds, by: max(1, seconds / 10)) {
            let position = x(UInt64(second) * 1_000_000_000)
            body.append("<text x=\"\(f(position))\" y=\"274\" font-size=\"10\" text-anchor=\"middle\">\(second) s</text>")
        }
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="280" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            \(body.joined(separator: "\n"))
            </svg>

            """
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
