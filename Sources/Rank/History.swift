/// The outcome of one test execution.
public enum Verdict: String, Codable, Sendable, CaseIterable {
    case pass, fail, error, skip

    /// A failure for ranking purposes: `fail` and `error` both count as the test
    /// finding a problem; `skip` does not.
    public var isFailure: Bool { self == .fail || self == .error }
}

/// One execution of one test inside a run.
public struct Execution: Sendable, Equatable {
    /// The test's identity, stable across runs (e.g. `Module/File.swift::testName`).
    public var test: String
    public var verdict: Verdict
    /// Seconds (or any fixed unit: only ratios matter for ranking and APFDc).
    public var duration: Double
    /// The source file that holds the test, if known.
    public var testFile: String?

    public init(test: String, verdict: Verdict, duration: Double, testFile: String? = nil) {
        self.test = test
        self.verdict = verdict
        self.duration = duration
        self.testFile = testFile
    }
}

/// One run of the suite (a CI cycle): the executions in their original order and,
/// if known, the files changed since the previous run.
public struct Run: Sendable, Equatable {
    public var id: String
    public var executions: [Execution]
    /// `nil` when the source of the history has no change data (RETECS CSV).
    public var changedFiles: [String]?
    /// Which files of the tree import which, when known (`ImportGraph`): a change then
    /// also ties the tests of every file that imports a changed one.
    public var imports: ImportGraph?
    /// False when a selection left some of the run's tests out (`repro test --select`):
    /// its executions are the tests that ran, picked by the model, so they are not a
    /// fair sample for what the selection threshold learns (`Learner.feed`).
    public var complete = true

    public init(id: String, executions: [Execution], changedFiles: [String]? = nil, imports: ImportGraph? = nil) {
        self.id = id
        self.executions = executions
        self.changedFiles = changedFiles
        self.imports = imports
    }

    public var failureCount: Int { executions.reduce(0) { $0 + ($1.verdict.isFailure ? 1 : 0) } }

    /// What a ranker may know about this run before it runs: the scheduled tests,
    /// their files and the changed files, but no verdicts and no durations.
    public var plan: RunPlan {
        RunPlan(id: id, tests: executions.map { PlannedTest(test: $0.test, testFile: $0.testFile) },
                changedFiles: changedFiles, imports: imports)
    }
}

/// A test scheduled in a run whose outcome is not known yet.
public struct PlannedTest: Sendable, Equatable {
    public var test: String
    public var testFile: String?
    public init(test: String, testFile: String? = nil) {
        self.test = test
        self.testFile = testFile
    }
}

/// The information available before a run starts. Feature extraction only ever sees
/// this and the runs before it, so a run's own verdicts cannot leak into its ranking.
public struct RunPlan: Sendable, Equatable {
    public var id: String
    public var tests: [PlannedTest]
    public var changedFiles: [String]?
    /// The tree's import graph, when known (`Run.imports`).
    public var imports: ImportGraph?
    public init(id: String, tests: [PlannedTest], changedFiles: [String]? = nil, imports: ImportGraph? = nil) {
        self.id = id
        self.tests = tests
        self.changedFiles = changedFiles
        self.imports = imports
    }
}

/// Runs in time order.
public struct History: Sendable, Equatable {
    public var runs: [Run]
    public init(runs: [Run]) { self.runs = runs }

    public var executionCount: Int { runs.reduce(0) { $0 + $1.executions.count } }

    /// The index of the run with this id, if any.
    public func index(ofRun id: String) -> Int? { runs.firstIndex { $0.id == id } }

    /// The same history with `graph` as every run's import graph (one graph for the
    /// whole history: `repro rank --imports`).
    public func with(imports graph: ImportGraph?) -> History {
        History(runs: runs.map { var r = $0; r.imports = graph; return r })
    }
}

/// The history file formats `repro rank` reads.
public enum HistoryFormat: String, Sendable, CaseIterable {
    case retecs, jsonl
}
