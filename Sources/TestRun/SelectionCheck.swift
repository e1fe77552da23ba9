import Foundation

/// What `--select` would have done in a run that ran every test (the first run, every
/// `--full-every`-th, an infrastructure change): such a run knows every verdict, so it
/// measures the selection the user relies on in the other runs. Kept in telemetry
/// (`test_runs.selection_check`) and printed with the run.
public struct SelectionCheck: Codable, Sendable, Equatable {
    /// The budget (`recall:0.95`).
    public var budget: String
    /// Tests the selection would have kept, of `tests`.
    public var kept: Int
    public var tests: Int
    /// Their share of the run's test time.
    public var timeShare: Double
    /// Tests that failed in the run (every attempt), and how many of them were kept.
    public var failing: Int
    public var caught: Int

    enum CodingKeys: String, CodingKey {
        case budget, kept, tests, failing, caught
        case timeShare = "time_share"
    }

    /// The check of a finished run: `kept` the ids the selection would have run,
    /// `executions` the run's first attempts (id, wall time, failed).
    public static func of(budget: String, kept: Set<String>, executions: [(test: String, seconds: Double, failed: Bool)]) -> SelectionCheck {
        let total = executions.reduce(0) { $0 + $1.seconds }
        let keptTime = executions.reduce(0) { $0 + (kept.contains($1.test) ? $1.seconds : 0) }
        let failing = executions.filter(\.failed)
        return SelectionCheck(budget: budget, kept: executions.filter { kept.contains($0.test) }.count, tests: executions.count,
                              timeShare: total > 0 ? keptTime / total : 0, failing: failing.count,
                              caught: failing.filter { kept.contains($0.test) }.count)
    }

    /// "recall:0.95 would have run 3 of 16 tests (12% of the test time) and caught 1 of 1 failing test".
    public var sentence: String {
        let share = String(format: "%.0f%%", timeShare * 100)
        let caughtText = failing == 0 ? "no test failed" : "caught \(caught) of \(failing) failing test\(failing == 1 ? "" : "s")"
        return "--select \(budget) would have run \(kept) of \(tests) tests (\(share) of the test time) and \(caughtText)"
    }
}
