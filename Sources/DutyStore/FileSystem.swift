#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The POSIX calls the store needs beyond SQLite: atomic creation needs link and a directory fsync.
enum FileSystem {
    struct Failure: Error {
        var message: String
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Size in bytes, or 0 when the file is absent.
    static func sizeBytes(_ path: String) -> Int64 {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return Int64(info.st_size)
    }

    static func remove(_ path: String) throws(Failure) {
        guard unlink(path) == 0 || errno == ENOENT else { throw failure("unlink \(path)") }
    }

    /// Gives `source` the name `destination` unless that exists (rename would replace it).
    static func linkWithoutReplacing(_ source: String, _ destination: String) throws(Failure) {
        guard link(source, destination) == 0 else { throw failure("link \(source) to \(destination)") }
    }

    /// Makes a new directory entry durable; without it a power loss can forget the file.
    static func syncDirectory(containing path: String) throws(Failure) {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) }.map { $0.isEmpty ? "/" : $0 } ?? "."
        let descriptor = open(directory, O_RDONLY)
        guard descriptor >= 0 else { throw failure("open directory \(directory)") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw failure("fsync directory \(directory)") }
    }

    private static func failure(_ what: String) -> Failure {
        Failure(message: "\(what): \(String(cString: strerror(errno)))")
    }
}
