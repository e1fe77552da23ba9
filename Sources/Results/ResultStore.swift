import Core
import Foundation
import GRDB

/// Named results per run and recipe, in the store (`$REPRO_HOME/results.sqlite`, GRDB).
/// A run is `passed`, `failed` (its tests failed) or `regressed` (a result moved beyond
/// its tolerance); the baseline of a recipe is its latest `passed` run unless one is
/// named. Non-finite values are kept (NaN as NULL, which SQLite makes of it anyway).
public final class ResultStore: Sendable {
    public enum Status: String, Sendable, Codable { case passed, failed, regressed }

    public struct Run: Sendable, Equatable, Codable {
        public var id: Int64
        public var recipe: String
        /// Who made it, e.g. "test-run 12" or a user's --label; nil when none.
        public var label: String?
        public var status: Status
        /// Unix seconds.
        public var created: Double
    }

    /// One point of `history`.
    public struct Point: Sendable, Equatable, Codable {
        public var run: Int64
        public var label: String?
        public var status: Status
        public var created: Double
        public var value: Double
        public var unit: String?
    }

    public let path: String
    let db: DatabaseQueue

    /// `root/results.sqlite` (root: the store's root, `$REPRO_HOME`).
    public static func path(storeRoot root: String) -> String { root + "/results.sqlite" }

    /// Opens (creating and migrating) the database at `path`.
    /// - Throws: `ReproError(.system)` naming the file.
    public init(path: String) throws {
        self.path = path
        var config = Configuration()
        config.busyMode = .timeout(30)
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA journal_mode=WAL") }
        do {
            db = try DatabaseQueue(path: path, configuration: config)
            try Self.migrator.migrate(db)
        } catch {
            throw ReproError(.system, "cannot open the results database \(path): \(error)")
        }
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1: result runs and values") { db in
            try db.create(table: "result_runs") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("recipe", .text).notNull().indexed()
                t.column("label", .text)
                t.column("status", .text).notNull()
                t.column("created", .double).notNull()
            }
            try db.create(table: "results") { t in
                t.column("run_id", .integer).notNull().indexed().references("result_runs", onDelete: .cascade)
                t.column("name", .text).notNull()
                t.column("value", .double)
                t.column("unit", .text)
                t.column("tolerance", .double)
                t.primaryKey(["run_id", "name"])
            }
        }
        return m
    }

    private func access<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as ReproError { throw e } catch {
            throw ReproError(.system, "results database \(path): \(error)")
        }
    }

    /// Stores a run's results; returns the run's id.
    @discardableResult
    public func record(recipe: String, label: String?, status: Status, results: [NamedResult],
                       created: Double = Date().timeIntervalSince1970) throws -> Int64 {
        try access {
            try db.write { db in
                try db.execute(sql: "INSERT INTO result_runs (recipe, label, status, created) VALUES (?, ?, ?, ?)",
                               arguments: [recipe, label, status.rawValue, created])
                let id = db.lastInsertedRowID
                for r in results {
                    try db.execute(sql: "INSERT INTO results (run_id, name, value, unit, tolerance) VALUES (?, ?, ?, ?, ?)",
                                   arguments: [id, r.name, r.value.isNaN ? nil : r.value, r.unit, r.tolerance])
                }
                return id
            }
        }
    }

    /// The baseline: the run named by `reference` ("12" or "#12" for an id, else a label,
    /// latest first) or, when nil, the recipe's latest passed run.
    /// - Throws: `ReproError(.invalidInput)` when a named run does not exist.
    public func baseline(recipe: String, reference: String? = nil) throws -> Run? {
        try access {
            try db.read { db in
                if let ref = reference {
                    let idText = ref.hasPrefix("#") ? String(ref.dropFirst()) : ref
                    if let id = Int64(idText), let row = try Row.fetchOne(db, sql: "SELECT * FROM result_runs WHERE id = ? AND recipe = ?", arguments: [id, recipe]) {
                        return Self.run(row)
                    }
                    if let row = try Row.fetchOne(db, sql: "SELECT * FROM result_runs WHERE label = ? AND recipe = ? ORDER BY id DESC LIMIT 1", arguments: [ref, recipe]) {
                        return Self.run(row)
                    }
                    throw ReproError(.invalidInput, "no results run '\(ref)' of recipe \(recipe); see 'repro results runs \(recipe)'")
                }
                return try Row.fetchOne(db, sql: "SELECT * FROM result_runs WHERE recipe = ? AND status = 'passed' ORDER BY id DESC LIMIT 1",
                                        arguments: [recipe]).map(Self.run)
            }
        }
    }

    public func runs(recipe: String) throws -> [Run] {
        try access { try db.read { db in try Row.fetchAll(db, sql: "SELECT * FROM result_runs WHERE recipe = ? ORDER BY id", arguments: [recipe]).map(Self.run) } }
    }

    public func results(of run: Int64) throws -> [NamedResult] {
        try access {
            try db.read { db in
                try Row.fetchAll(db, sql: "SELECT name, value, unit, tolerance FROM results WHERE run_id = ? ORDER BY rowid", arguments: [run]).map { row in
                    NamedResult(name: row["name"], value: (row["value"] as Double?) ?? .nan, unit: row["unit"], tolerance: row["tolerance"])
                }
            }
        }
    }

    /// Every value of `name` in the recipe's runs, oldest first.
    public func history(recipe: String, name: String) throws -> [Point] {
        try access {
            try db.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT r.id, r.label, r.status, r.created, v.value, v.unit FROM results v
                    JOIN result_runs r ON r.id = v.run_id WHERE r.recipe = ? AND v.name = ? ORDER BY r.id
                    """, arguments: [recipe, name]).map { row in
                    Point(run: row["id"], label: row["label"], status: Status(rawValue: row["status"]) ?? .failed,
                          created: row["created"], value: (row["value"] as Double?) ?? .nan, unit: row["unit"])
                }
            }
        }
    }

    static func run(_ row: Row) -> Run {
        Run(id: row["id"], recipe: row["recipe"], label: row["label"], status: Status(rawValue: row["status"]) ?? .failed, created: row["created"])
    }
}

/// The whole check as `repro test` and `repro results record` make it: compare a run's
/// results with the baseline, store them (as `regressed` when something moved), and
/// return the comparison; the caller throws `comparison.error(...)` (exit 3).
public struct ResultCheck: Sendable {
    public var baseline: ResultStore.Run?
    public var comparison: ResultComparison
    public var run: Int64?

    public var baselineLabel: String {
        guard let b = baseline else { return "no baseline" }
        return "run #\(b.id)\(b.label.map { " (\($0))" } ?? "")"
    }

    /// The exit-3 error, or nil.
    public var error: ReproError? { comparison.error(baselineLabel: "the baseline, \(baselineLabel)") }

    /// - Parameters:
    ///   - passed: whether the run's tests (or step) passed; a failed run is stored as
    ///     `failed` and never becomes a baseline.
    ///   - record: false compares only.
    public static func check(store: ResultStore, recipe: String, results: [NamedResult], label: String?, passed: Bool,
                             baseline reference: String? = nil, tolerances: Tolerances = Tolerances(), record: Bool = true) throws -> ResultCheck {
        let base = try store.baseline(recipe: recipe, reference: reference)
        let comparison = ResultComparison.compare(baseline: try base.map { try store.results(of: $0.id) } ?? [], current: results, tolerances: tolerances)
        var run: Int64?
        if record {
            let status: ResultStore.Status = !passed ? .failed : (comparison.regressions.isEmpty ? .passed : .regressed)
            run = try store.record(recipe: recipe, label: label, status: status, results: results)
        }
        return ResultCheck(baseline: base, comparison: comparison, run: run)
    }
}
