import Foundation
import GRDB
import Rank

extension Telemetry {
    /// Streams the recipe's finished (passed or failed) runs, oldest first, as `Rank`
    /// runs: first attempts in executed order, tests `--select` left out omitted, the
    /// verdict as a ranking history has it (`historyVerdict`). Only the columns ranking
    /// uses are read and one run is in memory at a time: `repro test` feeds a long
    /// history of a large suite through a `Learner` without holding it.
    /// - Parameters:
    ///   - before: only runs with a smaller id.
    ///   - imports: the import graph stored under a run's `imports_graph` digest
    ///     (`ImportGraphCache`); without it runs carry no graph.
    public func forEachHistoryRun(recipe: String, before: Int64? = nil, imports: ImportGraphCache? = nil,
                                  _ body: (Run) throws -> Void) throws {
        try read { db in
            var sql = "SELECT id, changed_files, imports_graph, selection FROM test_runs WHERE recipe = ? AND status IN ('passed', 'failed')"
            var arguments: StatementArguments = [recipe]
            if let before {
                sql += " AND id < ?"
                arguments += [before]
            }
            let runs = try Row.fetchAll(db, sql: sql + " ORDER BY id", arguments: arguments)
                .map { (id: $0["id"] as Int64, changed: $0["changed_files"] as String?, graph: $0["imports_graph"] as String?,
                        selection: $0["selection"] as String?) }
            for run in runs {
                var r = try Self.historyRun(db, id: run.id, changedFiles: run.changed)
                r.imports = run.graph.flatMap { imports?.graph($0) }
                r.complete = Self.complete(selection: run.selection)
                try body(r)
            }
        }
    }

    /// One run as `forEachHistoryRun` gives it (for the run that just finished).
    public func historyRun(_ id: Int64, imports: ImportGraphCache? = nil) throws -> Run {
        try read { db in
            let row = try Row.fetchOne(db, sql: "SELECT changed_files, imports_graph, selection FROM test_runs WHERE id = ?", arguments: [id])
            var r = try Self.historyRun(db, id: id, changedFiles: row?["changed_files"])
            r.imports = (row?["imports_graph"] as String?).flatMap { imports?.graph($0) }
            r.complete = Self.complete(selection: row?["selection"])
            return r
        }
    }

    private static func historyRun(_ db: Database, id: Int64, changedFiles: String?) throws -> Run {
        let changed = try changedFiles.map { try JSONDecoder().decode([String].self, from: Data($0.utf8)) }
        var executions: [Execution] = []
        let rows = try Row.fetchCursor(db, sql: """
            SELECT test, file, verdict, flaky, wall_ms FROM test_executions
            WHERE run_id = ? AND attempt = 0 AND verdict != ? ORDER BY executed_pos
            """, arguments: [id, TestVerdict.notSelected.rawValue])
        while let row = try rows.next() {
            let verdict = TestVerdict(rawValue: row["verdict"]) ?? .error
            executions.append(Execution(test: row["test"], verdict: Self.rankVerdict(verdict, flaky: row["flaky"]),
                                        duration: max(row["wall_ms"] as Double, 0.001) / 1000, testFile: row["file"]))
        }
        return Run(id: String(id), executions: executions, changedFiles: changed)
    }

    /// A run ran every test unless `--select` left some out (`selection` holds the
    /// budget; a selecting run that ran everything says `full: WHY`).
    static func complete(selection: String?) -> Bool {
        selection.map { $0.hasPrefix("full") } ?? true
    }

    /// The verdict as a ranking history has it: timeouts and crashes are failures, and
    /// a flaky test counts as failed (never a clean pass).
    static func rankVerdict(_ v: TestVerdict, flaky: Bool) -> Verdict {
        if flaky { return .fail }
        switch v {
        case .pass: return .pass
        case .skip, .notSelected: return .skip
        case .error: return .error
        case .fail, .timeout, .crashed: return .fail
        }
    }
}

/// Loads the import graphs test runs stored (`test_runs.imports_graph`, a digest of the
/// store), keeping the last one: consecutive runs of a recipe mostly share a tree.
public final class ImportGraphCache {
    private let load: (String) -> ImportGraph?
    private var last: (digest: String, graph: ImportGraph?)?

    /// `load` reads the graph stored under a digest; nil when it is gone (collected).
    public init(load: @escaping (String) -> ImportGraph?) { self.load = load }

    /// The graph stored under `digest`, or nil.
    public func graph(_ digest: String) -> ImportGraph? {
        if let last, last.digest == digest { return last.graph }
        let g = load(digest)
        last = (digest, g)
        return g
    }
}
