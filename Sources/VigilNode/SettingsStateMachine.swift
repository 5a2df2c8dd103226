import Foundation
import RaftCore

/// The replicated settings store: key → value with a revision per key and a global revision.
///
/// Deterministic: applying the same entries to the same state gives the same state on every node; it reads
/// no clock and no randomness. Revisions follow etcd: the global revision counts successful changes, and a
/// key's revision is the global revision of its last change.
public struct SettingsStateMachine: Sendable, Equatable {
    /// One stored setting.
    public struct Setting: Codable, Sendable, Equatable {
        public var value: String
        public var revision: UInt64
    }

    public private(set) var settings: [String: Setting] = [:]
    public private(set) var revision: UInt64 = 0
    /// Log entries with data that did not decode; counted, never fatal, so one bad entry cannot wedge the cluster.
    public private(set) var undecodableEntries: UInt64 = 0

    public init() {}

    /// Applies one committed normal entry's data.
    public mutating func apply(_ data: [UInt8]) -> SettingsOutcome {
        guard let command = SettingsCommand(decoding: data) else {
            undecodableEntries += 1
            return .undecodable
        }
        return apply(command)
    }

    public mutating func apply(_ command: SettingsCommand) -> SettingsOutcome {
        switch command {
        case let .put(key, value, ifRevision):
            let current = settings[key]
            if let expected = ifRevision, expected != (current?.revision ?? 0) {
                return .revisionMismatch(key: key, current: current?.revision ?? 0, expected: expected)
            }
            revision += 1
            let setting = Setting(value: value, revision: revision)
            settings[key] = setting
            return .stored(key: key, setting: setting, created: current == nil)
        case let .delete(key, ifRevision):
            guard let current = settings[key] else {
                if let expected = ifRevision, expected != 0 {
                    return .revisionMismatch(key: key, current: 0, expected: expected)
                }
                return .notFound(key: key)
            }
            if let expected = ifRevision, expected != current.revision {
                return .revisionMismatch(key: key, current: current.revision, expected: expected)
            }
            revision += 1
            settings[key] = nil
            return .deleted(key: key, revision: revision)
        }
    }

    public func get(_ key: String) -> Setting? { settings[key] }

    /// Drops every key with `prefix`, outside the log (a restore into a new cluster forgets the old one's records).
    mutating func removeKeys(withPrefix prefix: String) {
        for key in settings.keys where key.hasPrefix(prefix) { settings[key] = nil }
    }

    // MARK: - Snapshots

    private struct Image: Codable {
        var formatVersion: Int
        var revision: UInt64
        var undecodableEntries: UInt64
        var settings: [String: Setting]
    }

    private static let formatVersion = 1

    /// The whole state as bytes, for `RaftNode.compact(through:data:)`; keys sorted so equal states give equal bytes.
    public func snapshotData() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let image = Image(formatVersion: Self.formatVersion, revision: revision, undecodableEntries: undecodableEntries, settings: settings)
        return Array((try? encoder.encode(image)) ?? Data())
    }

    /// Streams the state to a snapshot file: revision, undecodable count, setting count, then each setting in key
    /// order as key (u32 length + UTF-8), revision (u64), value (u32 length + UTF-8). One setting at a time is
    /// encoded, so the largest buffer is one value.
    func writeSnapshot(to writer: inout SnapshotFileWriter) throws(SnapshotFileError) {
        try writer.appendU64(revision)
        try writer.appendU64(undecodableEntries)
        try writer.appendU64(UInt64(settings.count))
        for key in settings.keys.sorted() {
            let setting = settings[key]!
            let keyBytes = Array(key.utf8)
            let valueBytes = Array(setting.value.utf8)
            try writer.appendU32(UInt32(keyBytes.count))
            try writer.append(keyBytes)
            try writer.appendU64(setting.revision)
            try writer.appendU32(UInt32(valueBytes.count))
            try writer.append(valueBytes)
        }
    }

    /// Reads what `writeSnapshot(to:)` wrote.
    init(reading reader: inout SnapshotFileReader) throws(SnapshotFileError) {
        revision = try reader.u64("settings.revision")
        undecodableEntries = try reader.u64("settings.undecodableEntries")
        let count = try reader.u64("settings.count")
        var previous: String?
        for position in 0..<count {
            let key = String(decoding: try reader.bytes(Int(try reader.u32("settings[\(position)].key.length")), "settings[\(position)].key"), as: UTF8.self)
            guard previous.map({ $0 < key }) ?? true else {
                throw SnapshotFileError(path: reader.path, "setting keys are not in strictly increasing order at settings[\(position)]")
            }
            let settingRevision = try reader.u64("settings[\(position)].revision")
            let value = String(decoding: try reader.bytes(Int(try reader.u32("settings[\(position)].value.length")), "settings[\(position)].value"), as: UTF8.self)
            settings[key] = Setting(value: value, revision: settingRevision)
            previous = key
        }
    }

    /// The state held by a snapshot; empty data is the empty state (a snapshot taken before any write).
    public init(snapshotData data: [UInt8]) throws(NodeError) {
        guard !data.isEmpty else { return }
        let image: Image
        do {
            image = try JSONDecoder().decode(Image.self, from: Data(data))
        } catch {
            throw .snapshotUndecodable("settings snapshot of \(data.count) bytes: \(error)")
        }
        guard image.formatVersion <= Self.formatVersion else {
            throw .snapshotUndecodable("settings snapshot format \(image.formatVersion) is newer than this build's \(Self.formatVersion)")
        }
        self.settings = image.settings
        self.revision = image.revision
        self.undecodableEntries = image.undecodableEntries
    }
}
