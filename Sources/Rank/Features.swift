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
    /// Runs in which each file changed.
    private(set) var fileChangeRuns: [String: Int] = [:]
    /// file -> test -> runs in which the file changed and the test failed.
    private(set) var coFailures: [String: [String: Int]] = [:]

    public init() {}

    /// Adds a finished run to the history.
    public mutating func absorb(_ run: Run) {
        let index = runCount
        for execution in run.executions {
            tests[execution.test, default: TestStats(firstRun: index)].record(execution, run: index)
        }
        if let changed = run.changedFiles, !changed.isEmpty {
            let failing = Set(run.executions.filter { $0.verdict.isFailure }.map(\.test))
            for file in Set(changed) {
                fileChangeRuns[file, default: 0] += 1
                guard !failing.isEmpty else { continue }
                var row = coFailures[file, default: [:]]
                for test in failing { row[test, default: 0] += 1 }
                coFailures[file] = row
            }
        }
        runCount += 1
    }

    /// The feature matrix of a planned run, one row per planned test, in plan order.
    public func features(for plan: RunPlan) -> FeatureMatrix {
        let context = ChangeContext(plan: plan)
        let stats = plan.tests.map { tests[$0.test] }
        let medianDuration = Self.median(stats.compactMap { $0?.meanDuration })
        var rows = FeatureMatrix(columns: FeatureSet.names.count)
        rows.reserve(plan.tests.count)
        for (planned, stat) in zip(plan.tests, stats) {
            rows.append(row(planned, stat, medianDuration: medianDuration, context: context))
        }
        return rows
    }

    private func row(_ planned: PlannedTest, _ stat: TestStats?, medianDuration: Double?, context: ChangeContext) -> [Double] {
        var f = [Double](repeating: 0, count: FeatureSet.names.count)
        let h = TestStats.halfLives.count
        if let s = stat {
            f[FeatureSet.logExecutions] = log1p(Double(s.executions))
            f[FeatureSet.logFailures] = log1p(Double(s.failures))
            f[FeatureSet.failureRate] = s.failureRate
            for k in 0..<h { f[FeatureSet.emaRate + k] = s.emaRate[k] }
            let decayed = s.decayedCounts(at: runCount)
            for k in 0..<h { f[FeatureSet.decayedFailures + k] = log1p(decayed[k]) }
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
        if context.hasChanges {
            f[FeatureSet.coFailure] = coFailure(test: planned.test, context: context)
            f[FeatureSet.tokenOverlap] = context.tokenOverlap(planned)
            f[FeatureSet.testFileChanged] = context.testFileChanged(planned) ? 1 : 0
        }
        return f
    }

    /// The strongest association between a changed file and the test failing:
    /// (runs where the file changed and the test failed) / (runs where the file changed + 1).
    private func coFailure(test: String, context: ChangeContext) -> Double {
        var best = 0.0
        for file in context.changed {
            guard let count = coFailures[file]?[test], let runs = fileChangeRuns[file] else { continue }
            best = max(best, Double(count) / Double(runs + 1))
        }
        return best
    }

    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        return sorted[sorted.count / 2]
    }

    /// Expected duration of each planned test: its mean past duration, or for a new test
    /// the median of the others (1 if nothing is known). Used by cost-aware orders.
    public func expectedDurations(for plan: RunPlan) -> [Double] {
        let known = plan.tests.map { tests[$0.test]?.meanDuration }
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

/// The changed files of a plan, tokenized once.
struct ChangeContext {
    let changed: [String]
    let changedSet: Set<String>
    let tokens: Set<Substring>
    var hasChanges: Bool { !changed.isEmpty }

    init(plan: RunPlan) {
        changed = Array(Set(plan.changedFiles ?? [])).sorted()
        changedSet = Set(changed)
        tokens = Set(changed.flatMap { ChangeContext.tokenize($0) })
    }

    /// Words too common in paths and test names to say anything.
    static let stopWords: Set<Substring> = ["test", "tests", "src", "source", "sources", "lib", "main", "spec", "specs"]

    /// Alphanumeric words of at least three characters, split at camelCase humps and
    /// lower-cased, without the file extension (`.swift` would otherwise match every
    /// file) and without stop words.
    static func tokenize(_ text: String) -> [Substring] {
        var path = Substring(text)
        if let dot = path.lastIndex(of: "."), !path[dot...].contains("/"), path.distance(from: dot, to: path.endIndex) <= 6 {
            path = path[..<dot]
        }
        var words: [String] = []
        var current = ""
        var previous: Character = " "
        for c in path {
            if !(c.isLetter || c.isNumber) {
                if !current.isEmpty { words.append(current) }
                current = ""
            } else {
                if c.isUppercase && (previous.isLowercase || previous.isNumber) && !current.isEmpty {
                    words.append(current)
                    current = ""
                }
                current.append(c)
            }
            previous = c
        }
        if !current.isEmpty { words.append(current) }
        return words.map { Substring($0.lowercased()) }.filter { $0.count >= 3 && !stopWords.contains($0) }
    }

    /// Share of the test's id and file tokens that occur in changed paths.
    func tokenOverlap(_ test: PlannedTest) -> Double {
        let own = Set(Self.tokenize(test.test) + Self.tokenize(test.testFile ?? ""))
        guard !own.isEmpty else { return 0 }
        return Double(own.intersection(tokens).count) / Double(own.count)
    }

    func testFileChanged(_ test: PlannedTest) -> Bool {
        guard let file = test.testFile else { return false }
        return changedSet.contains(file)
    }
}
