import GRDB
import GRDBSQLite

/// A prepared statement over ticket rows, run through SQLite's C API: `?1` is the ticket id, `?2`
/// its registration time, `?3` its record. A restore writes a million rows and every checkpoint
/// tens of thousands; binding GRDB `StatementArguments` (an array of existentials and a `Data`
/// copy per row) took a fifth of a restore.
struct RecordStatement {
    private let statement: Statement
    private let path: String

    init(_ db: Database, sql: String, path: String) throws {
        statement = try db.cachedStatement(sql: sql)
        self.path = path
    }

    /// Runs the statement once; a nil `registeredAt` or `record` binds NULL.
    func run(id: Int, registeredAt: Int64? = nil, record: ArraySlice<UInt8>? = nil) throws {
        let handle = statement.sqliteStatement
        // SQLITE_TRANSIENT: SQLite copies the bytes before the call returns.
        let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
        // Binding a parameter the SQL does not have is an error (SQLITE_RANGE); "?1 … ?3" has all three.
        let parameters = sqlite3_bind_parameter_count(handle)
        var code = sqlite3_bind_int64(handle, 1, Int64(id))
        if code == SQLITE_OK, parameters >= 2 {
            code = registeredAt.map { sqlite3_bind_int64(handle, 2, $0) } ?? sqlite3_bind_null(handle, 2)
        }
        if code == SQLITE_OK, parameters >= 3 {
            if let record {
                code = record.withUnsafeBytes { sqlite3_bind_blob(handle, 3, $0.baseAddress, Int32($0.count), transient) }
            } else {
                code = sqlite3_bind_null(handle, 3)
            }
        }
        if code == SQLITE_OK, sqlite3_step(handle) != SQLITE_DONE { code = sqlite3_reset(handle) }
        sqlite3_reset(handle)
        guard code == SQLITE_OK else {
            throw DutyStoreError.database(path: path, operation: "write ticket \(id)", message: String(cString: sqlite3_errstr(code)))
        }
    }
}
