import Core
import Foundation
import GRDB

/// The store's SQLite index through GRDB: one `DatabaseQueue` (WAL, 30 s busy timeout,
/// synchronous=FULL) with scoped access. `read { db in }` runs in a read transaction (a
/// consistent snapshot); `write { db in }` in an immediate transaction while holding an
/// exclusive flock(2) on `lockPath`, so the writers of several `repro` processes take
/// turns and a crashed holder's lock goes with its process. GRDB serialises the calls of
/// threads within one process.
final class StoreIndex: Sendable {
    private let queue: DatabaseQueue
    let path: String
    let lockPath: String

    /// Opens (creating) the index at `path` and applies the migrations it lacks.
    /// - Throws: `ReproError(.system)` naming the file when SQLite cannot open or migrate it.
    init(path: String, lockPath: String) throws {
        self.path = path
        self.lockPath = lockPath
        let config = Configuration.repro(synchronous: "FULL")
        do {
            // Switching to WAL and migrating write: under the writers' lock, like any write.
            queue = try FileLock.with(lockPath, exclusive: true) {
                let q = try DatabaseQueue(path: path, configuration: config)
                try StoreSchema.migrator.migrate(q)
                return q
            }
        } catch let e as ReproError {
            throw e
        } catch {
            throw ReproError(.system, "the store index \(path): \(Self.describe(error))")
        }
    }

    /// Runs `body` in a read transaction.
    /// - Throws: what `body` throws; SQLite errors as `ReproError(.system)` naming the index.
    func read<T>(_ body: (GRDB.Database) throws -> T) throws -> T {
        try mapped { try queue.read(body) }
    }

    /// Runs `body` in an immediate write transaction holding the index lock; rolls back
    /// when it throws.
    func write<T>(_ body: (GRDB.Database) throws -> T) throws -> T {
        try mapped {
            try FileLock.with(lockPath, exclusive: true) {
                var value: T?
                try queue.inTransaction(.immediate) { db in
                    value = try body(db)
                    return .commit
                }
                return value!
            }
        }
    }

    private func mapped<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as DatabaseError {
            throw ReproError(.system, "sqlite \(path): \(Self.describe(e))")
        }
    }

    static func describe(_ error: any Error) -> String {
        guard let e = error as? DatabaseError else { return "\(error)" }
        return (e.message ?? "\(e.resultCode)") + (e.sql.map { " (in: \($0.prefix(80)))" } ?? "")
    }
}

extension Configuration {
    /// How repro opens its SQLite files (the store's index, the test telemetry): WAL, a
    /// 30 s busy timeout, and `synchronous` (FULL for the index, NORMAL where losing the
    /// last transactions to a power cut is acceptable).
    public static func repro(synchronous: String) -> Configuration {
        var config = Configuration()
        config.busyMode = .timeout(30)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode=WAL")
            try db.execute(sql: "PRAGMA synchronous=\(synchronous)")
        }
        return config
    }
}

extension Store {
    /// The SQLite library the store's index uses, for `repro doctor`.
    public static var sqliteVersion: String {
        (try? DatabaseQueue().read { try String.fetchOne($0, sql: "SELECT sqlite_version()") } ?? "?") ?? "?"
    }
}
