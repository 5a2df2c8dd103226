import Foundation
import GRDB
import RaftCore

/// A stored row that no correct write could have produced; the store reports it as `StorageError.corrupt`.
struct MalformedRow: Error, Equatable {
    var message: String
}

/// Converts between Raft's unsigned values and SQLite's signed 64-bit integers and blobs, refusing what does not fit.
enum StoredValues {
    /// Terms and indices are stored as plain non-negative integers so SQL comparisons order them correctly;
    /// `LogWriteRules` refuses values above `Int64.max` before they get here.
    static func integer(_ value: UInt64) -> Int64 { Int64(value) }

    /// Node ids are identities, never compared for order, so the full UInt64 range is kept by bit pattern.
    static func identity(_ id: NodeID) -> Int64 { Int64(bitPattern: id) }

    static func blob(_ bytes: [UInt8]) -> Data { Data(bytes) }

    static func counter(_ row: Row, _ column: String, of what: String) throws -> UInt64 {
        guard let value = Int64.fromDatabaseValue(row[column]), value >= 0 else {
            throw MalformedRow(message: "\(what).\(column) is \(row[column] as DatabaseValue), not a non-negative integer")
        }
        return UInt64(value)
    }

    static func nodeID(_ row: Row, _ column: String, of what: String) throws -> NodeID {
        guard let value = Int64.fromDatabaseValue(row[column]) else {
            throw MalformedRow(message: "\(what).\(column) is \(row[column] as DatabaseValue), not an integer")
        }
        return NodeID(bitPattern: value)
    }

    static func bytes(_ row: Row, _ column: String, of what: String) throws -> [UInt8] {
        let value: DatabaseValue = row[column]
        if case .blob(let data) = value.storage { return [UInt8](data) }
        throw MalformedRow(message: "\(what).\(column) is \(value), not a blob")
    }

    static func members(_ row: Row, _ column: String, of what: String) throws -> [NodeID] {
        guard let text = String.fromDatabaseValue(row[column]), let members = MemberListCoding.decode(text) else {
            throw MalformedRow(message: "\(what).\(column) is \(row[column] as DatabaseValue), not a comma-separated list of node ids")
        }
        return members
    }

    static func entryKind(_ row: Row, at index: LogIndex) throws -> EntryKind {
        guard let raw = Int64.fromDatabaseValue(row["kind"]), let byte = UInt8(exactly: raw), let kind = EntryKind(rawValue: byte) else {
            throw MalformedRow(message: "entry \(index) has unknown kind \(row["kind"] as DatabaseValue)")
        }
        return kind
    }
}
