import CSQLite
import Core
import Foundation

/// A value bound to or read from an SQLite statement.
public enum SQLValue: Hashable, Sendable {
    case int(Int64)
    case text(String)
    case null

    public var int: Int64? { if case .int(let v) = self { v } else { nil } }
    public var text: String? { if case .text(let v) = self { v } else { nil } }
}

/// One SQLite connection (sqlite3_open_v2, WAL, busy timeout) with scoped access, like
/// GRDB's `DatabaseQueue`: `read { db in }` runs in a deferred transaction, `write { db in }`
/// in an immediate one while holding an exclusive flock(2) on `lockPath`, so writers of
/// several `repro` processes take turns. Calls from several threads are serialised.
final class Database: @unchecked Sendable {
    // @unchecked: the handle is only touched under `mutex`.
    private let handle: OpaquePointer
    private let mutex = NSLock()
    let path: String
    let lockPath: String

    /// - Throws: `ReproError(.system)` naming sqlite3_open_v2 and the path.
    init(path: String, lockPath: String) throws {
        self.path = path
        self.lockPath = lockPath
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(db)
            throw ReproError(.system, "sqlite3_open_v2 \(path): \(message)")
        }
        handle = db
        sqlite3_busy_timeout(db, 30_000)
        try FileLock.with(lockPath, exclusive: true) {
            try Connection(handle: db, path: path).execute("PRAGMA journal_mode=WAL")
        }
        try Connection(handle: db, path: path).execute("PRAGMA synchronous=FULL")
    }

    deinit { sqlite3_close_v2(handle) }

    /// Runs `body` in a read transaction (a consistent snapshot).
    func read<T>(_ body: (Connection) throws -> T) throws -> T {
        mutex.lock()
        defer { mutex.unlock() }
        return try transaction("BEGIN DEFERRED", body)
    }

    /// Runs `body` in a write transaction holding the index lock; rolls back on error.
    func write<T>(_ body: (Connection) throws -> T) throws -> T {
        mutex.lock()
        defer { mutex.unlock() }
        return try FileLock.with(lockPath, exclusive: true) {
            try transaction("BEGIN IMMEDIATE", body)
        }
    }

    private func transaction<T>(_ begin: String, _ body: (Connection) throws -> T) throws -> T {
        let db = Connection(handle: handle, path: path)
        try db.execute(begin)
        do {
            let value = try body(db)
            try db.execute("COMMIT")
            return value
        } catch {
            try? db.execute("ROLLBACK")
            throw error
        }
    }
}

/// The connection as scoped access sees it: statements with bound values.
struct Connection {
    let handle: OpaquePointer
    let path: String

    private static var transient: sqlite3_destructor_type {
        unsafeBitCast(-1, to: sqlite3_destructor_type.self)
    }

    /// Runs one statement, discarding rows.
    func execute(_ sql: String, _ args: [SQLValue] = []) throws {
        _ = try query(sql, args)
    }

    /// Rows the last INSERT, UPDATE or DELETE changed (sqlite3_changes).
    var changes: Int { Int(sqlite3_changes(handle)) }

    /// Runs a script of several statements without arguments (sqlite3_exec).
    func executeScript(_ sql: String) throws {
        var err: UnsafeMutablePointer<CChar>?
        if sqlite3_exec(handle, sql, nil, nil, &err) != SQLITE_OK {
            let message = err.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(err)
            throw ReproError(.system, "sqlite \(path): \(message)")
        }
    }

    /// Runs one statement and returns its rows.
    /// - Throws: `ReproError(.system)` with SQLite's message and the statement.
    func query(_ sql: String, _ args: [SQLValue] = []) throws -> [[SQLValue]] {
        var stmt: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &stmt, nil) == SQLITE_OK, let stmt else {
            throw failure(sql)
        }
        defer { sqlite3_finalize(stmt) }
        for (i, arg) in args.enumerated() {
            let index = Int32(i + 1)
            switch arg {
            case .int(let v): sqlite3_bind_int64(stmt, index, v)
            case .text(let v): sqlite3_bind_text(stmt, index, v, -1, Connection.transient)
            case .null: sqlite3_bind_null(stmt, index)
            }
        }
        var rows: [[SQLValue]] = []
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw failure(sql) }
            var row: [SQLValue] = []
            for c in 0..<sqlite3_column_count(stmt) {
                switch sqlite3_column_type(stmt, c) {
                case SQLITE_INTEGER: row.append(.int(sqlite3_column_int64(stmt, c)))
                case SQLITE_NULL: row.append(.null)
                default: row.append(.text(String(cString: sqlite3_column_text(stmt, c))))
                }
            }
            rows.append(row)
        }
        return rows
    }

    private func failure(_ sql: String) -> ReproError {
        ReproError(.system, "sqlite \(path): \(String(cString: sqlite3_errmsg(handle))) (in: \(sql.prefix(80)))")
    }
}

/// Named migrations applied once each, in order, recorded in a `migrations` table (like
/// GRDB's `DatabaseMigrator`). Never edit a shipped migration; append a new one.
struct Migrator {
    private var migrations: [(name: String, sql: String)] = []

    mutating func register(_ name: String, _ sql: String) {
        migrations.append((name, sql))
    }

    /// Applies the migrations the database lacks, in one write transaction.
    func migrate(_ db: Database) throws {
        try db.write { c in
            try c.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied INTEGER NOT NULL)")
            let done = Set(try c.query("SELECT name FROM migrations").compactMap { $0.first?.text })
            for m in migrations where !done.contains(m.name) {
                try c.executeScript(m.sql)
                try c.execute("INSERT INTO migrations (name, applied) VALUES (?, ?)", [.text(m.name), .int(FileSupport.now())])
            }
        }
    }
}

extension Store {
    /// The SQLite library the store's index uses, for `repro doctor`.
    public static var sqliteVersion: String { String(cString: sqlite3_libversion()) }
}
