#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The few system calls the segment log makes, each failing with the path and the system's reason.
enum SegmentFiles {
    static func failure(_ operation: String, _ path: String) -> StorageError {
        .database(path: path, operation: operation, message: String(cString: strerror(errno)))
    }

    static func open(_ path: String, flags: Int32) throws(StorageError) -> Int32 {
        let fd = Glibc.open(path, flags | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure("open", path) }
        return fd
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], at offset: Int, path: String) throws(StorageError) {
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + written, bytes.count - written, off_t(offset + written)) }
            if result < 0, errno == EINTR { continue }
            guard result > 0 else { throw failure("write", path) }
            written += result
        }
    }

    /// The whole file (segments are at most a few tens of MB and read once at start-up).
    static func readAll(_ path: String) throws(StorageError) -> [UInt8] {
        let fd = try open(path, flags: O_RDONLY)
        defer { Glibc.close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw failure("stat", path) }
        let size = Int(info.st_size)
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let result = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, size - done, off_t(done)) }
            if result < 0, errno == EINTR { continue }
            guard result > 0 else { throw failure("read", path) }
            done += result
        }
        return bytes
    }

    static func dataSync(_ fd: Int32, path: String) throws(StorageError) {
        guard fdatasync(fd) == 0 else { throw failure("fdatasync", path) }
    }

    static func sync(_ fd: Int32, path: String) throws(StorageError) {
        guard fsync(fd) == 0 else { throw failure("fsync", path) }
    }

    /// Makes renames and removals inside `directory` durable.
    static func syncDirectory(_ directory: String) throws(StorageError) {
        let fd = try open(directory, flags: O_RDONLY | O_DIRECTORY)
        defer { Glibc.close(fd) }
        try sync(fd, path: directory)
    }

    static func reserve(_ fd: Int32, bytes: Int, path: String) throws(StorageError) {
        let result = posix_fallocate(fd, 0, off_t(bytes))
        guard result == 0 else {
            errno = result
            throw failure("preallocate \(bytes) bytes", path)
        }
    }

    static func rename(_ from: String, _ to: String) throws(StorageError) {
        guard Glibc.rename(from, to) == 0 else { throw failure("rename to \(to)", from) }
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func names(in directory: String) throws(StorageError) -> [String] {
        guard let handle = opendir(directory) else { throw failure("list", directory) }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != ".", name != ".." { names.append(name) }
        }
        return names.sorted()
    }
}
