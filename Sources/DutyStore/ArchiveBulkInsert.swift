import GRDB
import GRDBSQLite

/// Inserts archived tickets through SQLite's C API. A restore inserts a million rows; binding
/// GRDB `StatementArguments` (an array of existentials and a `Data` copy per row) took a fifth of it.
struct ArchiveBulkInsert {
    private let statement: Statement
    private let path: String

    init(_ db: Database, path: String) throws {
        statement = try db.makeStatement(sql: "INSERT INTO archived_ticket (id, registered_at, record) VALUES (?, ?, ?)")
        self.path = path
    }

    func insert(id: Int, registeredAt: Int64, record: ArraySlice<UInt8>) throws {
        let handle = statement.sqliteStatement
        // SQLITE_TRANSIENT: SQLite copies the bytes before the call returns.
        let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
        var code = sqlite3_bind_int64(handle, 1, Int64(id))
        if code == SQLITE_OK { code = sqlite3_bind_int64(handle, 2, registeredAt) }
        if code == SQLITE_OK {
            code = record.withUnsafeBytes { sqlite3_bind_blob(handle, 3, $0.baseAddress, Int32($0.count), transient) }
        }
        if code == SQLITE_OK { code = sqlite3_step(handle) == SQLITE_DONE ? SQLITE_OK : sqlite3_reset(handle) }
        sqlite3_reset(handle)
        guard code == SQLITE_OK else {
            throw DutyStoreError.database(path: path, operation: "restore", message: "inserting archived ticket \(id): \(String(cString: sqlite3_errstr(code)))")
        }
    }
}
