import Core
import Foundation
import GRDB
import Store

/// Per-test telemetry: one SQLite database in the store (`$REPRO_HOME/telemetry.sqlite`),
/// through GRDB. A run's row is written when it starts and updated when it ends; each
/// execution is committed on its own as it arrives, so a `kill -9` of repro keeps every
/// test recorded up to that point and the run reads back as `interrupted`.
/// docs/testing.md documents the schema.
public final class Telemetry: Sendable {
    public let path: String
    let db: DatabaseQueue

    /// Opens (creating and migrating) the telemetry database at `path`.
    /// - Throws: `ReproError(.system)` naming the file when SQLite cannot open it.
    public init(path: String) throws {
        self.path = path
        let config = Configuration.repro(synchronous: "NORMAL")
        do {
            db = try DatabaseQueue(path: path, configuration: config)
            try Self.migrator.migrate(db)
        } catch {
            throw ReproError(.system, "cannot open the telemetry database \(path): \(error)")
        }
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1: test runs and executions") { db in
            try db.create(table: "test_runs") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("recipe", .text).notNull().indexed()
                t.column("recipe_file", .text).notNull()
                t.column("recipe_digest", .text).notNull()
                t.column("lock_digest", .text).notNull()
                t.column("build_action", .text).notNull()
                t.column("tree", .text).notNull()
                t.column("inputs_manifest", .text)
                t.column("input_digests", .text).notNull()
                t.column("changed_files", .text)
                t.column("framework", .text).notNull()
                t.column("host", .text).notNull()
                t.column("pid", .integer).notNull()
                t.column("started", .double).notNull()
                t.column("finished", .double)
                t.column("status", .text).notNull()
                t.column("order_strategy", .text).notNull()
                t.column("seed", .integer)
                t.column("filter", .text)
                t.column("faults", .text)
                t.column("requested_order", .text).notNull()
                t.column("attestation", .text)
                t.column("message", .text)
            }
            try db.create(table: "test_executions") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("run_id", .integer).notNull().indexed().references("test_runs", onDelete: .cascade)
                t.column("test", .text).notNull().indexed()
                t.column("file", .text)
                t.column("attempt", .integer).notNull()
                t.column("variation", .text)
                t.column("verdict", .text).notNull()
                t.column("flaky", .boolean).notNull().defaults(to: false)
                t.column("wall_ms", .double).notNull()
                t.column("setup_ms", .double)
                t.column("call_ms", .double)
                t.column("teardown_ms", .double)
                t.column("user_ms", .double)
                t.column("sys_ms", .double)
                t.column("max_rss_kb", .integer)
                t.column("exit_status", .integer)
                t.column("signal", .integer)
                t.column("requested_pos", .integer)
                t.column("executed_pos", .integer)
                t.column("message", .text)
            }
        }
        m.registerMigration("v2: faults injected per run") { db in
            // JSON object FAMILY:ERRNO -> count, over every launch of the run (issue 15).
            try db.alter(table: "test_runs") { t in t.add(column: "faults_injected", .text) }
        }
        m.registerMigration("v2: selection under a budget") { db in
            try db.alter(table: "test_runs") { t in t.add(column: "selection", .text) }
            try db.alter(table: "test_executions") { t in t.add(column: "probability", .double) }
        }
        m.registerMigration("v3: ctest listings") { db in
            // `ctest --show-only=json-v1` depends only on the working tree, the root, the
            // directory and the arguments: kept by that key, a warm run skips one sandbox.
            try db.create(table: "listings") { t in
                t.primaryKey("key", .text)
                t.column("data", .blob).notNull()
            }
        }
        m.registerMigration("v4: infrastructure digest and import graph") { db in
            // `LockFile.infrastructureDigest`: the lock without the project's own trees;
            // the digest in the store of the tree's import graph (`ImportGraphFile`).
            try db.alter(table: "test_runs") { t in
                t.add(column: "infra_digest", .text)
                t.add(column: "imports_graph", .text)
                // A selecting run that ran everything: what the selection would have
                // kept and caught (`SelectionCheck`, JSON).
                t.add(column: "selection_check", .text)
            }
        }
        return m
    }

    public func listing(_ key: String) throws -> Data? {
        try read { db in try Data.fetchOne(db, sql: "SELECT data FROM listings WHERE key = ?", arguments: [key]) }
    }

    public func saveListing(_ key: String, _ data: Data) throws {
        try write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO listings (key, data) VALUES (?, ?)", arguments: [key, data])
        }
    }

    // MARK: runs

    /// Writes the run's row with status `running`; returns its id.
    public func begin(_ run: TestRunRow) throws -> Int64 {
        var r = run
        try write { db in try r.insert(db) }
        return r.id!
    }

    /// Sets the run's final status (and attestation, message).
    public func finish(_ id: Int64, status: TestRunStatus, attestation: String? = nil, message: String? = nil) throws {
        try write { db in
            try db.execute(sql: "UPDATE test_runs SET status = ?, finished = ?, attestation = COALESCE(?, attestation), message = COALESCE(?, message) WHERE id = ?",
                           arguments: [status.rawValue, Date().timeIntervalSince1970, attestation, message, id])
        }
    }

    /// Records the faults injected per kind over the run (a JSON object, sorted keys).
    public func setFaultsInjected(_ id: Int64, _ injected: [String: UInt64]) throws {
        let json = String(decoding: try CanonicalJSON.encode(injected), as: UTF8.self)
        try write { db in
            try db.execute(sql: "UPDATE test_runs SET faults_injected = ? WHERE id = ?", arguments: [json, id])
        }
    }

    /// Commits one execution (its own transaction).
    public func record(_ execution: TestExecutionRow) throws {
        var e = execution
        try write { db in try e.insert(db) }
    }

    /// Commits executions (and flaky marks) in one transaction.
    public func record(_ executions: [TestExecutionRow], flaky: [String], run: Int64) throws {
        try write { db in
            for var e in executions { try e.insert(db) }
            for t in flaky {
                try db.execute(sql: "UPDATE test_executions SET flaky = 1 WHERE run_id = ? AND test = ?", arguments: [run, t])
            }
        }
    }

    /// Marks every execution of `test` in run `run` flaky.
    public func markFlaky(run: Int64, test: String) throws {
        try write { db in
            try db.execute(sql: "UPDATE test_executions SET flaky = 1 WHERE run_id = ? AND test = ?", arguments: [run, test])
        }
    }

    /// Runs whose repro died without finishing (`kill -9`, power loss) read as
    /// `interrupted`: a `running` row whose process is gone.
    func settleAbandoned(_ db: Database) throws {
        let running = try TestRunRow.filter(Column("status") == TestRunStatus.running.rawValue).fetchAll(db)
        for r in running where !Self.alive(pid: r.pid, host: r.host) {
            try db.execute(sql: "UPDATE test_runs SET status = ? WHERE id = ?", arguments: [TestRunStatus.interrupted.rawValue, r.id])
        }
    }

    static func alive(pid: Int64, host: String) -> Bool {
        guard host == Self.hostName else { return true }
        return kill(pid_t(pid), 0) == 0 || errno == EPERM
    }

    public static let hostName: String = {
        var buf = [CChar](repeating: 0, count: 256)
        gethostname(&buf, buf.count)
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()

    public func runs(recipe: String? = nil, limit: Int = 50) throws -> [TestRunRow] {
        try write { db in
            try settleAbandoned(db)
            var q = TestRunRow.order(Column("id").desc).limit(limit)
            if let recipe { q = q.filter(Column("recipe") == recipe) }
            return try q.fetchAll(db)
        }
    }

    public func run(_ id: Int64) throws -> TestRunRow? {
        try write { db in
            try settleAbandoned(db)
            return try TestRunRow.fetchOne(db, key: id)
        }
    }

    public func executions(run: Int64) throws -> [TestExecutionRow] {
        try read { db in
            try TestExecutionRow.filter(Column("run_id") == run).order(Column("id")).fetchAll(db)
        }
    }

    /// The recipe's finished runs, oldest first, with their executions (first attempt
    /// of each test; flaky tests count as failed): the history `Rank` learns from.
    public func history(recipe: String) throws -> [(TestRunRow, [TestExecutionRow])] {
        try read { db in
            let runs = try TestRunRow.filter(Column("recipe") == recipe)
                .filter([TestRunStatus.passed.rawValue, TestRunStatus.failed.rawValue].contains(Column("status")))
                .order(Column("id")).fetchAll(db)
            return try runs.map { r in
                (r, try TestExecutionRow.filter(Column("run_id") == r.id!).filter(Column("attempt") == 0)
                    .filter(Column("verdict") != TestVerdict.notSelected.rawValue)
                    .order(Column("executed_pos")).fetchAll(db))
            }
        }
    }

    /// Per test of the recipe: executions, passes and failures of tests marked flaky.
    public func flaky(recipe: String) throws -> [FlakyTest] {
        try read { db in
            try FlakyTest.fetchAll(db, sql: """
                SELECT e.test AS test, COUNT(*) AS executions,
                       SUM(CASE WHEN e.verdict = 'pass' THEN 1 ELSE 0 END) AS passes,
                       SUM(CASE WHEN e.verdict IN ('fail','error','timeout','crashed') THEN 1 ELSE 0 END) AS failures,
                       COUNT(DISTINCT e.run_id) AS runs, MAX(e.run_id) AS last_run
                FROM test_executions e JOIN test_runs r ON r.id = e.run_id
                WHERE r.recipe = ? AND e.flaky = 1
                GROUP BY e.test ORDER BY failures DESC, e.test
                """, arguments: [recipe])
        }
    }

    /// The latest finished run of the recipe before `run` (for changed files).
    public func previousRun(recipe: String, before run: Int64?) throws -> TestRunRow? {
        try read { db in
            var q = TestRunRow.filter(Column("recipe") == recipe).filter(Column("status") != TestRunStatus.running.rawValue)
            if let run { q = q.filter(Column("id") < run) }
            return try q.order(Column("id").desc).fetchOne(db)
        }
    }

    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try db.write(body) } catch let e as ReproError { throw e } catch {
            throw ReproError(.system, "telemetry database \(path): \(error)")
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try db.read(body) } catch let e as ReproError { throw e } catch {
            throw ReproError(.system, "telemetry database \(path): \(error)")
        }
    }
}

public enum TestRunStatus: String, Codable, Sendable {
    /// Still running, or (when its process is gone) interrupted.
    case running
    case passed, failed, interrupted
    /// The runner itself failed (setup, the sandbox, a broken adapter).
    case error
}

/// A row of `test_runs`.
public struct TestRunRow: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "test_runs"
    public var id: Int64?
    public var recipe: String
    public var recipeFile: String
    public var recipeDigest: String
    public var lockDigest: String
    public var buildAction: String
    /// The build's output tree.
    public var tree: String
    /// The manifest of the build's inputs as staged (`/build/src`), the base of changed files.
    public var inputsManifest: String?
    /// Input name -> pinned digest.
    public var inputDigests: [String: String]
    /// Paths (under /build/src) changed since the previous run of the recipe; nil for the first run.
    public var changedFiles: [String]?
    public var framework: String
    public var host: String
    public var pid: Int64
    public var started: Double
    public var finished: Double?
    public var status: TestRunStatus
    public var orderStrategy: String
    public var seed: Int64?
    public var filter: String?
    public var faults: String?
    /// The faults injected per kind, as a JSON object (`{"write:EIO": 12}`), when the run had a spec.
    public var faultsInjected: String?
    public var requestedOrder: [String]
    public var attestation: String?
    public var message: String?
    /// `--select`'s budget (`recall:0.95`), or `full: WHY` when a selecting run ran
    /// everything; nil for a run without --select.
    public var selection: String? = nil
    /// `LockFile.infrastructureDigest` of the run's lock; nil for runs recorded before it.
    public var infraDigest: String? = nil
    /// The store digest of the tree's import graph (`ImportGraphFile`), when one was read.
    public var importsGraph: String? = nil
    /// `SelectionCheck` as JSON, for a selecting run that ran every test.
    public var selectionCheck: String? = nil

    enum CodingKeys: String, CodingKey {
        case id, recipe, tree, framework, host, pid, started, finished, status, seed, filter, faults, attestation, message
        case selection
        case infraDigest = "infra_digest", importsGraph = "imports_graph", selectionCheck = "selection_check"
        case faultsInjected = "faults_injected"
        case recipeFile = "recipe_file", recipeDigest = "recipe_digest", lockDigest = "lock_digest"
        case buildAction = "build_action", inputsManifest = "inputs_manifest", inputDigests = "input_digests"
        case changedFiles = "changed_files", orderStrategy = "order_strategy", requestedOrder = "requested_order"
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A row of `test_executions`.
public struct TestExecutionRow: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "test_executions"
    public var id: Int64?
    public var runID: Int64
    public var test: String
    public var file: String?
    /// 0 for the run itself, 1... for reruns of failures.
    public var attempt: Int
    /// What a rerun varied (`reverse`, `one-cpu`, `tz`, `seed`); nil for attempt 0.
    public var variation: String?
    public var verdict: TestVerdict
    public var flaky: Bool
    public var wallMs: Double
    public var setupMs: Double?
    public var callMs: Double?
    public var teardownMs: Double?
    public var userMs: Double?
    public var sysMs: Double?
    public var maxRssKb: Int64?
    public var exitStatus: Int32?
    public var signal: Int32?
    public var requestedPos: Int?
    public var executedPos: Int?
    public var message: String?
    /// The model's predicted failure probability, for tests `--select` left out.
    public var probability: Double? = nil

    enum CodingKeys: String, CodingKey {
        case id, test, file, attempt, variation, verdict, flaky, signal, message
        case runID = "run_id", wallMs = "wall_ms", setupMs = "setup_ms", callMs = "call_ms"
        case teardownMs = "teardown_ms", userMs = "user_ms", sysMs = "sys_ms", maxRssKb = "max_rss_kb"
        case exitStatus = "exit_status", requestedPos = "requested_pos", executedPos = "executed_pos"
        case probability
    }

    public init(run: Int64, result r: TestResult, attempt: Int, variation: String?, requestedPos: Int?, executedPos: Int?) {
        runID = run; test = r.id; file = r.file; self.attempt = attempt; self.variation = variation
        verdict = r.verdict; flaky = false; wallMs = r.wallMs; setupMs = r.setupMs; callMs = r.callMs
        teardownMs = r.teardownMs; userMs = r.userMs; sysMs = r.sysMs; maxRssKb = r.maxRssKb
        exitStatus = r.exitStatus; signal = r.signal; self.requestedPos = requestedPos
        self.executedPos = executedPos; message = r.message
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A line of `repro test flaky`.
public struct FlakyTest: Codable, Sendable, FetchableRecord {
    public var test: String
    public var executions: Int
    public var passes: Int
    public var failures: Int
    public var runs: Int
    public var lastRun: Int64

    enum CodingKeys: String, CodingKey {
        case test, executions, passes, failures, runs, lastRun = "last_run"
    }
}

extension Telemetry {
    /// Records the order a run asked for, once it is known (after the listing).
    public func setSelectionCheck(_ id: Int64, _ check: SelectionCheck) throws {
        let json = String(decoding: try JSONEncoder().encode(check), as: UTF8.self)
        try write { db in
            try db.execute(sql: "UPDATE test_runs SET selection_check = ? WHERE id = ?", arguments: [json, id])
        }
    }

    public func setSelection(_ id: Int64, _ selection: String) throws {
        try write { db in
            try db.execute(sql: "UPDATE test_runs SET selection = ? WHERE id = ?", arguments: [selection, id])
        }
    }

    /// Runs of the recipe since its last run of every test (nil: none ran everything).
    public func runsSinceFullRun(recipe: String) throws -> Int? {
        try read { db in
            let runs = try TestRunRow.filter(Column("recipe") == recipe)
                .filter([TestRunStatus.passed.rawValue, TestRunStatus.failed.rawValue].contains(Column("status")))
                .order(Column("id").desc).fetchAll(db)
            guard let i = runs.firstIndex(where: { $0.selection == nil || $0.selection!.hasPrefix("full") }) else { return nil }
            return i
        }
    }

    public func setRequestedOrder(_ id: Int64, _ order: [String]) throws {
        let json = String(decoding: try JSONEncoder().encode(order), as: UTF8.self)
        try write { db in
            try db.execute(sql: "UPDATE test_runs SET requested_order = ? WHERE id = ?", arguments: [json, id])
        }
    }
}
