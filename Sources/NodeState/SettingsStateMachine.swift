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

        package init(value: String, revision: UInt64) {
            self.value = value
            self.revision = revision
        }
    }

    public package(set) var settings: [String: Setting] = [:]
    public package(set) var revision: UInt64 = 0
    /// Log entries with data that did not decode; counted, never fatal, so one bad entry cannot wedge the cluster.
    public package(set) var undecodableEntries: UInt64 = 0

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
    package mutating func removeKeys(withPrefix prefix: String) {
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

    /// The state held by a snapshot; empty data is the empty state (a snapshot taken before any write).
    public init(snapshotData data: [UInt8]) throws(StateSnapshotError) {
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
