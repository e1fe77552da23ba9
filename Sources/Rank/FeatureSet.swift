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
    static let coFailure = lastFailed + 9
    static let tokenOverlap = lastFailed + 10
    static let testFileChanged = lastFailed + 11

    /// Column names, as written in model files and docs/ranking.md.
    public static let names: [String] = {
        var n = ["new", "log_executions", "log_failures", "failure_rate"]
        n += TestStats.halfLives.map { "ema_failure_rate_h\(Int($0))" }
        n += TestStats.halfLives.map { "log_decayed_failures_h\(Int($0))" }
        n += ["last_failed", "log_runs_since_failure", "never_failed", "log_runs_since_executed",
              "transition_rate", "flakiness", "log_relative_duration", "duration_variation", "log_age",
              "cofailure", "token_overlap", "test_file_changed"]
        return n
    }()
}
