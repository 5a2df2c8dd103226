import Foundation

/// Why a drill file cannot be checked; names the file and the line.
public struct HistoryError: Error, Equatable, CustomStringConvertible {
    public let path: String
    public let line: Int
    public let reason: String

    public init(path: String, line: Int, reason: String) {
        self.path = path
        self.line = line
        self.reason = reason
    }

    public var description: String { line > 0 ? "\(path):\(line): \(reason)" : "\(path): \(reason)" }
}

/// The drill files' shared format: one JSON object a line, keys sorted, blank lines skipped.
public enum JSONLines {
    public static func text(path: String) throws(HistoryError) -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw HistoryError(path: path, line: 0, reason: "cannot read: \((error as NSError).localizedDescription)")
        }
    }

    public static func read<Record: Decodable>(path: String, as type: Record.Type) throws(HistoryError) -> [Record] {
        try parse(text(path: path), path: path, as: type)
    }

    /// Decodes every line; `validate` refuses a record that decodes but makes no sense (its error's line is
    /// replaced by the record's). The first bad line stops the read: nothing is checked on half a file.
    public static func parse<Record: Decodable>(_ text: String, path: String, as type: Record.Type,
                                                validate: (Record) throws(HistoryError) -> Void = { _ in }) throws(HistoryError) -> [Record] {
        var records: [Record] = []
        let decoder = JSONDecoder()
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            let record: Record
            do {
                record = try decoder.decode(Record.self, from: Data(trimmed.utf8))
            } catch {
                throw HistoryError(path: path, line: index + 1, reason: "not a valid line (\(describe(error)))")
            }
            do {
                try validate(record)
            } catch {
                throw HistoryError(path: path, line: index + 1, reason: error.reason)
            }
            records.append(record)
        }
        return records
    }

    /// One line, keys sorted, so that files diff well.
    public static func line<Record: Encodable>(_ record: Record) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // The records here are structs of strings, integers and arrays of them: they always encode.
        return String(decoding: (try? encoder.encode(record)) ?? Data(), as: UTF8.self)
    }

    static func describe(_ error: Error) -> String {
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
