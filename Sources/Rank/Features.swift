import Foundation

/// Everything learned from the runs absorbed so far, and the features of a planned run.
///
/// The only way in is `absorb(_:)`, one whole run at a time, in time order. Features of
/// a plan are computed from this state and the plan alone, so a run's features cannot
/// depend on its own verdicts or on later runs.
public struct FeatureState: Sendable {
    public private(set) var tests: [String: TestStats] = [:]
    /// How many runs were absorbed; also the index the next run will get.
    public private(set) var runCount = 0
    /// What was learned about changed files (co-failures, last changes).
    private(set) var changes = ChangeMemory()
    /// Feature groups the rows carry; the other columns are 0 (ablation).
    public var groups: FeatureGroups = .all

    public init() {}

    /// Adds a finished run to the history.
    public mutating func absorb(_ run: Run) {
        let index = runCount
        for execution in run.executions {
            tests[execution.test, default: TestStats(firstRun: index, test: execution.test)].record(execution, run: index)
        }
        if let changed = run.changedFiles, !changed.isEmpty {
            changes.absorb(run, index: index)
        }
        changes.track(run)
        runCount += 1
    }

    /// The feature matrix of a planned run, one row per planned test, in plan order.
    public func features(for plan: RunPlan) -> FeatureMatrix {
        features(for: plan, stats: stats(for: plan))
    }

    /// The history of each planned test (nil for a new one), in plan order: looked up
    /// once when a plan needs its features, durations and evidence (`Ranker.rank`).
    func stats(for plan: RunPlan) -> [TestStats?] {
        plan.tests.map { tests[$0.test] }
    }

    /// `features(for:)` with the tests' histories already looked up (`stats(for:)`).
    func features(for plan: RunPlan, stats: [TestStats?]) -> FeatureMatrix {
        var context = ChangeContext(plan: plan, memory: changes, runCount: runCount)
        let medianDuration = Self.median(stats.compactMap { $0?.meanDuration })
        var rows = FeatureMatrix(columns: FeatureSet.names.count)
        rows.reserve(plan.tests.count)
        // One row buffer for the whole plan: a fresh array per test was 10,000 allocations.
        var r = [Double](repeating: 0, count: FeatureSet.names.count)
        for (planned, stat) in zip(plan.tests, stats) {
            row(&r, planned, stat, medianDuration: medianDuration)
            if context.hasEvidence { context.fill(&r, for: planned, idTokens: stat?.idTokens) }
            if groups != .all {
                for g in FeatureGroups.each where !groups.contains(g) {
                    for j in FeatureSet.columns(of: g) { r[j] = 0 }
                }
            }
            rows.append(r)
        }
        return rows
    }

    /// Writes the history columns of a test into `f` (every other column set to 0).
    private func row(_ f: inout [Double], _ planned: PlannedTest, _ stat: TestStats?, medianDuration: Double?) {
        for j in f.indices { f[j] = 0 }
        let h = TestStats.halfLives.count
        if let s = stat {
            f[FeatureSet.logExecutions] = log1p(Double(s.executions))
            f[FeatureSet.logFailures] = log1p(Double(s.failures))
            f[FeatureSet.failureRate] = s.failureRate
            for k in 0..<h { f[FeatureSet.emaRate + k] = s.emaRate[k] }
            for k in 0..<h { f[FeatureSet.decayedFailures + k] = log1p(s.decayedCount(k, at: runCount)) }
            f[FeatureSet.lastFailed] = s.lastFailed ? 1 : 0
            if let last = s.lastFailureRun {
                f[FeatureSet.logRunsSinceFailure] = log1p(Double(runCount - last - 1))
            } else {
                f[FeatureSet.neverFailed] = 1
                f[FeatureSet.logRunsSinceFailure] = log1p(Double(runCount - s.firstRun))
            }
            f[FeatureSet.logRunsSinceExecuted] = log1p(Double(runCount - s.lastRun - 1))
            f[FeatureSet.transitionRate] = s.executions < 2 ? 0 : Double(s.transitions) / Double(s.executions - 1)
            f[FeatureSet.flakiness] = s.flakiness
            if let median = medianDuration, median > 0, s.meanDuration > 0 {
                f[FeatureSet.logRelativeDuration] = log(s.meanDuration / median)
            }
            f[FeatureSet.durationVariation] = s.meanDuration > 0 ? min(s.durationStdDev / s.meanDuration, 10) : 0
            f[FeatureSet.logAge] = log1p(Double(runCount - s.firstRun))
        } else {
            f[FeatureSet.new] = 1
            f[FeatureSet.neverFailed] = 1
        }
    }

    /// How closely each planned test is tied to the run's changed files by name: 1 if its
    /// own file changed, else the path-token similarity (0 without change data). What
    /// the name-match heuristic orders by; independent of `groups`.
    public func relatedness(for plan: RunPlan) -> [Double] {
        var context = ChangeContext(plan: plan, memory: ChangeMemory(), runCount: runCount, imports: false)
        guard context.hasChanges else { return [Double](repeating: 0, count: plan.tests.count) }
        return plan.tests.map { test in
            if let file = test.testFile, context.changedSet.contains(file) { return 1 }
            return context.pathSimilarity(of: test, idTokens: tests[test.test]?.idTokens)
        }
    }

    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        return sorted[sorted.count / 2]
    }

    /// Expected duration of each planned test: its mean past duration, or for a new test
    /// the median of the others (1 if nothing is known). Used by cost-aware orders.
    public func expectedDurations(for plan: RunPlan) -> [Double] {
        Self.expectedDurations(known: plan.tests.map { tests[$0.test]?.meanDuration })
    }

    /// `expectedDurations(for:)` from the tests' histories (`stats(for:)`).
    static func expectedDurations(_ stats: [TestStats?]) -> [Double] {
        expectedDurations(known: stats.map { $0?.meanDuration })
    }

    /// The mean duration of each test, the median of the known ones for a new test.
    private static func expectedDurations(known: [Double?]) -> [Double] {
        let fallback = Self.median(known.compactMap { $0 }) ?? 1
        return known.map { max($0 ?? fallback, 1e-9) }
    }
}

/// Row-major feature matrix.
public struct FeatureMatrix: Sendable, Equatable {
    public let columns: Int
    public private(set) var values: [Double] = []
    public init(columns: Int) { self.columns = columns }
    public var count: Int { columns == 0 ? 0 : values.count / columns }
    mutating func reserve(_ rows: Int) { values.reserveCapacity(rows * columns) }
    public mutating func append(_ row: [Double]) {
        precondition(row.count == columns)
        values.append(contentsOf: row)
    }
    public func row(_ i: Int) -> ArraySlice<Double> { values[(i * columns)..<((i + 1) * columns)] }
}

