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

/// Reads and writes `history.jsonl`.
public enum HistoryFile {
    /// Every line is one operation; blank lines are skipped. A line that is not a valid operation is refused
    /// with its number, and nothing is checked.
    public static func read(path: String) throws(HistoryError) -> [HistoryOperation] {
        try parse(JSONLines.text(path: path), path: path)
    }

    public static func parse(_ text: String, path: String = "history") throws(HistoryError) -> [HistoryOperation] {
        try JSONLines.parse(text, path: path, as: HistoryOperation.self) { operation throws(HistoryError) in
            if let returned = operation.returnNanoseconds, returned < operation.callNanoseconds {
                throw HistoryError(path: path, line: 0, reason: "return_ns \(returned) is before call_ns \(operation.callNanoseconds)")
            }
            if operation.op == .put, operation.value == nil {
                throw HistoryError(path: path, line: 0, reason: "a put needs the value it wrote")
            }
        }
    }

    /// One line per operation, keys sorted, so that files diff well.
    public static func line(_ operation: HistoryOperation) -> String { JSONLines.line(operation) }
}
