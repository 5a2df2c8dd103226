/// The JSON bodies of the settings API.
public enum SettingsPayloads {
    /// `PUT /api/v1/settings/{key}` request body.
    public struct PutBody: Codable, Sendable {
        public var value: String
        public init(value: String) { self.value = value }
    }

    /// The answer to a successful GET, PUT or DELETE.
    public struct SettingAnswer: Codable, Sendable, Equatable {
        public var key: String
        /// Absent after a delete.
        public var value: String?
        /// The key's revision; after a delete, the revision of the deletion.
        public var revision: UInt64
        public var created: Bool?
        public var deleted: Bool?
    }

    public static let maximumKeyBytes = 256
    public static let maximumValueBytes = 64 << 10

    /// Nil when `key` is usable, otherwise why not.
    public static func keyProblem(_ key: String) -> String? {
        guard !key.isEmpty, key.utf8.count <= maximumKeyBytes else {
            return "a key has 1 to \(maximumKeyBytes) bytes"
        }
        let allowed = key.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "._-:".unicodeScalars.contains(scalar))
        }
        return allowed ? nil : "a key uses only ASCII letters, digits and . _ - :"
    }
}
