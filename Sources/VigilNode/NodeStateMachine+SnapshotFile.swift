import DutyModel
import Foundation
import NodeState

extension NodeStateMachine {
    /// The snapshot just written from `copy` holds its archived tickets, which `archive` reads: read them from
    /// there, and drop from memory those unchanged since the copy.
    mutating func archiveReplaced(by archive: SnapshotFileArchive, writtenFrom copy: NodeStateMachine) {
        duty.archiveReplaced(by: archive, writtenFrom: copy.duty)
    }

    /// For a restore into a new cluster: the old cluster's member addresses must not override the new one's.
    mutating func forgetMemberRecords() { settings.removeKeys(withPrefix: MemberDirectory.reservedPrefix) }

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
        self.init()
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
}
