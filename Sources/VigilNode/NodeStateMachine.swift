import DutyModel
import Foundation

/// Everything a node applies from the log: the settings store and the duty state.
///
/// Deterministic like its parts: the same entries give the same state, and the same snapshot bytes, on every
/// node. An entry that does not decode is counted and skipped, so one bad entry cannot wedge the cluster.
public struct NodeStateMachine: Sendable {
    public private(set) var settings = SettingsStateMachine()
    public private(set) var duty = DutyState()
    public private(set) var tokens = TokenRegistry()
    public private(set) var undecodableEntries: UInt64 = 0

    public init() {}

    /// The snapshot just written from `copy` holds its archived tickets, which `archive` reads: read them from
    /// there, and drop from memory those unchanged since the copy.
    mutating func archiveReplaced(by archive: SnapshotFileArchive, writtenFrom copy: NodeStateMachine) {
        duty.archiveReplaced(by: archive, writtenFrom: copy.duty)
    }

    /// A state holding only `duty` (benchmarks build large duty states without a cluster).
    init(duty: DutyState) {
        self.duty = duty
    }

    /// For a restore into a new cluster: the old cluster's member addresses must not override the new one's.
    mutating func forgetMemberRecords() { settings.removeKeys(withPrefix: MemberDirectory.reservedPrefix) }

    public mutating func apply(_ data: [UInt8]) -> ApplyOutcome {
        guard let command = ReplicatedCommand(decoding: data) else {
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

    static let snapshotMagic = Array("VIGILSM1".utf8)

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

    static let fileMagic = Array("VIGILSM2".utf8)

    /// Where an archived ticket's record lies in a snapshot file.
    struct ArchivedRecordLocation: Sendable {
        let id: TicketID
        let registeredAt: Timestamp
        let offset: UInt64
        let length: Int
    }

    /// Streams the whole state to a snapshot file without building it in memory first: magic, the settings (one
    /// record at a time), the duty state as length-prefixed chunks ended by a zero length (each chunk ends at a
    /// ticket's end), the token list (JSON, length-prefixed) and the undecodable-entry count.
    ///
    /// With `locatingArchived`, returns where each archived ticket's record went, by ascending id.
    @discardableResult
    func writeSnapshot(to writer: inout SnapshotFileWriter, locatingArchived: Bool = false) throws(SnapshotFileError) -> [ArchivedRecordLocation] {
        try writer.append(Self.fileMagic)
        try settings.writeSnapshot(to: &writer)
        // Offsets come from the duty state relative to its own stream; each chunk's place in the file maps them.
        var chunkStarts: [(stream: Int, file: UInt64)] = []
        var streamOffset = 0
        var inStream: [(id: TicketID, registeredAt: Timestamp, offset: Int, length: Int)] = []
        let note: ((TicketID, Timestamp, Int, Int) -> Void)? = locatingArchived ? { inStream.append(($0, $1, $2, $3)) } : nil
        do {
            try duty.writeSnapshot(archivedRecord: note) { (chunk: [UInt8]) throws in
                guard !chunk.isEmpty else { return }
                try writer.appendU32(UInt32(chunk.count))
                chunkStarts.append((streamOffset, writer.offset))
                streamOffset += chunk.count
                try writer.append(chunk)
            }
        } catch let error as SnapshotFileError {
            throw error
        } catch {
            throw SnapshotFileError(path: writer.finalPath, "the duty state could not be written: \(error)")
        }
        var located: [ArchivedRecordLocation] = []
        located.reserveCapacity(inStream.count)
        var chunk = 0
        for record in inStream {
            while chunk + 1 < chunkStarts.count, chunkStarts[chunk + 1].stream <= record.offset { chunk += 1 }
            let start = chunkStarts[chunk]
            located.append(ArchivedRecordLocation(id: record.id, registeredAt: record.registeredAt,
                                                  offset: start.file + UInt64(record.offset - start.stream), length: record.length))
        }
        try writer.appendU32(0)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let tokenBytes = Array((try? encoder.encode(tokens)) ?? Data())
        try writer.appendU64(UInt64(tokenBytes.count))
        try writer.append(tokenBytes)
        try writer.appendU64(undecodableEntries)
        return located
    }

    /// Reads what `writeSnapshot(to:)` wrote, up to the end of the file, a chunk at a time: the duty state is
    /// rebuilt as its chunks arrive, so no buffer holds the whole state.
    init(reading reader: inout SnapshotFileReader) throws(SnapshotFileError) {
        guard try reader.bytes(Self.fileMagic.count, "magic") == Self.fileMagic else {
            throw SnapshotFileError(path: reader.path, "does not start with \(String(decoding: Self.fileMagic, as: UTF8.self))")
        }
        settings = try SettingsStateMachine(reading: &reader)
        // Archived tickets stay in the file: the state reads them from it through the archive.
        let archive = try SnapshotFileArchive(path: reader.path)
        var chunkOffset: UInt64 = 0
        var restorer = DutyState.SnapshotRestorer(archive: archive) { id, registeredAt, record in
            archive.append(id: id, registeredAt: registeredAt, offset: chunkOffset + UInt64(record.startIndex), length: record.count)
        }
        do {
            while true {
                let count = Int(try reader.u32("duty chunk length"))
                if count == 0 { break }
                chunkOffset = reader.consumedBytes
                try restorer.consume(try reader.bytes(count, "duty chunk"))
            }
            duty = try restorer.finish()
        } catch let error as SnapshotFileError {
            throw error
        } catch {
            throw SnapshotFileError(path: reader.path, "duty state: \(error)")
        }
        let tokenBytes = try reader.bytes(Int(clamping: try reader.u64("tokens.length")), "tokens")
        do {
            tokens = try JSONDecoder().decode(TokenRegistry.self, from: Data(tokenBytes))
        } catch {
            throw SnapshotFileError(path: reader.path, "token list: \(error)")
        }
        undecodableEntries = try reader.u64("undecodableEntries")
    }

    /// The state a snapshot holds. Empty data is the empty state; a bare settings image (what nodes wrote
    /// before the duty state joined the log) restores settings alone.
    public init(snapshotData data: [UInt8]) throws(NodeError) {
        guard !data.isEmpty else { return }
        guard data.starts(with: Self.snapshotMagic) else {
            settings = try SettingsStateMachine(snapshotData: data)
            return
        }
        var offset = Self.snapshotMagic.count
        func readCount() throws(NodeError) -> UInt64 {
            guard data.count - offset >= 8 else { throw .snapshotUndecodable("node snapshot truncated at byte \(offset)") }
            let value = data[offset..<offset + 8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            offset += 8
            return value
        }
        func readPart(_ name: String) throws(NodeError) -> [UInt8] {
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
        } catch let error as NodeError {
            throw error
        } catch {
            throw .snapshotUndecodable("token list: \(error)")
        }
        undecodableEntries = try readCount()
        guard offset == data.count else { throw .snapshotUndecodable("node snapshot has \(data.count - offset) trailing bytes") }
    }
}
