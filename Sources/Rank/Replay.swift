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
        public var scores: [Score]
    }

    /// Scores every strategy on each run with at least one failure and two tests.
    public static func evaluate(_ history: History, seed: UInt64,
                                hyperparameters: Hyperparameters = Hyperparameters()) -> Report {
        let strategies = Strategy.allCases
        var sums = [[Double]](repeating: [0, 0, 0], count: strategies.count)
        var scored = 0
        var rng = SplitMix64(seed: seed ^ 0x5EED_0F_0DE5)
        walk(history, seed: seed, hyperparameters: hyperparameters) { step in
            let run = step.run
            guard run.executions.count >= 2, run.failureCount > 0 else { return }
            scored += 1
            for (k, strategy) in strategies.enumerated() {
                let order = strategy.order(step.input, state: step.state, run: run, rng: &rng)
                let failed = order.map { run.executions[$0].verdict.isFailure }
                let durations = order.map { run.executions[$0].duration }
                sums[k][0] += Metrics.apfd(failed) ?? 0
                sums[k][1] += Metrics.apfdc(failed, durations: durations) ?? Metrics.apfd(failed) ?? 0
                sums[k][2] += Metrics.timeShare(toRecall: 0.95, failed, durations: durations) ?? 0
            }
        }
        let n = Double(max(scored, 1))
        let scores = zip(strategies, sums).map { strategy, s in
            Score(strategy: strategy.rawValue, title: strategy.title, apfd: s[0] / n, apfdc: s[1] / n, timeTo95: s[2] / n)
        }
        return Report(runs: history.runs.count, scoredRuns: scored, executions: history.executionCount,
                      seed: seed, scores: scores)
    }
}
