import Crypto
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a snapshot file could not be written, read or received; each says which file and what failed.
public struct SnapshotFileError: Error, Sendable, CustomStringConvertible {
    public let path: String
    public let detail: String

    public init(path: String, _ detail: String) {
        self.path = path
        self.detail = detail
    }

    public var description: String { "snapshot file \(path): \(detail)" }

    static func system(_ path: String, _ operation: String) -> SnapshotFileError {
        SnapshotFileError(path: path, "\(operation) failed: \(String(cString: strerror(errno)))")
    }
}

/// Small POSIX helpers: the snapshot files need fsync of files and directories and positional reads,
/// which Foundation's file APIs either hide or do not offer.
enum POSIXFile {
    static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o600) throws(SnapshotFileError) -> Int32 {
        let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .system(path, "open") }
        return fd
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(SnapshotFileError) {
        let failed: Bool = bytes.withUnsafeBytes { raw in
            var written = 0
            while written < raw.count {
                let result = Glibc.write(fd, raw.baseAddress! + written, raw.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    return true
                }
                written += result
            }
            return false
        }
        if failed { throw .system(path, "write") }
    }

    /// Reads up to `count` bytes at `offset`; fewer only at the end of the file.
    static func read(_ fd: Int32, count: Int, at offset: UInt64, path: String) throws(SnapshotFileError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        let failed: Bool = bytes.withUnsafeMutableBytes { buffer in
            while filled < count {
                let result = pread(fd, buffer.baseAddress! + filled, count - filled, off_t(offset) + off_t(filled))
                if result < 0 {
                    if errno == EINTR { continue }
                    return true
                }
                if result == 0 { break }
                filled += result
            }
            return false
        }
        if failed { throw .system(path, "read") }
        if filled < count { bytes.removeLast(count - filled) }
        return bytes
    }

    static func fsync(_ fd: Int32, path: String) throws(SnapshotFileError) {
        guard Glibc.fsync(fd) == 0 else { throw .system(path, "fsync") }
    }

    /// Makes a rename or unlink inside `directory` durable.
    static func fsyncDirectory(_ directory: String) throws(SnapshotFileError) {
        let fd = try open(directory, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        try fsync(fd, path: directory)
    }

    static func size(_ path: String) -> UInt64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return UInt64(info.st_size)
    }

    static func availableBytes(_ directory: String) -> UInt64? {
        var info = statvfs()
        guard statvfs(directory, &info) == 0 else { return nil }
        return UInt64(info.f_bavail) * UInt64(info.f_frsize)
    }
}

/// Writes a snapshot file through a bounded buffer, hashing as it goes; `finish` makes it durable under its name.
///
/// The bytes go to `<name>.tmp` first and are renamed only after fsync, so a crash leaves either no file or a
/// whole one; a reader never sees a half-written snapshot under its final name.
struct SnapshotFileWriter {
    static let bufferBytes = 1 << 20
    let finalPath: String
    let temporaryPath: String
    let directory: String
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var hasher = SHA256()
    private(set) var writtenBytes: UInt64 = 0
    private var isOpen = true

    /// Where the next appended byte goes in the file.
    var offset: UInt64 { writtenBytes + UInt64(buffer.count) }

    init(directory: String, fileName: String) throws(SnapshotFileError) {
        self.directory = directory
        self.finalPath = directory + "/" + fileName
        self.temporaryPath = finalPath + ".tmp"
        self.fd = try POSIXFile.open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC)
        buffer.reserveCapacity(Self.bufferBytes)
    }

    mutating func append(_ bytes: [UInt8]) throws(SnapshotFileError) {
        if buffer.count + bytes.count > Self.bufferBytes { try flush() }
        if bytes.count >= Self.bufferBytes {
            try writeThrough(bytes)
        } else {
            buffer.append(contentsOf: bytes)
        }
    }

    mutating func appendU32(_ value: UInt32) throws(SnapshotFileError) {
        try append(withUnsafeBytes(of: value.bigEndian) { Array($0) })
    }

    mutating func appendU64(_ value: UInt64) throws(SnapshotFileError) {
        try append(withUnsafeBytes(of: value.bigEndian) { Array($0) })
    }

    private mutating func writeThrough(_ bytes: [UInt8]) throws(SnapshotFileError) {
        hasher.update(data: bytes)
        try POSIXFile.writeAll(fd, bytes, path: temporaryPath)
        writtenBytes += UInt64(bytes.count)
    }

    private mutating func flush() throws(SnapshotFileError) {
        guard !buffer.isEmpty else { return }
        try writeThrough(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, fsyncs, renames into place and fsyncs the directory; returns the size and SHA-256.
    mutating func finish() throws(SnapshotFileError) -> (sizeBytes: UInt64, checksum: [UInt8]) {
        try flush()
        try POSIXFile.fsync(fd, path: temporaryPath)
        close(fd)
        isOpen = false
        guard rename(temporaryPath, finalPath) == 0 else { throw .system(finalPath, "rename") }
        try POSIXFile.fsyncDirectory(directory)
        return (writtenBytes, Array(hasher.finalize()))
    }

    /// Closes and deletes the temporary file (after an error).
    mutating func abandon() {
        if isOpen { close(fd) }
        isOpen = false
        unlink(temporaryPath)
    }
}

/// Reads a snapshot file sequentially through a bounded buffer, hashing every byte, so `finish` can prove the
/// state just decoded is the one the descriptor names.
struct SnapshotFileReader {
    static let bufferBytes = 1 << 20
    /// No single field of a snapshot may claim more; a corrupt length fails here instead of allocating it.
    static let fieldLimitBytes = 256 << 20
    let path: String
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var position = 0
    private var fileOffset: UInt64 = 0
    private var hasher = SHA256()
    private(set) var consumedBytes: UInt64 = 0
    private var isOpen = true

    init(path: String) throws(SnapshotFileError) {
        self.path = path
        self.fd = try POSIXFile.open(path, O_RDONLY)
    }

    private mutating func refill() throws(SnapshotFileError) {
        let block = try POSIXFile.read(fd, count: Self.bufferBytes, at: fileOffset, path: path)
        fileOffset += UInt64(block.count)
        hasher.update(data: block)
        // Called only once the buffer is used up.
        buffer = block
        position = 0
    }

    mutating func bytes(_ count: Int, _ field: String) throws(SnapshotFileError) -> [UInt8] {
        guard count >= 0, count <= Self.fieldLimitBytes else {
            throw SnapshotFileError(path: path, "\(field) at byte \(consumedBytes) claims \(count) bytes, above the limit of \(Self.fieldLimitBytes)")
        }
        var result: [UInt8] = []
        result.reserveCapacity(count)
        while result.count < count {
            if position == buffer.count {
                try refill()
                if buffer.isEmpty { throw SnapshotFileError(path: path, "ends inside \(field) at byte \(consumedBytes + UInt64(result.count))") }
            }
            let take = min(count - result.count, buffer.count - position)
            result.append(contentsOf: buffer[position..<position + take])
            position += take
        }
        consumedBytes += UInt64(count)
        return result
    }

    mutating func u32(_ field: String) throws(SnapshotFileError) -> UInt32 {
        try bytes(4, field).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    mutating func u64(_ field: String) throws(SnapshotFileError) -> UInt64 {
        try bytes(8, field).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    /// Requires the end of the file and returns the SHA-256 of everything read.
    mutating func finish() throws(SnapshotFileError) -> [UInt8] {
        if position == buffer.count { try refill() }
        guard position == buffer.count else {
            throw SnapshotFileError(path: path, "has trailing bytes after byte \(consumedBytes)")
        }
        close()
        return Array(hasher.finalize())
    }

    mutating func close() {
        if isOpen { Glibc.close(fd) }
        isOpen = false
    }
}
