import Foundation
import HistoryCheck

// vigil-check HISTORY.jsonl...: is each history linearizable (every key's register)? Prints one line per
// violation and a summary line; exit 0 when all are, 1 when one is not, 2 when a file cannot be read.
// No acknowledged write is lost when a final read of every key is part of the history: a lost write leaves
// that read with no place in any order.
// vigil-check --drill DIR...: every checker over drill folders written by `vigil drill` (history, alerts, pages,
// faults): linearizability, lost writes, paging deadlines, keys and fencing.

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("vigil-check: error: \(message)\n".utf8))
    exit(2)
}

func seconds(since started: ContinuousClock.Instant) -> String {
    let elapsed = ContinuousClock.now - started
    return String(format: "%.2f", Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

var arguments = Array(CommandLine.arguments.dropFirst())
let drillMode = arguments.first == "--drill"
if drillMode { arguments.removeFirst() }
guard !arguments.isEmpty, !arguments.contains(where: { $0.hasPrefix("-") }) else {
    FileHandle.standardError.write(Data("usage: vigil-check HISTORY.jsonl...\n       vigil-check --drill DRILL_DIR...\n".utf8))
    exit(2)
}
let started = ContinuousClock.now
if drillMode {
    var clean = 0
    var totals = DrillCheck.Verdict()
    var pagingViolations = 0
    for directory in arguments {
        let verdict: DrillCheck.Verdict
        do {
            verdict = try DrillCheck.run(directory: directory)
        } catch {
            fail("\(error)")
        }
        for line in DrillCheck.describe(verdict) { print("\(directory): \(line)") }
        if verdict.isClean { clean += 1 }
        totals.lostWrites += verdict.lostWrites
        totals.linearizabilityViolations += verdict.linearizabilityViolations
        pagingViolations += verdict.pagingViolations.count
    }
    print("drills=\(arguments.count) ok=\(clean) lost_writes=\(totals.lostWrites) linearizability_violations=\(totals.linearizabilityViolations.count) paging_violations=\(pagingViolations) seconds=\(seconds(since: started))")
    exit(clean == arguments.count ? 0 : 1)
}
var violations = 0
var operationCount = 0
var keyCount = 0
for path in arguments {
    let operations: [HistoryOperation]
    do {
        operations = try HistoryFile.read(path: path)
    } catch {
        fail("\(error)")
    }
    operationCount += operations.count
    for (key, verdict) in RegisterLinearizability.check(operations).sorted(by: { $0.key < $1.key }) {
        keyCount += 1
        if case let .violation(detail) = verdict {
            violations += 1
            print("\(path): key \"\(key)\": \(detail)")
        }
    }
}
print("histories=\(arguments.count) keys=\(keyCount) operations=\(operationCount) linearizability_violations=\(violations) seconds=\(seconds(since: started))")
exit(violations == 0 ? 0 : 1)
