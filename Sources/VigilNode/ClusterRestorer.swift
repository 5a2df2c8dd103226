import Foundation
import RaftCore
import RaftStorage

/// `vigil restore`: a new cluster (CA, certificates, configs as `vigil init` writes them) whose every node starts
/// from the state in a backup, at the backup's index and term. The backup is checked completely before anything
/// is written; a damaged, truncated or newer-format file writes nothing.
public enum ClusterRestorer {
    /// Returns the header of the restored backup and the config paths written.
    public static func restore(from path: String, into initializer: ClusterInitializer, keepClusterID: Bool) throws(InitError)
        -> (header: BackupHeader, configPaths: [String]) {
        let header: BackupHeader
        let bodyOffset: UInt64
        do {
            (header, bodyOffset) = try BackupFile.verify(path: path)
        } catch {
            throw .invalidArgument("--from", error.description)
        }
        guard header.index > 0, header.term > 0 else { throw .invalidArgument("--from", "\(path): names index \(header.index), term \(header.term)") }
        // Decoded once in full before any cluster file is written: a body that passes its checksum but does not
        // decode (a bug, another build) is refused here too.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-restore-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var machine: NodeStateMachine
        do {
            let store = try SnapshotStore(directory: scratch)
            let descriptor = try BackupFile.extractBody(path: path, offset: bodyOffset, header: header, into: store)
            machine = try store.load(descriptor)
        } catch let error as BackupError {
            throw .invalidArgument("--from", error.description)
        } catch {
            throw .invalidArgument("--from", "\(path): the state in it does not load: \(error)")
        }
        machine.forgetMemberRecords()

        var initializer = initializer
        let clusterID = keepClusterID ? header.clusterID : ClusterInitializer.newClusterID()
        initializer.clusterIDOverride = clusterID
        let configPaths = try initializer.run()
        let voters = initializer.members.map(\.id)
        for (configPath, member) in zip(configPaths, initializer.members) {
            let data = URL(fileURLWithPath: configPath).deletingLastPathComponent().path + "/data"
            do {
                let snapshots = try SnapshotStore(directory: data + "/" + NodeRuntime.snapshotDirectoryName)
                let descriptor = try snapshots.write(machine, index: header.index, term: header.term)
                let log = try SegmentLog(directory: data + "/" + NodeRuntime.logDirectoryName, clusterID: clusterID, nodeID: member.id)
                try log.persist(hardState: HardState(term: header.term, vote: noNode, commit: header.index), entries: [],
                                snapshot: Snapshot(index: header.index, term: header.term, conf: ConfState(voters: voters), data: descriptor.encoded))
                try log.close()
            } catch {
                throw .writeFailed(path: data, reason: "\(error)")
            }
        }
        return (header, configPaths)
    }
}
