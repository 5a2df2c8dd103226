import Foundation
import Testing

/// deploy/: the systemd unit is checked by systemd itself, with the vigil built for the tests in its ExecStart.
@Suite struct DeployTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func theSystemdUnitVerifiesCleanlyAndIsHardened() throws {
        let unit = try String(contentsOf: Self.root.appendingPathComponent("deploy/systemd/vigil.service"), encoding: .utf8)
        for directive in ["User=vigil", "ProtectSystem=strict", "ReadWritePaths=/var/lib/vigil", "NoNewPrivileges=yes", "LimitNOFILE=",
                          "Restart=on-failure", "TimeoutStopSec=", "CapabilityBoundingSet=\n"] {
            #expect(unit.contains(directive), "the unit lacks \(directive)")
        }
        let binary = try ProcessCluster.vigilBinary()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-unit-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let copy = directory.appendingPathComponent("vigil.service")
        try unit.replacingOccurrences(of: "/usr/local/bin/vigil", with: binary.path).write(to: copy, atomically: true, encoding: .utf8)

        let analyze = URL(fileURLWithPath: "/usr/bin/systemd-analyze")
        try #require(FileManager.default.isExecutableFile(atPath: analyze.path), "systemd-analyze is missing (Tests/run.sh installs systemd)")
        let (status, output) = try ProcessCluster.runToEnd(analyze, ["verify", "--man=no", copy.path])
        // Unknown or misspelt keys are only warnings to systemd: any output is a failure here.
        #expect(status == 0 && output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "systemd-analyze verify: \(output)")
    }
}
