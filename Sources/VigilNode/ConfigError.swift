/// Why a node's config could not be used; the message names the file and the key.
public enum ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case malformedYAML(path: String, reason: String)
    case missingKey(path: String, key: String)
    case wrongType(path: String, key: String, reason: String)
    case invalidValue(key: String, reason: String)

    init(decoding error: DecodingError, path: String) {
        func keyPath(_ codingPath: [any CodingKey]) -> String {
            var text = ""
            for key in codingPath {
                if let index = key.intValue { text += "[\(index)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
            }
            return text.isEmpty ? "(top level)" : text
        }
        switch error {
        case let .keyNotFound(key, context):
            self = .missingKey(path: path, key: keyPath(context.codingPath + [key]))
        case let .typeMismatch(type, context):
            self = .wrongType(path: path, key: keyPath(context.codingPath), reason: "expected \(type)")
        case let .valueNotFound(type, context):
            self = .wrongType(path: path, key: keyPath(context.codingPath), reason: "expected \(type), found null")
        case let .dataCorrupted(context):
            if context.codingPath.isEmpty {
                self = .malformedYAML(path: path, reason: context.debugDescription)
            } else {
                self = .wrongType(path: path, key: keyPath(context.codingPath), reason: context.debugDescription)
            }
        @unknown default:
            self = .malformedYAML(path: path, reason: "\(error)")
        }
    }

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "cannot read config \(path): \(reason)"
        case let .malformedYAML(path, reason): return "config \(path) is not valid YAML: \(reason)"
        case let .missingKey(path, key): return "config \(path): missing key '\(key)'"
        case let .wrongType(path, key, reason): return "config \(path): key '\(key)': \(reason)"
        case let .invalidValue(key, reason): return "config key '\(key)': \(reason)"
        }
    }
}
