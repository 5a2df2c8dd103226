import Foundation

/// A replicated change to the settings store, as carried in a Raft entry's data (JSON).
public enum SettingsCommand: Codable, Sendable, Equatable {
    /// Sets `key`; with `ifRevision`, only when the key's revision equals it (0: only when absent).
    case put(key: String, value: String, ifRevision: UInt64?)
    /// Removes `key`; with `ifRevision`, only when the key's revision equals it.
    case delete(key: String, ifRevision: UInt64?)

    public var key: String {
        switch self {
        case let .put(key, _, _), let .delete(key, _): return key
        }
    }

    public func encoded() -> [UInt8] {
        // Encoding a value of this enum cannot fail: only strings and integers.
        Array((try? JSONEncoder().encode(self)) ?? Data())
    }

    public init?(decoding bytes: [UInt8]) {
        guard let command = try? JSONDecoder().decode(SettingsCommand.self, from: Data(bytes)) else { return nil }
        self = command
    }
}
