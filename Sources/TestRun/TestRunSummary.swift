import Build
import Core
import Foundation
import Results

/// What `repro test` prints (`--json`) and `repro test show` reads back.
public struct TestRunSummary: Codable, Sendable {
    public struct Failure: Codable, Sendable {
        public var test: String
        public var verdict: TestVerdict
        public var attempts: Int
        public var message: String?
    }

    public var run: Int64
    public var recipe: String
    public var status: TestRunStatus
    public var framework: String
    public var order: String
    public var tests: Int
    public var passed: Int
    public var failed: Int
    public var skipped: Int
    public var flaky: [String]
    public var notRun: Int
    /// Tests `--select` left out (recorded as `not-selected` with their probability).
    public var notSelected: Int = 0
    /// The run's selection: the budget, or `full: WHY`.
    public var selection: String? = nil
    /// In a selecting run that ran every test: what the selection would have done.
    public var selectionCheck: SelectionCheck? = nil
    public var failures: [Failure]
    public var changedFiles: Int?
    public var buildCached: Bool?
    public var tree: String
    public var log: String?
    /// Where the log's blob sits in the store (a plain file to read).
    public var logPath: String?
    public var logTruncatedBytes: Int64?
    public var attestation: String?
    public var wallSeconds: Double?
    public var message: String?
    /// Mean time to commit one execution to telemetry (this process's runs only).
    public var recordingMsPerExecution: Double?
    /// The fault spec and the faults injected per kind, when the run had one.
    public var faults: TestFaults.Summary?
    /// The named results' check against the baseline, when the suite wrote $REPRO_RESULTS.
    public var results: TestResultsCheck.Summary?
    /// Where this process spent the run's time, in milliseconds per phase, in order
    /// (`build`, `root`, `worktree`, `setup`, `suite`, `finish`): what a slow run pays for.
    public var phasesMs: [Phase]?
    public struct Phase: Codable, Sendable {
        public var phase: String
        public var ms: Double
    }

    enum CodingKeys: String, CodingKey {
        case run, recipe, status, framework, order, tests, passed, failed, skipped, flaky, failures, tree, log, attestation, message
        case faults, results
        case logPath = "log_path"
        case notSelected = "not_selected", selection, selectionCheck = "selection_check"
        case notRun = "not_run", changedFiles = "changed_files", buildCached = "build_cached"
        case logTruncatedBytes = "log_truncated_bytes", wallSeconds = "wall_seconds"
        case recordingMsPerExecution = "recording_ms_per_execution"
        case phasesMs = "phases_ms"
    }

    /// The summary of run `id` as telemetry has it.
    public static func of(run id: Int64, telemetry: Telemetry, build: BuildOutcome? = nil, log: Digest? = nil,
                          truncatedLog: Int64 = 0, wall: Double? = nil) throws -> TestRunSummary {
        guard let row = try telemetry.run(id) else {
            throw ReproError(.invalidInput, "no test run \(id) in this store; `repro test history RECIPE` lists runs")
        }
        let execs = try telemetry.executions(run: id)
        var byTest: [String: [TestExecutionRow]] = [:]
        var order: [String] = []
        for e in execs {
            if byTest[e.test] == nil { order.append(e.test) }
            byTest[e.test, default: []].append(e)
        }
        var passed = 0, failed = 0, skipped = 0, notSelected = 0
        var flaky: [String] = [], failures: [Failure] = []
        for t in order {
            let list = byTest[t]!
            if list.contains(where: \.flaky) { flaky.append(t); continue }
            let last = list.last!
            switch last.verdict {
            case .pass: passed += 1
            case .skip: skipped += 1
            case .notSelected: notSelected += 1
            default:
                failed += 1
                failures.append(Failure(test: t, verdict: last.verdict, attempts: list.count, message: list.first?.message))
            }
        }
        let requested = row.requestedOrder.isEmpty ? order.count - notSelected : row.requestedOrder.count
        var summary = TestRunSummary(
            run: id, recipe: row.recipe, status: row.status, framework: row.framework, order: row.orderStrategy,
            tests: requested, passed: passed, failed: failed, skipped: skipped, flaky: flaky,
            notRun: max(0, requested - (order.count - notSelected)), notSelected: notSelected, selection: row.selection, failures: failures, changedFiles: row.changedFiles?.count,
            buildCached: build?.cached, tree: row.tree, log: log?.description, logPath: nil,
            logTruncatedBytes: truncatedLog > 0 ? truncatedLog : nil, attestation: row.attestation,
            wallSeconds: wall ?? row.finished.map { $0 - row.started }, message: row.message, recordingMsPerExecution: nil)
        summary.selectionCheck = row.selectionCheck.flatMap { try? JSONDecoder().decode(SelectionCheck.self, from: Data($0.utf8)) }
        return summary
    }
}
