/// The feature columns, in model-file order. Adding or reordering columns changes the
/// model file format version (`ModelFile.formatVersion`).
public enum FeatureSet {
    static let h = TestStats.halfLives.count
    static let new = 0
    static let logExecutions = 1
    static let logFailures = 2
    static let failureRate = 3
    static let emaRate = 4
    static let decayedFailures = emaRate + h
    static let lastFailed = decayedFailures + h
    static let logRunsSinceFailure = lastFailed + 1
    static let neverFailed = lastFailed + 2
    static let logRunsSinceExecuted = lastFailed + 3
    static let transitionRate = lastFailed + 4
    static let flakiness = lastFailed + 5
    static let logRelativeDuration = lastFailed + 6
    static let durationVariation = lastFailed + 7
    static let logAge = lastFailed + 8
    /// The change columns start here; all of them are 0 for a run without change data,
    /// so a history without change data gets exactly the numbers of the history columns.
    static let testFileChanged = lastFailed + 9
    static let pathSimilarity = lastFailed + 10
    static let coFailure = lastFailed + 11
    static let fileCoFailure = lastFailed + 12
    static let relatedChangeRecency = lastFailed + 13
    static let logChangedFiles = lastFailed + 14
    /// 1 / (import steps from the test's file to a changed file), 0 if it imports none
    /// or the import graph is unknown (`ImportGraph`).
    static let importsChanged = lastFailed + 15
    /// How the test is tied to a file changed by one of the failing runs just before this
    /// one, since the last run without failures (`ChangeMemory.open`): 1 for its own file,
    /// else the name similarity (>= 0.5) or 1 / import steps; 0 if not tied.
    static let carriedChange = lastFailed + 16

    /// Column names, as written in model files and docs/ranking.md.
    public static let names: [String] = {
        var n = ["new", "log_executions", "log_failures", "failure_rate"]
        n += TestStats.halfLives.map { "ema_failure_rate_h\(Int($0))" }
        n += TestStats.halfLives.map { "log_decayed_failures_h\(Int($0))" }
        n += ["last_failed", "log_runs_since_failure", "never_failed", "log_runs_since_executed",
              "transition_rate", "flakiness", "log_relative_duration", "duration_variation", "log_age",
              "test_file_changed", "path_similarity", "cofailure", "file_cofailure",
              "related_change_recency", "log_changed_files", "imports_changed_file", "carried_change"]
        return n
    }()

    /// The columns of each group, for ablation (`FeatureGroups`).
    static func columns(of group: FeatureGroups) -> [Int] {
        switch group {
        case .history: Array(0..<testFileChanged)
        case .ownFile: [testFileChanged]
        case .similarity: [pathSimilarity]
        case .cofailure: [coFailure, fileCoFailure]
        case .recency: [relatedChangeRecency]
        case .changeSize: [logChangedFiles]
        case .imports: [importsChanged]
        case .carried: [carriedChange]
        default: FeatureGroups.each.filter { group.contains($0) }.flatMap { columns(of: $0) }
        }
    }
}

/// Groups of feature columns a model may use; the others are held at 0, which gives
/// the same predictions as a model without those columns (a constant column gets no
/// weight). Used by the ablation (`repro rank eval --ablation`).
public struct FeatureGroups: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// Everything learned from verdicts and durations of earlier runs.
    public static let history = FeatureGroups(rawValue: 1)
    /// The test's own file is among the changed files.
    public static let ownFile = FeatureGroups(rawValue: 2)
    /// Path-token similarity between changed files and the test id and file.
    public static let similarity = FeatureGroups(rawValue: 4)
    /// Learned association between changed files and failing tests (and test files).
    public static let cofailure = FeatureGroups(rawValue: 8)
    /// How recently the test's own file changed.
    public static let recency = FeatureGroups(rawValue: 16)
    /// Number of changed files.
    public static let changeSize = FeatureGroups(rawValue: 32)
    /// The test's file imports a changed file (import graph).
    public static let imports = FeatureGroups(rawValue: 64)
    /// Tied to a file changed since the last run without failures (a fault not fixed yet).
    public static let carried = FeatureGroups(rawValue: 128)
    public static let change: FeatureGroups = [.ownFile, .similarity, .cofailure, .recency, .changeSize, .imports, .carried]
    public static let all: FeatureGroups = [.history, .change]
    static let each: [FeatureGroups] = [.history, .ownFile, .similarity, .cofailure, .recency, .changeSize, .imports, .carried]

    /// Names used on the command line and in the docs.
    public static let named: [(name: String, group: FeatureGroups)] = [
        ("history", .history), ("own-file", .ownFile), ("similarity", .similarity),
        ("cofailure", .cofailure), ("recency", .recency), ("change-size", .changeSize), ("imports", .imports),
        ("carried", .carried),
    ]
}
