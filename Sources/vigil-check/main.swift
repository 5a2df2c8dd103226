import Foundation
import HistoryCheck

// vigil-check HISTORY.jsonl...: is each history linearizable (every key's register)? Prints one line per
// violation and a summary line; exit 0 when all are, 1 when one is not, 2 when a file cannot be read.
// No acknowledged write is lost when a final read of every key is part of the history: a lost write leaves
// that read with no place in any order.

let paths = CommandLine.arguments.dropFirst()
guard !paths.isEmpty, !paths.contains(where: { $0.hasPrefix("-") }) else {
    FileHandle.standardError.write(Data("usage: vigil-check HISTORY.jsonl...\n".utf8))
    exit(2)
}
var violations = 0
var operationCount = 0
var keyCount = 0
let started = ContinuousClock.now
for path in paths {
    let operations: [HistoryOperation]
    do {
        operations = try HistoryFile.read(path: path)
    } catch {
        FileHandle.standardError.write(Data("vigil-check: error: \(error)\n".utf8))
        exit(2)
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
let elapsed = ContinuousClock.now - started
print("histories=\(paths.count) keys=\(keyCount) operations=\(operationCount) linearizability_violations=\(violations) seconds=\(String(format: "%.2f", Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))")
exit(violations == 0 ? 0 : 1)
