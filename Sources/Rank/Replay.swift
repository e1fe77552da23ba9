/// Replays a history run by run: features and predictions for a run come from the
/// runs before it only; then the run is absorbed and the model learns from it.
public enum Replay {
    /// One step of the replay, before the run is absorbed.
    public struct Step: Sendable {
        public var index: Int
        public var run: Run
        public var features: FeatureMatrix
        public var input: RankingInput
        public var state: FeatureState
        /// What the selection threshold had learned before this run (`SelectionCalibration`).
        public var calibration: SelectionCalibration
    }

    /// Walks `history`, calling `visit` for each run before learning from it, and
    /// returns the model trained on all runs.
    @discardableResult
    public static func walk(_ history: History, seed: UInt64,
                            hyperparameters: Hyperparameters = Hyperparameters(),
                            groups: FeatureGroups = .all,
                            visit: (Step) -> Void = { _ in }) -> LogisticModel {
        continueTraining(LogisticModel(features: FeatureSet.names.count, seed: seed, hyperparameters: hyperparameters),
                         on: history, groups: groups, visit: visit)
    }

    /// Continues training `model` on the runs of `history` it has not seen yet: the
    /// first `model.runs` runs only build the feature state. Training a model on runs
    /// 1...k and continuing it on a history that extends them gives the same model as
    /// training on the longer history at once.
    @discardableResult
    public static func continueTraining(_ start: LogisticModel, on history: History,
                                        groups: FeatureGroups = .all,
                                        visit: (Step) -> Void = { _ in }) -> LogisticModel {
        var learner = Learner(model: start, groups: groups)
        for run in history.runs { learner.feed(run, visit: visit) }
        return learner.model
    }

    /// Mean scores of one strategy over the scored runs, with the standard error of
    /// each mean (sample standard deviation / √runs).
    public struct Score: Codable, Sendable, Equatable {
        public var strategy: String
        public var title: String
        public var apfd: Double
        public var apfdc: Double
        /// Mean share of the run's test time spent until 95% of its failing tests ran.
        public var timeTo95: Double
        public var apfdSE: Double
        public var apfdcSE: Double
        public var timeTo95SE: Double
        /// APFD, APFDc and time to 95% of each scored run (`Report.scoredRunIDs` order),
        /// for paired comparisons between strategies.
        public var perRun: [[Double]]
    }

    public struct Report: Codable, Sendable, Equatable {
        public var runs: Int
        public var scoredRuns: Int
        public var executions: Int
        public var seed: UInt64
        /// Position (0-based) of the first run that may be scored; earlier runs are only
        /// learned from.
        public var scoreFrom: Int
        public var scores: [Score]
        /// The ids of the scored runs, in order.
        public var scoredRunIDs: [String]
        /// Per strategy (same order as `scores`), the mean cumulative share of failures
        /// found at each share of test time, for the plot; empty unless asked for.
        public var curves: [Curve] = []
    }

    /// The rows `--hindsight` adds. They are bounds, not strategies: the model is
    /// trained on the whole history, including the verdicts of the runs it then scores.
    public static let hindsightRows: [(strategy: String, title: String)] = [
        ("hindsight-model", "model with hindsight (trained on all runs; a bound)"),
        ("hindsight-model-per-second", "model with hindsight, cost-aware (a bound)"),
    ]

    /// Scores every strategy on each run at position `scoreFrom` or later that has at
    /// least one failure and two tests; every run before a scored one is learned from.
    /// With `hindsight`, also scores the model trained on the whole history (the
    /// `hindsightRows`): how well the features can separate failures at all.
    /// `groups` restricts the model's features (ablation); with `curves`, the report
    /// carries each strategy's mean failures-found-vs-time curve.
    public static func evaluate(_ history: History, seed: UInt64,
                                hyperparameters: Hyperparameters = Hyperparameters(),
                                scoreFrom: Int = 0, hindsight: Bool = false,
                                groups: FeatureGroups = .all, curves: Bool = false) -> Report {
        let strategies = Strategy.allCases
        let rows = strategies.count + (hindsight ? hindsightRows.count : 0)
        var values = [[[Double]]](repeating: [[], [], []], count: rows)
        var curveSums = [[Double]](repeating: [Double](repeating: 0, count: Curve.points), count: rows)
        var scored = 0
        var scoredIDs: [String] = []
        var rng = SplitMix64(seed: seed ^ 0x5EED_0F_0DE5)
        var kept: [(features: FeatureMatrix, durations: [Double], run: Run)] = []
        func add(_ k: Int, _ order: [Int], _ run: Run) {
            let failed = order.map { run.executions[$0].verdict.isFailure }
            let durations = order.map { run.executions[$0].duration }
            values[k][0].append(Metrics.apfd(failed) ?? 0)
            values[k][1].append(Metrics.apfdc(failed, durations: durations) ?? Metrics.apfd(failed) ?? 0)
            values[k][2].append(Metrics.timeShare(toRecall: 0.95, failed, durations: durations) ?? 0)
            if curves {
                let c = Curve.sample(failed, durations: durations)
                for i in 0..<Curve.points { curveSums[k][i] += c[i] }
            }
        }
        let model = walk(history, seed: seed, hyperparameters: hyperparameters, groups: groups) { step in
            let run = step.run
            guard step.index >= scoreFrom, run.executions.count >= 2, run.failureCount > 0 else { return }
            scored += 1
            scoredIDs.append(run.id)
            for (k, strategy) in strategies.enumerated() {
                add(k, strategy.order(step.input, state: step.state, run: run, rng: &rng), run)
            }
            if hindsight { kept.append((step.features, step.input.expectedDurations, run)) }
        }
        for (features, durations, run) in kept {
            let p = model.probabilities(features)
            add(strategies.count, descendingOrder(p), run)
            add(strategies.count + 1, descendingOrder(zip(p, durations).map { $0 / $1 }), run)
        }
        let names = strategies.map { ($0.rawValue, $0.title) } + (hindsight ? hindsightRows.map { ($0.strategy, $0.title) } : [])
        let scores = zip(names, values).map { name, v in
            Score(strategy: name.0, title: name.1, apfd: mean(v[0]), apfdc: mean(v[1]), timeTo95: mean(v[2]),
                  apfdSE: standardError(v[0]), apfdcSE: standardError(v[1]), timeTo95SE: standardError(v[2]),
                  perRun: zip(v[0], zip(v[1], v[2])).map { [$0.0, $0.1.0, $0.1.1] })
        }
        var report = Report(runs: history.runs.count, scoredRuns: scored, executions: history.executionCount,
                            seed: seed, scoreFrom: scoreFrom, scores: scores, scoredRunIDs: scoredIDs)
        if curves {
            let n = Double(max(scored, 1))
            report.curves = zip(names, curveSums).map { name, sums in
                Curve(strategy: name.0, title: name.1, found: sums.map { $0 / n })
            }
        }
        return report
    }
}

/// Mean of `x`; 0 when empty.
func mean(_ x: [Double]) -> Double { x.isEmpty ? 0 : x.reduce(0, +) / Double(x.count) }

/// Standard error of the mean: sample standard deviation / √n; 0 below two values.
func standardError(_ x: [Double]) -> Double {
    guard x.count >= 2 else { return 0 }
    let m = mean(x)
    let variance = x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1)
    return (variance / Double(x.count)).squareRoot()
}

/// A strategy's mean share of the failing tests found (y) at each share of the run's
/// test time (x = i / (points - 1)), averaged over the scored runs.
public struct Curve: Codable, Sendable, Equatable {
    public static let points = 101
    public var strategy: String
    public var title: String
    public var found: [Double]

    /// Share of the failing tests that have finished by each time share, for one run in
    /// execution order (a test counts once it has finished).
    static func sample(_ failed: [Bool], durations: [Double]) -> [Double] {
        let total = durations.reduce(0, +)
        let m = Double(failed.reduce(0) { $0 + ($1 ? 1 : 0) })
        var result = [Double](repeating: 0, count: points)
        guard m > 0 else { return result }
        var finished: [(time: Double, found: Double)] = []
        var spent = 0.0, found = 0.0
        for (f, d) in zip(failed, durations) {
            spent += d
            if f { found += 1 }
            finished.append((total > 0 ? spent / total : 1, found / m))
        }
        var j = 0, current = 0.0
        for i in 0..<points {
            let x = Double(i) / Double(points - 1)
            while j < finished.count && finished[j].time <= x + 1e-12 {
                current = finished[j].found
                j += 1
            }
            result[i] = current
        }
        return result
    }
}
