#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Runs a drill file's command through /bin/sh with posix_spawn, output appended to a log, bounded in time.
///
/// Not Foundation's `Process`: on Linux it learns that a child ended when a descriptor the child inherited
/// closes, so a command that starts a node in the background (`vigil start … &`) would look alive as long
/// as the node runs. For the same reason the command inherits only its standard input, output and error.
enum ShellCommand {
    /// glibc 2.34's `posix_spawn_file_actions_addclosefrom_np`, which Swift's Glibc module does not import.
    private static let closeFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? =
        dlsym(nil, "posix_spawn_file_actions_addclosefrom_np").map { unsafeBitCast($0, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self) }

    /// The exit status, or why there is none (could not start; killed after `timeoutMilliseconds`).
    static func run(_ command: String, logPath: String, timeoutMilliseconds: Int) async -> Result<Int32, DrillError> {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of the drill's reaches the command, or a node it starts: a descriptor a node inherited
        // would keep whoever waits on the drill waiting for that node (Foundation's `Process` does).
        guard let closeFrom = closeFrom else { return .failure(DrillError("this C library has no posix_spawn_file_actions_addclosefrom_np (glibc 2.34 or later)")) }
        _ = closeFrom(&actions, 3)
        let words: [String] = ["/bin/sh", "-c", command]
        let arguments = words.map { strdup($0) }
        defer { arguments.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, nil, arguments + [nil], environ)
        guard spawned == 0 else { return .failure(DrillError("cannot run /bin/sh: \(String(cString: strerror(spawned)))")) }
        let deadline = ContinuousClock.now + .milliseconds(timeoutMilliseconds)
        var status: Int32 = 0
        while true {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid { break }
            if reaped < 0, errno != EINTR { return .failure(DrillError("waitpid: \(String(cString: strerror(errno)))")) }
            if ContinuousClock.now >= deadline {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                return .failure(DrillError("still running after \(timeoutMilliseconds / 1_000) s, killed"))
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        // WIFEXITED / WEXITSTATUS are macros Swift does not import.
        let signal = status & 0x7F
        return .success(signal == 0 ? (status >> 8) & 0xFF : 128 + signal)
    }
}
