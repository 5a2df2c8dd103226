import Crypto
import DutyModel
import Foundation
import RaftCore
#if canImport(Glibc)
import Glibc
#endif

/// What a backup says about itself: which cluster, which committed point, and a checksum over its body.
public struct BackupHeader: Codable, Sendable, Equatable {
    public var formatVersion: Int
    public var clusterID: String
    /// The applied index and its term the backup was taken at: everything committed before the request is in it.
    public var index: LogIndex
    public var term: Term
    public var bodyBytes: UInt64
    /// SHA-256 of the body, hex.
    public var bodySHA256: String
    public var createdAtMilliseconds: Int64
    public var takenOnNode: NodeID

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version", clusterID = "cluster_id", index, term, bodyBytes = "body_bytes"
        case bodySHA256 = "body_sha256", createdAtMilliseconds = "created_at_ms", takenOnNode = "taken_on_node"
    }
}

/// Why a backup file is refused; it names the file and what is wrong, and nothing was written because of it.
public struct BackupError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let detail: String
    public var description: String { "\(path): \(detail)" }
}

/// `vigil backup` files: `VIGILBAK`, the header's length (u32, big-endian), the header (JSON), then the body:
/// a snapshot file of the whole state (settings, duty model, tokens, outbox), as the nodes write them.
public enum BackupFile {
    public static let magic = Array("VIGILBAK".utf8)
    public static let formatVersion = 1
    static let maximumHeaderBytes: UInt32 = 64 << 10

    /// A backup file of a state holding only the duty state of `DutyState.snapshot()` bytes (from `duty-bench`),
    /// for measuring a node with a large state without registering a million tickets through the API first.
    public static func write(dutySnapshot bytes: [UInt8], clusterID: String, to path: String) throws(NodeError) {
        let duty: DutyState
        do { duty = try DutyState.restore(from: bytes) } catch { throw .snapshotUndecodable("the duty snapshot: \(error)") }
        let directory = path + ".staging"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let store = try SnapshotStore(directory: directory)
            let descriptor = try store.write(NodeStateMachine(duty: duty), index: 1, term: 1)
            try assemble(header(for: descriptor, clusterID: clusterID, node: 1, at: Int64(Date().timeIntervalSince1970 * 1_000)),
                         bodyPath: store.path(of: descriptor), to: path)
        } catch let error as NodeError {
            throw error
        } catch {
            throw .storage("\(path): \(error)")
        }
    }

    /// The header of a backup whose body is the snapshot file `descriptor` names.
    static func header(for descriptor: SnapshotDescriptor, clusterID: String, node: NodeID, at milliseconds: Int64) -> BackupHeader {
        BackupHeader(formatVersion: formatVersion, clusterID: clusterID, index: descriptor.index, term: descriptor.term,
                     bodyBytes: descriptor.sizeBytes, bodySHA256: descriptor.checksum.map { String(format: "%02x", $0) }.joined(),
                     createdAtMilliseconds: milliseconds, takenOnNode: node)
    }

    /// Writes a whole backup file at `path` (through a `.part` file, synced, then renamed): the header, then the body.
    static func assemble(_ header: BackupHeader, bodyPath: String, to path: String) throws(SnapshotFileError) {
        let partial = path + ".part"
        let fd = try POSIXFile.open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC)
        do throws(SnapshotFileError) {
            defer { close(fd) }
            try POSIXFile.writeAll(fd, headerBytes(header), path: partial)
            let source = try POSIXFile.open(bodyPath, O_RDONLY | O_CLOEXEC)
            defer { close(source) }
            var offset: UInt64 = 0
            while offset < header.bodyBytes {
                let chunk = try POSIXFile.read(source, count: Int(min(1 << 20, header.bodyBytes - offset)), at: offset, path: bodyPath)
                guard !chunk.isEmpty else { throw SnapshotFileError(path: bodyPath, "ended early") }
                try POSIXFile.writeAll(fd, chunk, path: partial)
                offset += UInt64(chunk.count)
            }
            try POSIXFile.fsync(fd, path: partial)
        } catch {
            unlink(partial)
            throw error
        }
        guard rename(partial, path) == 0 else {
            unlink(partial)
            throw SnapshotFileError.system(path, "rename")
        }
    }

    public static func headerBytes(_ header: BackupHeader) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = Array((try? encoder.encode(header)) ?? Data())
        let length = UInt32(json.count)
        return magic + [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: length >> $0) } + json
    }

    /// Reads the whole file once: the header must parse, be of a format this version reads, and the body must
    /// have the length and SHA-256 the header names. Returns the header and where the body starts.
    public static func verify(path: String) throws(BackupError) -> (header: BackupHeader, bodyOffset: UInt64) {
        func refuse(_ detail: String) -> BackupError { BackupError(path: path, detail: detail) }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw refuse("cannot be opened: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        func read(_ count: Int, at offset: UInt64) throws(BackupError) -> [UInt8] {
            do { return try POSIXFile.read(fd, count: count, at: offset, path: path) } catch { throw refuse(error.detail) }
        }
        let prefix = try read(12, at: 0)
        guard prefix.count == 12, Array(prefix[0..<8]) == magic else { throw refuse("is not a Vigil backup (no VIGILBAK header)") }
        let length = prefix[8..<12].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard length > 0, length <= maximumHeaderBytes else { throw refuse("has a header of \(length) bytes (at most \(maximumHeaderBytes))") }
        let json = try read(Int(length), at: 12)
        guard json.count == Int(length) else { throw refuse("is truncated inside its header") }
        let header: BackupHeader
        do {
            header = try JSONDecoder().decode(BackupHeader.self, from: Data(json))
        } catch {
            throw refuse("has a header that is not valid JSON of a backup: \(error)")
        }
        guard header.formatVersion == formatVersion else {
            throw refuse("is in backup format \(header.formatVersion); this vigil reads format \(formatVersion) only")
        }
        let bodyOffset = 12 + UInt64(length)
        guard let size = POSIXFile.size(path) else { throw refuse("cannot be measured") }
        guard size == bodyOffset + header.bodyBytes else {
            throw refuse("has \(Int64(size) - Int64(bodyOffset)) body bytes where its header says \(header.bodyBytes) (truncated or damaged)")
        }
        var hash = SHA256()
        var offset = bodyOffset
        while offset < size {
            let chunk = try read(Int(min(1 << 20, size - offset)), at: offset)
            guard !chunk.isEmpty else { throw refuse("ended early at byte \(offset)") }
            hash.update(data: chunk)
            offset += UInt64(chunk.count)
        }
        let digest = hash.finalize().map { String(format: "%02x", $0) }.joined()
        guard digest == header.bodySHA256 else { throw refuse("its body's SHA-256 does not match the header (the file is damaged)") }
        return (header, bodyOffset)
    }

    /// Copies the body of a verified backup into a snapshot file named by `descriptor` in `store`.
    static func extractBody(path: String, offset: UInt64, header: BackupHeader, into store: SnapshotStore) throws(BackupError) -> SnapshotDescriptor {
        guard let checksum = Self.bytes(hex: header.bodySHA256) else { throw BackupError(path: path, detail: "has a malformed checksum") }
        let descriptor = SnapshotDescriptor(index: header.index, term: header.term, sizeBytes: header.bodyBytes, checksum: checksum)
        let source = open(path, O_RDONLY | O_CLOEXEC)
        guard source >= 0 else { throw BackupError(path: path, detail: "cannot be opened") }
        defer { close(source) }
        let target = store.path(of: descriptor)
        do {
            let fd = try POSIXFile.open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC)
            defer { close(fd) }
            var copied: UInt64 = 0
            while copied < header.bodyBytes {
                let chunk = try POSIXFile.read(source, count: Int(min(1 << 20, header.bodyBytes - copied)), at: offset + copied, path: path)
                guard !chunk.isEmpty else { throw SnapshotFileError(path: path, "ended early") }
                try POSIXFile.writeAll(fd, chunk, path: target)
                copied += UInt64(chunk.count)
            }
            try POSIXFile.fsync(fd, path: target)
        } catch {
            throw BackupError(path: target, detail: "\(error)")
        }
        return descriptor
    }

    static func bytes(hex: String) -> [UInt8]? {
        let characters = Array(hex.utf8)
        guard characters.count == 64 else { return nil }
        var bytes: [UInt8] = []
        for start in stride(from: 0, to: 64, by: 2) {
            guard let byte = UInt8(String(decoding: characters[start..<start + 2], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }
}
