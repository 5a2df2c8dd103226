import Testing
import VigilNode

/// The settings state machine is deterministic and its snapshots round-trip.
struct SettingsStateMachineTests {
    @Test("revisions, compare-and-set and delete, applied in table order")
    func sequence() {
        var machine = SettingsStateMachine()
        for (row, (command, expected)) in Self.table.enumerated() {
            #expect(Self.describe(machine.apply(command.encoded())) == expected, "row \(row): \(command)")
        }
        #expect(machine.revision == 4)
        #expect(machine.get("a") == nil)
        #expect(machine.get("b")?.value == "x")
    }

    static let table: [(SettingsCommand, String)] = [
        (.put(key: "a", value: "1", ifRevision: nil), "stored 1 created"),
        (.put(key: "a", value: "2", ifRevision: 5), "mismatch 1 5"),
        (.put(key: "a", value: "2", ifRevision: 1), "stored 2"),
        (.put(key: "b", value: "x", ifRevision: 0), "stored 3 created"),
        (.put(key: "b", value: "y", ifRevision: 0), "mismatch 3 0"),
        (.delete(key: "c", ifRevision: nil), "not found"),
        (.delete(key: "a", ifRevision: 1), "mismatch 2 1"),
        (.delete(key: "a", ifRevision: 2), "deleted 4"),
    ]

    static func describe(_ outcome: SettingsOutcome) -> String {
        switch outcome {
        case let .stored(_, setting, created): return "stored \(setting.revision)" + (created ? " created" : "")
        case let .deleted(_, revision): return "deleted \(revision)"
        case .notFound: return "not found"
        case let .revisionMismatch(_, current, expected): return "mismatch \(current) \(expected)"
        case .undecodable: return "undecodable"
        }
    }

    @Test("snapshot bytes round-trip and equal states give equal bytes")
    func snapshotRoundTrip() throws {
        var machine = SettingsStateMachine()
        for index in 0..<50 { _ = machine.apply(.put(key: "k\(index % 7)", value: "v\(index)", ifRevision: nil)) }
        let restored = try SettingsStateMachine(snapshotData: machine.snapshotData())
        #expect(restored == machine)
        #expect(restored.snapshotData() == machine.snapshotData())
        #expect(try SettingsStateMachine(snapshotData: []) == SettingsStateMachine())
        #expect(throws: StateSnapshotError.self) { try SettingsStateMachine(snapshotData: Array("{not json".utf8)) }
    }

    @Test("undecodable entry data is counted, not fatal")
    func undecodable() {
        var machine = SettingsStateMachine()
        #expect(machine.apply([0xFF, 0x00]) == .undecodable)
        #expect(machine.undecodableEntries == 1)
        #expect(machine.revision == 0)
    }
}
