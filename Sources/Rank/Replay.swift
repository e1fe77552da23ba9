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
    }

    /// Walks `history`, calling `visit` for each run before learning from it, and
    /// returns the model trained on all runs.
    @discardableResult
    public static func walk(_ history: History, seed: UInt64,
                            hyperparameters: Hyperparameters = Hyperparameters(),
                            visit: (Step) -> Void = { _ in }) -> LogisticModel {
        continueTraining(LogisticModel(features: FeatureSet.names.count, seed: seed, hyperparameters: hyperparameters),
                         on: history, visit: visit)
    }

    /// Continues training `model` on the runs of `history` it has not seen yet: the
    /// first `model.runs` runs only build the feature state. Training a model on runs
    /// 1...k and continuing it on a history that extends them gives the same model as
    /// training on the longer history at once.
    @discardableResult
    public static func continueTraining(_ start: LogisticModel, on history: History,
                                        visit: (Step) -> Void = { _ in }) -> LogisticModel {
        var state = FeatureState()
        var model = start
        let skip = model.runs
        for (index, run) in history.runs.enumerated() {
            if index < skip {
                state.absorb(run)
                continue
            }
            let plan = run.plan
            let features = state.features(for: plan)
            let input = RankingInput(plan: plan, probabilities: model.probabilities(features),
                                     expectedDurations: state.expectedDurations(for: plan))
            visit(Step(index: index, run: run, features: features, input: input, state: state))
            model.train(features, failed: run.executions.map { $0.verdict.isFailure })
            state.absorb(run)
        }
        return model
    }

    /// Mean scores of one strategy over the scored runs.
    public struct Score: Codable, Sendable, Equatable {
        public var strategy: String
        public var title: String
        public var apfd: Double
        public var apfdc: Double
        /// Mean share of the run's test time spent until 95% of its failing tests ran.
        public var timeTo95: Double
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
    public static func evaluate(_ history: History, seed: UInt64,
                                hyperparameters: Hyperparameters = Hyperparameters(),
                                scoreFrom: Int = 0, hindsight: Bool = false) -> Report {
        let strategies = Strategy.allCases
        let rows = strategies.count + (hindsight ? hindsightRows.count : 0)
        var sums = [[Double]](repeating: [0, 0, 0], count: rows)
        var scored = 0
        var rng = SplitMix64(seed: seed ^ 0x5EED_0F_0DE5)
        var kept: [(features: FeatureMatrix, durations: [Double], run: Run)] = []
        func add(_ k: Int, _ order: [Int], _ run: Run) {
            let failed = order.map { run.executions[$0].verdict.isFailure }
            let durations = order.map { run.executions[$0].duration }
            sums[k][0] += Metrics.apfd(failed) ?? 0
            sums[k][1] += Metrics.apfdc(failed, durations: durations) ?? Metrics.apfd(failed) ?? 0
            sums[k][2] += Metrics.timeShare(toRecall: 0.95, failed, durations: durations) ?? 0
        }
        let model = walk(history, seed: seed, hyperparameters: hyperparameters) { step in
            let run = step.run
            guard step.index >= scoreFrom, run.executions.count >= 2, run.failureCount > 0 else { return }
            scored += 1
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
        let n = Double(max(scored, 1))
        let names = strategies.map { ($0.rawValue, $0.title) } + (hindsight ? hindsightRows.map { ($0.strategy, $0.title) } : [])
        let scores = zip(names, sums).map { name, s in
            Score(strategy: name.0, title: name.1, apfd: s[0] / n, apfdc: s[1] / n, timeTo95: s[2] / n)
        }
        return Report(runs: history.runs.count, scoredRuns: scored, executions: history.executionCount,
                      seed: seed, scoreFrom: scoreFrom, scores: scores)
    }
}
