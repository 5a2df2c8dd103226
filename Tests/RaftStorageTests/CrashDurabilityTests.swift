import Foundation
import RaftCore
import Testing
@testable import RaftStorage

/// Runs `raftstorage-crashprobe`, which prints each index after `persist` returned, and kill -9s it mid-stream.
/// Covers process crashes; power loss would need a VM or a fault-injecting block device.
@Suite struct CrashDurabilityTests {
    @Test(arguments: LogKind.allCases)
    func everyAcknowledgedIndexSurvivesKill9(kind: LogKind) throws {
        let probe = try #require(Self.locateProbe(), "raftstorage-crashprobe not found next to the test binary; run `swift build --build-tests` first")
        let directory = try TemporaryDirectory()
        var acknowledgedTotal = 0
        func reopen() throws -> PersistedState {
            let log = try kind.open(directory, clusterID: "crashprobe", nodeID: 1)
            defer { try? log.close() }
            return try log.load()
        }
        for round in 0..<3 {
            let expectedFirst = try reopen().lastIndex + 1
            let acknowledged = try Self.runAndKill(probe, path: kind.path(in: directory), afterLines: 40 + 37 * round)
            #expect(acknowledged.first == expectedFirst)
            #expect(acknowledged == Array(expectedFirst..<(expectedFirst + LogIndex(acknowledged.count))), "the probe acknowledged out of order")
            acknowledgedTotal += acknowledged.count

            let state = try reopen()
            let stored = Dictionary(uniqueKeysWithValues: state.entries.map { ($0.index, $0) })
            for index in acknowledged {
                let entry = try #require(stored[index], "acknowledged entry \(index) was lost by kill -9 in round \(round)")
                #expect(entry.data.count == 256)
                #expect(entry.data.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } == index)
            }
            // At most the one transaction in flight at the kill may have landed unacknowledged.
            #expect(state.lastIndex - (acknowledged.last ?? 0) <= 1)
            #expect(state.hardState.commit >= acknowledged.last ?? 0)
        }
        #expect(acknowledgedTotal >= 40 + 77 + 114)
    }

    /// Power loss cannot be simulated here, but its precondition can be observed: one fdatasync per
    /// acknowledged transaction. Under `synchronous=NORMAL` the count would stay near zero.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/strace"), "needs strace"), arguments: LogKind.allCases)
    func everyAcknowledgedTransactionIsSynced(kind: LogKind) throws {
        let probe = try #require(Self.locateProbe(), "raftstorage-crashprobe not found; run `swift build --build-tests` first")
        let directory = try TemporaryDirectory()
        let transactions = 50
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/strace")
        process.arguments = ["-f", "-c", "-e", "trace=fsync,fdatasync", "-o", directory.path + "/syscalls.txt",
                             probe.path, kind.path(in: directory), String(transactions)]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let summary = try String(contentsOfFile: directory.path + "/syscalls.txt", encoding: .utf8)
        let syncs = summary.split(separator: "\n").compactMap { line -> Int? in
            let fields = line.split(separator: " ")
            guard let name = fields.last, name == "fsync" || name == "fdatasync", fields.count >= 5 else { return nil }
            return Int(fields[3])
        }.reduce(0, +)
        #expect(syncs >= transactions, "only \(syncs) syncs for \(transactions) transactions:\n\(summary)")
    }

    /// The probe is built next to the test binary (`.build/<triple>/debug/`); RAFTSTORAGE_CRASHPROBE overrides it.
    static func locateProbe() -> URL? {
        if let override = ProcessInfo.processInfo.environment["RAFTSTORAGE_CRASHPROBE"] { return URL(fileURLWithPath: override) }
        guard let executable = Bundle.main.executableURL?.resolvingSymlinksInPath() else { return nil }
        var directory = executable.deletingLastPathComponent()
        // On macOS the test binary sits inside an .xctest bundle, a few levels below the build directory.
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("raftstorage-crashprobe")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory.deleteLastPathComponent()
        }
        return nil
    }

    /// Starts the probe, SIGKILLs it once it has acknowledged `afterLines` indices, and returns every acknowledged index.
    static func runAndKill(_ probe: URL, path: String, afterLines: Int) throws -> [LogIndex] {
        let process = Process()
        process.executableURL = probe
        process.arguments = [path, "1000000", "256"]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()

        var received = Data()
        var killed = false
        while true {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }  // end of file: the probe is gone
            received.append(chunk)
            if !killed, received.count(where: { $0 == UInt8(ascii: "\n") }) >= afterLines {
                kill(process.processIdentifier, SIGKILL)
                killed = true
            }
        }
        process.waitUntilExit()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(killed, "the probe stopped before it was killed: \(stderr)")
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL, "\(stderr)")

        // Each acknowledgement is one write() of "N\n"; only complete lines count.
        let text = String(decoding: received, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        return try lines.map { line in try #require(LogIndex(line), "unexpected probe output \"\(line)\"") }
    }
}
