#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The few POSIX calls the stores need beyond SQLite, with errors as human messages.
public enum FileSystem {
    public struct Failure: Error {
        public var message: String
    }

    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Size in bytes, or 0 when the file is absent.
    public static func sizeBytes(_ path: String) -> Int64 {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return Int64(info.st_size)
    }

    public static func remove(_ path: String) throws(Failure) {
        guard unlink(path) == 0 || errno == ENOENT else { throw failure("unlink \(path)") }
    }

    /// Gives `source` the name `destination`, failing if `destination` exists: unlike rename, link never replaces.
    public static func linkWithoutReplacing(_ source: String, _ destination: String) throws(Failure) {
        guard link(source, destination) == 0 else { throw failure("link \(source) to \(destination)") }
    }

    /// Makes a created or renamed directory entry durable; without it a power loss can forget the file.
    public static func syncDirectory(containing path: String) throws(Failure) {
        let directory = parentDirectory(of: path)
        let descriptor = open(directory, O_RDONLY)
        guard descriptor >= 0 else { throw failure("open directory \(directory)") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw failure("fsync directory \(directory)") }
    }

    public static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let parent = String(path[..<slash])
        return parent.isEmpty ? "/" : parent
    }

    private static func failure(_ what: String) -> Failure {
        Failure(message: "\(what): \(String(cString: strerror(errno)))")
    }
}
