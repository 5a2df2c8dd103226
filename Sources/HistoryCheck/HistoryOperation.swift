import Foundation

/// One client operation of a drill's `history.jsonl`, in the format any checker can read:
/// `{"client": 3, "op": "put", "key": "k1", "value": "v7", "call_ns": 120, "return_ns": 450}`.
///
/// `return_ns` is null when the outcome is unknown (a timeout, a connection cut): the operation may have taken
/// effect at any time after its call, or never. A get's `value` is what it read (null: the key was absent); a
/// put's is what it wrote.
public struct HistoryOperation: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        case put, get
    }

    public var client: Int
    public var op: Kind
    public var key: String
    public var value: String?
    public var callNanoseconds: UInt64
    public var returnNanoseconds: UInt64?

    enum CodingKeys: String, CodingKey {
        case client, op, key, value
        case callNanoseconds = "call_ns"
        case returnNanoseconds = "return_ns"
    }

    /// Writes null for an absent value or an unknown return, as the format says, rather than leaving the key out.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(client, forKey: .client)
        try container.encode(op, forKey: .op)
        try container.encode(key, forKey: .key)
        try container.encode(value, forKey: .value)
        try container.encode(callNanoseconds, forKey: .callNanoseconds)
        try container.encode(returnNanoseconds, forKey: .returnNanoseconds)
    }

    public init(client: Int, op: Kind, key: String, value: String?, callNanoseconds: UInt64, returnNanoseconds: UInt64?) {
        self.client = client
        self.op = op
        self.key = key
        self.value = value
        self.callNanoseconds = callNanoseconds
        self.returnNanoseconds = returnNanoseconds
    }
}

/// Why a history file cannot be checked; names the line.
public struct HistoryError: Error, Equatable, CustomStringConvertible {
    public let path: String
    public let line: Int
    public let reason: String

    public var description: String { line > 0 ? "\(path):\(line): \(reason)" : "\(path): \(reason)" }
}

/// Reads and writes `history.jsonl`.
public enum HistoryFile {
    /// Every line is one operation; blank lines are skipped. A line that is not a valid operation is refused
    /// with its number, and nothing is checked.
    public static func read(path: String) throws(HistoryError) -> [HistoryOperation] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw HistoryError(path: path, line: 0, reason: "cannot read: \((error as NSError).localizedDescription)")
        }
        return try parse(text, path: path)
    }

    public static func parse(_ text: String, path: String = "history") throws(HistoryError) -> [HistoryOperation] {
        var operations: [HistoryOperation] = []
        let decoder = JSONDecoder()
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            let operation: HistoryOperation
            do {
                operation = try decoder.decode(HistoryOperation.self, from: Data(trimmed.utf8))
            } catch {
                throw HistoryError(path: path, line: index + 1, reason: "not an operation (\(describe(error)))")
            }
            if let returned = operation.returnNanoseconds, returned < operation.callNanoseconds {
                throw HistoryError(path: path, line: index + 1, reason: "return_ns \(returned) is before call_ns \(operation.callNanoseconds)")
            }
            if operation.op == .put, operation.value == nil {
                throw HistoryError(path: path, line: index + 1, reason: "a put needs the value it wrote")
            }
            operations.append(operation)
        }
        return operations
    }

    /// One line per operation, keys sorted, so that files diff well.
    public static func line(_ operation: HistoryOperation) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // A struct of strings and integers always encodes.
        return String(decoding: (try? encoder.encode(operation)) ?? Data(), as: UTF8.self)
    }

    private static func describe(_ error: Error) -> String {
        switch error as? DecodingError {
        case let .keyNotFound(key, _)?: return "missing \"\(key.stringValue)\""
        case let .typeMismatch(_, context)?, let .valueNotFound(_, context)?:
            return "\"\(context.codingPath.map(\.stringValue).joined(separator: "."))\": \(context.debugDescription)"
        case let .dataCorrupted(context)?:
            return context.codingPath.isEmpty ? "invalid JSON" : "\"\(context.codingPath.map(\.stringValue).joined(separator: "."))\": \(context.debugDescription)"
        default: return "\(error)"
        }
    }
}
