import Foundation

/// Crash points for failover drills: the process kills itself with SIGKILL at a named moment.
///
/// Armed by a file: with `VIGIL_FAILPOINT_DIR=D` in the environment, reaching failpoint `name` while the
/// file `D/name` exists removes the file and kills the process. Removing first makes a failpoint fire in
/// exactly one process of a cluster that shares `D` (only one `unlink` succeeds), so a drill can arm it
/// without knowing which node will lead. Without the variable a failpoint costs one dictionary lookup.
public enum Failpoint {
    static let directory: String? = ProcessInfo.processInfo.environment["VIGIL_FAILPOINT_DIR"]

    /// The scheduler's intent committed; nothing sent yet.
    public static let pagingAfterIntent = "paging-after-intent"
    /// The page was delivered; its outcome not yet proposed.
    public static let pagingAfterSend = "paging-after-send"

    public static func hit(_ name: String) {
        guard let directory else { return }
        guard unlink(directory + "/" + name) == 0 else { return }
        kill(getpid(), SIGKILL)
    }
}
