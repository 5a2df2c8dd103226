import ClusterTransport
import RaftStorage
import Foundation

/// This build's version and the formats it writes, for `vigil --version`, the cluster view and upgrade checks.
public enum VigilVersion {
    /// The release this binary is. 0.6 added the peer hello: a 0.5 node drops a connection that starts with one,
    /// so 0.5 → 0.6 is the one upgrade that needs all nodes stopped; from 0.6 on, adjacent minors interoperate.
    /// 0.7 forwards followers' writes over the peer connection once every member runs 0.7 or later. 0.8 pages an
    /// alert in the entry that registers it once every member runs 0.8 or later. 0.9 writes a new node's Raft log as
    /// segment files (`logFormat`); a data directory an earlier release made keeps its SQLite log. 0.10 adds the
    /// console's entries (sessions, passwords, set-password links) and removing a schedule override, proposed only
    /// once every member runs 0.10 or later (`ReplicatedCommand.requiredRelease`). 0.11 adds customers and the SMTP
    /// intake's entries, gated the same way. 0.12 keys SLA notices by the clock's cycle once every member runs 0.12
    /// (`NodePagingHost.noticeKeysByCycleSince`).
    public static let build = SoftwareVersion(major: 0, minor: 12, patch: 0)
    public static let logFormat = Int(SegmentLog.formatVersion)
    public static let wireFormat = Int(WireCodec.formatVersion)
    public static let snapshotFormat = 1
    public static let backupFormat = BackupFile.formatVersion
    /// Names the environment variable that makes a node announce another release (the rolling-upgrade test's knob).
    public static let overrideVariable = "VIGIL_VERSION_OVERRIDE"

    /// The release this process announces to its peers and shows: `build`, unless the override says otherwise.
    public static let running: SoftwareVersion = {
        guard let text = ProcessInfo.processInfo.environment[overrideVariable] else { return build }
        return SoftwareVersion(parsing: text) ?? build
    }()

    /// An override that does not parse, described for an operator; `vigil start` refuses to run with one.
    public static var overrideProblem: String? {
        guard let text = ProcessInfo.processInfo.environment[overrideVariable], SoftwareVersion(parsing: text) == nil else { return nil }
        return "\(overrideVariable)='\(text)' is not a version of the form MAJOR.MINOR.PATCH"
    }

    public static var current: String { running.description }

    public static var description: String {
        "vigil \(current) (wire format \(wireFormat), log format \(logFormat), snapshot format \(snapshotFormat), backup format \(backupFormat))"
    }
}
