/// This build's version and the formats it writes, for `vigil --version`, the cluster view and upgrade checks.
public enum VigilVersion {
    /// Major changes may change the formats below; a minor version reads what the previous minor wrote.
    public static let current = "0.5.0"
    public static let wireFormat = 1
    public static let snapshotFormat = 1
    public static let backupFormat = BackupFile.formatVersion

    public static var description: String {
        "vigil \(current) (wire format \(wireFormat), snapshot format \(snapshotFormat), backup format \(backupFormat))"
    }
}
