import Foundation

/// Failpoints for drills: crash points (the process kills itself with SIGKILL at a named moment) and delays.
///
/// Armed by a file: with `VIGIL_FAILPOINT_DIR=D` in the environment, reaching crash point `name` while the
/// file `D/name` exists removes the file and kills the process. Removing first makes a failpoint fire in
/// exactly one process of a cluster that shares `D` (only one `unlink` succeeds), so a drill can arm it
/// without knowing which node will lead. A delay point sleeps for the milliseconds written in its file for as
/// long as the file exists. Without the variable a failpoint costs one nil check.
public enum Failpoint {
    static let directory: String? = ProcessInfo.processInfo.environment["VIGIL_FAILPOINT_DIR"]

    /// The scheduler's intent committed; nothing sent yet.
    public static let pagingAfterIntent = "paging-after-intent"
    /// The page was delivered; its outcome not yet proposed.
    public static let pagingAfterSend = "paging-after-send"

    /// Before each write of the Raft log, `persist-delay-ms-node<ID>` (a slow disk on one node).
    public static func persistDelay(node: UInt64) -> String { "persist-delay-ms-node\(node)" }

    /// A delay point: sleeps for the milliseconds in `D/name` (at most 10 s), if it exists and holds a number.
    public static func delay(_ name: String) {
        guard let directory, let text = try? String(contentsOfFile: directory + "/" + name, encoding: .utf8),
              let milliseconds = UInt32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { return }
        usleep(min(milliseconds, 10_000) * 1_000)
    }

    public static func hit(_ name: String) {
        guard let directory else { return }
        guard unlink(directory + "/" + name) == 0 else { return }
        kill(getpid(), SIGKILL)
    }
}
