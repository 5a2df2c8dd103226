import Foundation
import RaftCore
#if canImport(Glibc)
import Glibc
#endif

/// The snapshot files of one node, in `<data_dir>/snapshots`: complete ones named by their descriptor, and at
/// most a few partial ones (`incoming-<index>-<term>.part`) being received from a leader.
public final class SnapshotStore: Sendable {
    public let directory: String

    public init(directory: String) throws(NodeError) {
        self.directory = directory
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .storage("cannot create the snapshot directory \(directory): \((error as NSError).localizedDescription)")
        }
    }

    public func path(of descriptor: SnapshotDescriptor) -> String { directory + "/" + descriptor.fileName }

    func partPath(index: LogIndex, term: Term) -> String { directory + "/incoming-\(index)-\(term).part" }

    /// Whether the complete file is here with the size the descriptor names (the checksum is checked on load).
    public func hasFile(_ descriptor: SnapshotDescriptor) -> Bool {
        POSIXFile.size(path(of: descriptor)) == descriptor.sizeBytes
    }

    /// Streams `machine` into a new file and returns its descriptor; nothing is left behind on error.
    public func write(_ machine: NodeStateMachine, index: LogIndex, term: Term) throws(SnapshotFileError) -> SnapshotDescriptor {
        try write(machine, index: index, term: term, locatingArchived: false).descriptor
    }

    /// Like `write`, and an archive reading the new file's archived tickets (for the state to switch to).
    func writeWithArchive(_ machine: NodeStateMachine, index: LogIndex, term: Term) throws(SnapshotFileError)
        -> (descriptor: SnapshotDescriptor, archive: SnapshotFileArchive) {
        let (descriptor, locations) = try write(machine, index: index, term: term, locatingArchived: true)
        let archive = try SnapshotFileArchive(path: path(of: descriptor))
        archive.reserveCapacity(locations.count)
        for location in locations {
            archive.append(id: location.id, registeredAt: location.registeredAt, offset: location.offset, length: location.length)
        }
        return (descriptor, archive)
    }

    private func write(_ machine: NodeStateMachine, index: LogIndex, term: Term, locatingArchived: Bool) throws(SnapshotFileError)
        -> (descriptor: SnapshotDescriptor, locations: [NodeStateMachine.ArchivedRecordLocation]) {
        let name = SnapshotDescriptor(index: index, term: term, sizeBytes: 0, checksum: [UInt8](repeating: 0, count: 32)).fileName
        var writer = try SnapshotFileWriter(directory: directory, fileName: name)
        do {
            let locations = try machine.writeSnapshot(to: &writer, locatingArchived: locatingArchived)
            let (size, checksum) = try writer.finish()
            return (SnapshotDescriptor(index: index, term: term, sizeBytes: size, checksum: checksum), locations)
        } catch {
            writer.abandon()
            throw error
        }
    }

    /// The state a file holds, refused unless its size and SHA-256 match the descriptor.
    public func load(_ descriptor: SnapshotDescriptor) throws(SnapshotFileError) -> NodeStateMachine {
        let path = path(of: descriptor)
        guard let size = POSIXFile.size(path) else {
            throw SnapshotFileError(path: path, "is missing (the Raft log names it as the snapshot at index \(descriptor.index))")
        }
        guard size == descriptor.sizeBytes else {
            throw SnapshotFileError(path: path, "has \(size) bytes where the Raft log expects \(descriptor.sizeBytes)")
        }
        var reader = try SnapshotFileReader(path: path)
        defer { reader.close() }
        let machine = try NodeStateMachine(reading: &reader)
        let checksum = try reader.finish()
        guard checksum == descriptor.checksum else {
            throw SnapshotFileError(path: path, "its SHA-256 does not match the one the Raft log recorded (the file is damaged)")
        }
        return machine
    }

    /// The state a snapshot's data names: a descriptor's file, or (from earlier versions) the state inline.
    public func restore(_ data: [UInt8]) throws(NodeError) -> NodeStateMachine {
        if SnapshotDescriptor.isNewerFormat(data) {
            throw .snapshotUndecodable("the snapshot descriptor has format \(data[8]), newer than this build's \(SnapshotDescriptor.formatVersion)")
        }
        guard let descriptor = SnapshotDescriptor(decoding: data) else {
            do {
                return try NodeStateMachine(snapshotData: data)
            } catch {
                throw .snapshotUndecodable(error.message)
            }
        }
        do {
            return try load(descriptor)
        } catch {
            throw .snapshotUndecodable(error.description)
        }
    }

    /// Writes an inline snapshot (from an earlier version) out as a file, so it can be streamed like any other.
    func materialize(_ snapshot: Snapshot) throws(NodeError) -> SnapshotDescriptor {
        if let descriptor = SnapshotDescriptor(decoding: snapshot.data), hasFile(descriptor) { return descriptor }
        let machine = try restore(snapshot.data)
        do {
            return try write(machine, index: snapshot.index, term: snapshot.term)
        } catch {
            throw .snapshotUndecodable(error.description)
        }
    }

    /// Deletes half-written files a crash left behind; only at start, before anything writes here.
    func removeTemporaries() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names where name.hasSuffix(".tmp") { unlink(directory + "/" + name) }
    }

    /// Deletes complete files other than `keep` and partial files for snapshots at or below `keep`'s index.
    public func prune(keeping keep: SnapshotDescriptor?) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        var removed = false
        for name in names {
            if name.hasSuffix(".vsnap") {
                guard name != keep?.fileName else { continue }
            } else if name.hasSuffix(".part") {
                let parts = name.dropFirst("incoming-".count).dropLast(".part".count).split(separator: "-")
                guard let index = parts.first.flatMap({ LogIndex($0) }), index <= (keep?.index ?? 0) else { continue }
            } else {
                continue
            }
            unlink(directory + "/" + name)
            removed = true
        }
        if removed { try? POSIXFile.fsyncDirectory(directory) }
    }
}
