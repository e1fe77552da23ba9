import Core
import Faults
import Foundation
import Rank
import Recipe
import Sandbox

/// The state of one test run while it runs: the requested order, what has executed,
/// each test's verdicts per attempt. Every execution is committed to telemetry the
/// moment its record arrives.
struct TestSession {
    let runner: SandboxRunner
    let telemetry: Telemetry
    let box: TestSandbox
    let runID: Int64
    let options: TestOptions
    let progress: (any TestProgress)?
    let strategy: OrderStrategy
    var orderer: TestOrderer
    let changed: [String]?
    /// The import graph of the tree under test (Python suites; `TestImports`).
    var imports: ImportGraph?
    /// In a selecting run that runs every test: what the selection would have kept
    /// (`SelectionCheck`).
    var wouldSelect: Set<String>?
    let log: CappedLog
    /// The recipe (outside [test]), the lock or the toolchain changed since the last run.
    var infrastructureChanged = false
    /// The digest of the build's working tree the tests start from.
    var worktree = ""

    /// The order asked for, and each id's place in it.
    var requested: [TestCase] = []
    var requestedPos: [String: Int] = [:]
    var executedCount = 0
    /// Per test: the verdicts of its attempts, in order.
    var verdicts: [String: [TestVerdict]] = [:]
    var interrupted = false
    /// Set when the runner could not run some tests (an adapter that broke).
    var runnerFailure: String?
    /// Faults the supervisor injected, per kind (FAMILY:ERRNO), over every launch.
    var faultsInjected: [String: UInt64] = [:]
    /// The faults injected, with their times, and when each test started (the start
    /// record's own time): the first fault from a failing test's start to the next
    /// test's start is the one that preceded its failure (tests of one runner run one
    /// after another).
    var faultEvents: [FaultReport.Event] = []
    var testStarts: [(id: String, time: Double)] = []
    /// Time spent committing executions to telemetry, and how many (bench/test.sh).
    var recordingNanos: UInt64 = 0
    var recorded = 0
    /// Executions read from the stream and not yet committed (at most one read's worth).
    var pendingRows: [TestExecutionRow] = []
    var pendingFlaky: [String] = []
    /// The ctest listing, kept for reruns.
    var ctestListing: CTest.Listing?

    var test: Recipe.Test { box.test }

    /// Tests whose every attempt failed (flaky tests are not in it).
    var failingTests: [String] {
        requested.map(\.id).filter { id in
            guard let v = verdicts[id], !v.isEmpty else { return false }
            return v.allSatisfy(\.isFailure)
        }
    }

    /// Matches `--filter`: a glob when it has `*`, `?` or `[`, else a substring.
    static func matches(_ id: String, _ pattern: String) -> Bool {
        if pattern.contains(where: { "*?[".contains($0) }) { return fnmatch(pattern, id, 0) == 0 }
        return id.contains(pattern)
    }

    /// Filter and order the listed tests; record the requested order.
    mutating func plan(_ listed: [TestCase]) throws -> [TestCase] {
        var tests = listed
        if let f = options.filter {
            tests = tests.filter { Self.matches($0.id, f) }
            if tests.isEmpty {
                throw ReproError(.invalidInput, "--filter '\(f)' matches none of the \(listed.count) tests; `repro test show` lists a run's test ids")
            }
        }
        if tests.isEmpty {
            throw ReproError(.invalidInput, "\(box.recipe.file):\(test.line): the \(test.framework.rawValue) suite lists no tests; check [test] args and directory (\(test.directory))")
        }
        if let budget = options.select {
            requested = try select(tests, budget: budget)
        } else {
            requested = orderer.order(tests, strategy: strategy, changedFiles: changed, imports: imports)
        }
        requestedPos = Dictionary(requested.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        try telemetry.setRequestedOrder(runID, requested.map(\.id))
        progress?.planned(total: requested.count)
        return requested
    }

    /// `--select`: the model's prefix under the budget (new tests and tests whose own
    /// file changed always in), in the model's order; the rest are recorded as
    /// `not-selected` with their predicted probability. A full run when the budget's
    /// full-run rule says so (every `fullEvery`-th run, a change to the recipe, lock or
    /// toolchain, no full run yet).
    mutating func select(_ tests: [TestCase], budget: Budget) throws -> [TestCase] {
        var request = TestSelection.Request(
            candidates: tests.map { PlannedTest(test: $0.id, testFile: $0.file) }, changedFiles: changed, budget: budget,
            runsSinceFullRun: try telemetry.runsSinceFullRun(recipe: box.recipe.name),
            infrastructureChanged: infrastructureChanged)
        request.fullEvery = options.fullEvery
        request.imports = imports
        // Time and recall budgets buy the most failures per second (on boltons, recall:0.95
        // keeps 10.5% of the test time cost-aware against 43.6% by probability alone,
        // docs/ranking.md); a count budget takes the likeliest failures first.
        if case .count = budget { request.costAware = false } else { request.costAware = true }
        let result = TestSelection.select(request, state: orderer.learner.state, model: orderer.learner.model)
        try telemetry.setSelection(runID, result.full ? "full: \(result.fullReason ?? "")" : budget.description)
        if result.full {
            progress?.note("--select \(budget): running every test (\(result.fullReason ?? "full run"))")
            // The same selection without the full-run rule, to check it against this
            // run's verdicts afterwards.
            var probe = request
            probe.runsSinceFullRun = 0
            probe.infrastructureChanged = false
            probe.fullEvery = Int.max
            wouldSelect = Set(TestSelection.select(probe, state: orderer.learner.state, model: orderer.learner.model)
                .selected.map(\.test))
        }
        let byID = Dictionary(tests.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var left: [TestExecutionRow] = []
        for t in result.notSelected {
            var row = TestExecutionRow(run: runID, result: TestResult(id: t.test, file: t.testFile, verdict: .notSelected, wallMs: 0),
                                       attempt: 0, variation: nil, requestedPos: nil, executedPos: nil)
            row.probability = t.probability
            left.append(row)
        }
        try telemetry.record(left, flaky: [], run: runID)
        if !result.full {
            progress?.note("--select \(budget): \(result.selected.count) of \(tests.count) tests selected")
        }
        return result.selected.compactMap { byID[$0.test] }
    }

    mutating func record(_ r: TestResult, attempt: Int, variation: String?) throws {
        var row = TestExecutionRow(run: runID, result: r, attempt: attempt, variation: variation,
                                   requestedPos: requestedPos[r.id], executedPos: attempt == 0 ? executedCount : nil)
        if attempt == 0 { executedCount += 1 }
        let before = verdicts[r.id] ?? []
        verdicts[r.id, default: []].append(r.verdict)
        let all = before + [r.verdict]
        let flaky = all.contains(.pass) && all.contains(where: \.isFailure)
        row.flaky = flaky
        pendingRows.append(row)
        if flaky { pendingFlaky.append(r.id) }
        progress?.finished(row)
    }

    /// Commits the executions buffered since the last call, in one transaction.
    mutating func flush() throws {
        guard !pendingRows.isEmpty || !pendingFlaky.isEmpty else { return }
        let t0 = DispatchTime.now().uptimeNanoseconds
        try telemetry.record(pendingRows, flaky: pendingFlaky, run: runID)
        recordingNanos += DispatchTime.now().uptimeNanoseconds - t0
        recorded += pendingRows.count
        pendingRows.removeAll(keepingCapacity: true)
        pendingFlaky.removeAll()
    }

    // MARK: the run

    mutating func execute() throws {
        switch test.framework {
        case .pytest: try runPytest(attempt: 0, variation: nil, only: nil)
        case .ctest: try runCTest(attempt: 0, variation: nil, only: nil)
        case .junit: try runJUnit()
        }
    }

    /// Variations a rerun cycles through: what tends to expose a flaky test.
    static let variations: [(name: String, env: [(String, String)], oneCPU: Bool, reverse: Bool)] = [
        ("reverse", [], false, true),
        ("one-cpu", [], true, false),
        ("tz", [("TZ", "America/St_Johns")], false, false),
        ("seed", [("PYTHONHASHSEED", "12345"), ("REPRO_TEST_SEED", "12345")], false, true),
    ]

    mutating func rerunFailures() throws {
        guard options.rerunFailures > 0, test.framework != .junit else { return }
        for attempt in 1...options.rerunFailures {
            let failing = failingTests
            if failing.isEmpty || interrupted { return }
            let v = Self.variations[(attempt - 1) % Self.variations.count]
            progress?.note("rerun \(attempt)/\(options.rerunFailures) of \(failing.count) failing tests (\(v.name))")
            let set = Set(failing)
            var tests = requested.filter { set.contains($0.id) }
            if v.reverse { tests.reverse() }
            switch test.framework {
            case .pytest: try runPytest(attempt: attempt, variation: v, only: tests)
            case .ctest: try runCTest(attempt: attempt, variation: v, only: tests)
            case .junit: return
            }
        }
    }

    typealias Variation = (name: String, env: [(String, String)], oneCPU: Bool, reverse: Bool)

    /// Runs `launch` over `tests` until each has a verdict: a test that takes the
    /// process down is marked (crashed, or timeout when the runner killed it) and the
    /// rest go on in a fresh sandbox.
    mutating func runUntilDone(attempt: Int, variation: Variation?, initial: [TestCase]?,
                               makeSpec: (_ remaining: [TestCase]?) throws -> SandboxSpec,
                               onCollected: ((inout TestSession, [TestCase]) throws -> [TestCase])?) throws {
        // The tests still to run: `remaining` minus `done` (filtered only when a new
        // sandbox starts, not at each result: 10,000 tests must not cost 10^8 compares).
        var remaining: [TestCase]? = initial
        var done: Set<String> = []
        while remaining.map({ $0.contains { !done.contains($0.id) } }) ?? true {
            remaining = remaining?.filter { !done.contains($0.id) }
            if TestRunner.interrupted.isSet { interrupted = true; return }
            let spec = try makeSpec(remaining)
            let launch = TestLaunch(runner: runner, spec: spec, dir: box.run, testTimeout: Double(test.testTimeout), log: log)
            var progressMade = false
            var pendingError: (any Error)?
            var me = self
            let outcome = try launch.run(onRecord: { record, at in
                do {
                    switch record {
                    case let .collected(tests):
                        if remaining == nil, let onCollected {
                            remaining = try onCollected(&me, tests)
                        }
                        try Self.writeOrder((remaining ?? []).map(\.id), to: me.box.run + "/order")
                    case let .start(id, _):
                        progressMade = true
                        me.testStarts.append((id, at))
                        me.progress?.started(id)
                    case let .result(r):
                        progressMade = true
                        guard !done.contains(r.id) else { return .proceed }
                        done.insert(r.id)
                        try me.record(r, attempt: attempt, variation: variation?.name)
                        if me.options.failFast, r.verdict.isFailure { return .stop }
                    case let .missing(id):
                        done.insert(id)
                        me.runnerFailure = "test \(id) was requested but not collected"
                    case .done:
                        break
                    }
                } catch {
                    pendingError = error
                    return .stop
                }
                return .proceed
            }, onBatch: { try me.flush() }, shouldStop: { TestRunner.interrupted.isSet })
            self = me
            for (kind, n) in outcome.sandbox?.faults?.injected ?? [:] { faultsInjected[kind, default: 0] += n }
            faultEvents += outcome.sandbox?.faults?.events ?? []
            try flush()
            if let pendingError { throw pendingError }
            if let u = outcome.unfinished, !done.contains(u.id), !(outcome.stopped && !outcome.timedOut) {
                done.insert(u.id)
                let verdict: TestVerdict = outcome.timedOut ? .timeout : .crashed
                let why = outcome.timedOut ? "killed after its \(test.testTimeout) s timeout"
                    : "the test process ended during this test (\(outcome.sandbox?.summary ?? "no status"))"
                try record(TestResult(id: u.id, file: requestedPos[u.id].map { requested[$0].file } ?? nil, verdict: verdict,
                                      wallMs: (Date().timeIntervalSince1970 - u.started) * 1000,
                                      exitStatus: outcome.sandbox?.exitCode, signal: outcome.sandbox?.signal,
                                      message: why), attempt: attempt, variation: variation?.name)
                try flush()
            }
            if outcome.stopped {
                if TestRunner.interrupted.isSet { interrupted = true }
                return
            }
            if let e = outcome.error { throw e }
            if outcome.done { return }
            if !progressMade && outcome.unfinished == nil {
                let tail = Self.logTail(log.path)
                runnerFailure = "the \(test.framework.rawValue) runner ended (\(outcome.sandbox?.summary ?? "no status")) before running a test"
                throw ReproError(.failed, "\(runnerFailure!)\(tail.isEmpty ? "" : ":\n" + tail)")
            }
        }
    }

    /// The first fault injected from `test`'s (first) start to the next test's start.
    func firstFault(before test: String) -> FaultReport.Event? {
        guard let i = testStarts.firstIndex(where: { $0.id == test }) else { return nil }
        let from = testStarts[i].time, to = i + 1 < testStarts.count ? testStarts[i + 1].time : .infinity
        return faultEvents.first { $0.time >= from && $0.time < to }
    }

    static func logTail(_ path: String, lines: Int = 20) -> String {
        guard let fh = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? fh.close() }
        let size = (try? fh.seekToEnd()) ?? 0
        try? fh.seek(toOffset: size > 8192 ? size - 8192 : 0)
        let text = String(decoding: fh.readDataToEndOfFile(), as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    /// Hands the order to the pytest plugin through the FIFO at `path` (the plugin
    /// opens it for reading after its `collected` record).
    static func writeOrder(_ ids: [String], to path: String) throws {
        var fd: Int32 = -1
        let deadline = Date().addingTimeInterval(60)
        while fd < 0 {
            fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)
            if fd >= 0 { break }
            guard errno == ENXIO || errno == EINTR, Date() < deadline else {
                throw ReproError(.internal, "cannot hand the test order to the pytest plugin (\(path)): \(Syscall.errorString(errno))")
            }
            usleep(1000)
        }
        defer { close(fd) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        let data = Array(ids.map { $0 + "\n" }.joined().utf8)
        var off = 0
        while off < data.count {
            let n = data[off...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE { return }  // the plugin is gone; the launch says why
                throw ReproError(.system, "write \(path): \(Syscall.errorString(errno))")
            }
            off += n
        }
    }

    // MARK: pytest

    mutating func runPytest(attempt: Int, variation: Variation?, only: [TestCase]?) throws {
        try PytestPlugin.write(to: box.lib + "/lib")
        let fifo = box.run + "/order"
        let base = ["python3", "-m", "pytest", "-p", PytestPlugin.moduleName, "-p", "no:cacheprovider",
                    "--continue-on-collection-errors", "--capture=no", "-q"] + test.args
        let box = self.box
        try runUntilDone(attempt: attempt, variation: variation, initial: only, makeSpec: { _ in
            unlink(fifo)
            guard mkfifo(fifo, 0o600) == 0 else {
                throw ReproError(.system, "mkfifo \(fifo): \(Syscall.errorString(errno))")
            }
            return box.spec(command: base, extraEnv: [("PYTHONPATH", TestSandbox.libDir + "/lib"), ("PYTHONDONTWRITEBYTECODE", "1")]
                                + (variation?.env ?? []),
                            cpuAffinity: variation?.oneCPU == true ? "0" : nil)
        }, onCollected: { session, listed in try session.plan(listed) })
    }
}
