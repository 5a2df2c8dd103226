import Foundation
import Logging
import RaftCore

/// `backup:` in `vigil.yaml`: a backup of this node's applied state every `every_minutes` into `directory`, the
/// newest `keep` kept. Each node writes its own, so a backup survives the loss of any one machine.
struct ScheduledBackups: Sendable {
    let loop: RaftLoop
    let settings: NodeConfig.BackupSettings
    let directory: String
    let clusterID: String
    let nodeID: NodeID
    let logger: Logger

    func run() async {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            logger.error("scheduled backups are off: cannot create the directory", metadata: ["directory": "\(directory)", "error": "\(error)"])
            return
        }
        let interval = Duration.milliseconds(Int64(settings.everyMinutes * 60_000))
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            guard !Task.isCancelled else { return }
            await takeOne()
        }
    }

    func takeOne() async {
        let written: (path: String, descriptor: SnapshotDescriptor)
        switch await loop.writeBackup() {
        case let .success(value): written = value
        case let .failure(error):
            logger.error("scheduled backup failed", metadata: ["error": "\(error)"])
            return
        }
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: written.path).deletingLastPathComponent().path) }
        let now = Date()
        let header = BackupFile.header(for: written.descriptor, clusterID: clusterID, node: nodeID, at: Int64(now.timeIntervalSince1970 * 1_000))
        let stamp = ISO8601DateFormatter.string(from: now, timeZone: .gmt, formatOptions: [.withYear, .withMonth, .withDay, .withTime, .withTimeZone])
        let path = "\(directory)/vigil-node\(nodeID)-\(stamp)-\(written.descriptor.index).vbak"
        do {
            try BackupFile.assemble(header, bodyPath: written.path, to: path)
        } catch {
            logger.error("scheduled backup failed", metadata: ["file": "\(path)", "error": "\(error)"])
            return
        }
        logger.info("scheduled backup written", metadata: ["file": "\(path)", "index": "\(header.index)", "bytes": "\(header.bodyBytes)"])
        prune()
    }

    /// Removes all but the newest `keep` backups of this node (the names sort by time).
    private func prune() {
        let prefix = "vigil-node\(nodeID)-"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasPrefix(prefix) && $0.hasSuffix(".vbak") }.sorted()
        for name in names.dropLast(settings.keep) { try? FileManager.default.removeItem(atPath: directory + "/" + name) }
    }
}
