import DutyModel
import Foundation

/// Everything a node applies from the log: the settings store and the duty state.
///
/// Deterministic like its parts: the same entries give the same state, and the same snapshot bytes, on every
/// node. An entry that does not decode is counted and skipped, so one bad entry cannot wedge the cluster.
public struct NodeStateMachine: Sendable, Equatable {
    public package(set) var settings = SettingsStateMachine()
    public package(set) var duty = DutyState()
    public package(set) var tokens = TokenRegistry()
    public package(set) var undecodableEntries: UInt64 = 0

    public init() {}

    /// A state holding only `duty` (benchmarks build large duty states without a cluster).
    package init(duty: DutyState) {
        self.duty = duty
    }

    public mutating func apply(_ data: [UInt8]) -> ApplyOutcome {
        apply(decoded: ReplicatedCommand(decoding: data))
    }

    /// Applies an entry already decoded (nil: its data did not decode); the simulator decodes each entry once for all
    /// its replicas, as decoding is a pure function of the bytes.
    public mutating func apply(decoded command: ReplicatedCommand?) -> ApplyOutcome {
        guard let command else {
            undecodableEntries += 1
            return .undecodable
        }
        switch command {
        case let .settings(command):
            return .settings(settings.apply(command))
        case let .duty(proposal):
            return .duty(duty.apply(proposal.command, at: proposal.leaderTimestamp, actor: proposal.actor,
                                    intendingFirstPagesIn: proposal.leaderTerm))
        case let .tokens(command):
            // Credentials of a person need the person: the duty state knows who exists.
            var personID: String?
            switch command {
            case let .setPassword(id, _): personID = id
            case let .openSession(session): personID = session.personID
            case let .openPasswordReset(_, id, _, _): personID = id
            default: break
            }
            if case let .createCalendarFeed(feed) = command {
                personID = feed.personID
                if let scheduleID = feed.scheduleID, duty.schedules[scheduleID] == nil { return .tokens(.notFound(scheduleID)) }
            }
            if let personID, duty.people[personID] == nil { return .tokens(.notFound(personID)) }
            return .tokens(tokens.apply(command))
        }
    }

    // MARK: - Snapshots

    package static let snapshotMagic = Array("VIGILSM1".utf8)

    /// Magic, then the settings image, the duty snapshot and the token list, each with a 64-bit big-endian length:
    /// the inline format of earlier versions, still read from old logs; nodes now write `writeSnapshot(to:)` files.
    public func snapshotData() -> [UInt8] {
        var bytes = Self.snapshotMagic
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Strings, integers and enums only: encoding cannot fail.
        let tokenBytes = Array((try? encoder.encode(tokens)) ?? Data())
        for part in [settings.snapshotData(), duty.snapshot(), tokenBytes] {
            withUnsafeBytes(of: UInt64(part.count).bigEndian) { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: part)
        }
        withUnsafeBytes(of: undecodableEntries.bigEndian) { bytes.append(contentsOf: $0) }
        return bytes
    }

    /// The state a snapshot holds. Empty data is the empty state; a bare settings image (what nodes wrote
    /// before the duty state joined the log) restores settings alone.
    public init(snapshotData data: [UInt8]) throws(StateSnapshotError) {
        guard !data.isEmpty else { return }
        guard data.starts(with: Self.snapshotMagic) else {
            settings = try SettingsStateMachine(snapshotData: data)
            return
        }
        var offset = Self.snapshotMagic.count
        func readCount() throws(StateSnapshotError) -> UInt64 {
            guard data.count - offset >= 8 else { throw .snapshotUndecodable("node snapshot truncated at byte \(offset)") }
            let value = data[offset..<offset + 8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            offset += 8
            return value
        }
        func readPart(_ name: String) throws(StateSnapshotError) -> [UInt8] {
            let count = try readCount()
            guard count <= UInt64(data.count - offset) else {
                throw .snapshotUndecodable("node snapshot: the \(name) part claims \(count) bytes, \(data.count - offset) remain")
            }
            defer { offset += Int(count) }
            return Array(data[offset..<offset + Int(count)])
        }
        settings = try SettingsStateMachine(snapshotData: try readPart("settings"))
        let dutyBytes = try readPart("duty")
        do {
            duty = try DutyState.restore(from: dutyBytes)
        } catch {
            throw .snapshotUndecodable("duty state: \(error)")
        }
        do {
            tokens = try JSONDecoder().decode(TokenRegistry.self, from: Data(try readPart("tokens")))
        } catch let error as StateSnapshotError {
            throw error
        } catch {
            throw .snapshotUndecodable("token list: \(error)")
        }
        undecodableEntries = try readCount()
        guard offset == data.count else { throw .snapshotUndecodable("node snapshot has \(data.count - offset) trailing bytes") }
    }
}
