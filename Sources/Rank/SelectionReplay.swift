/// Replays a history with selection under a budget: for each run (two tests or more,
/// from `scoreFrom` on) the model orders the run from earlier runs only and the budget
/// picks a prefix, plus the tests that must run (new, or their own file changed). The
/// heuristics get the same share of expected test time as the model selected in that
/// run, so their recall is compared at equal cost. Like the ordering replay, every run's
/// verdicts are learned from afterwards (the replay does not hide unselected verdicts).
public enum SelectionReplay {
    public struct Row: Codable, Sendable, Equatable {
        public var strategy: String
        public var title: String
        /// Mean share of a run's failing tests that were selected (runs with failures).
        public var recall: Double
        public var recallSE: Double
        /// Mean share of a run's test time selected (all replayed runs).
        public var timeShare: Double
        public var timeShareSE: Double
        /// Share of the runs with failures in which at least one failing test was selected.
        public var caught: Double
    }

    public struct Report: Codable, Sendable, Equatable {
        public var budget: String
        public var selectingRuns: Int
        public var fullRuns: Int
        public var runsWithFailures: Int
        public var rows: [Row]
    }

    static let strategies: [Strategy] = [.model, .modelPerSecond, .changedModules, .decayed]

    public static func evaluate(_ history: History, budget: Budget, seed: UInt64, scoreFrom: Int = 0,
                                groups: FeatureGroups = .all) -> Report {
        var recall = [[Double]](repeating: [], count: strategies.count)
        var time = [[Double]](repeating: [], count: strategies.count)
        var caught = [Int](repeating: 0, count: strategies.count)
        var withFailures = 0, runs = 0
        var rng = SplitMix64(seed: seed)
        Replay.walk(history, seed: seed, groups: groups) { step in
            let run = step.run
            guard step.index >= scoreFrom, run.executions.count >= 2 else { return }
            runs += 1
            let p = step.input.probabilities, d = step.input.expectedDurations
            let mustRun = Selector.mustRun(step.input.plan, state: step.state)
            let failing = run.failureCount
            if failing > 0 { withFailures += 1 }
            let actual = run.executions.map(\.duration)
            let total = actual.reduce(0, +)
            var modelShare = 0.0
            for (k, strategy) in strategies.enumerated() {
                let order = strategy.order(step.input, state: step.state, run: run, rng: &rng)
                let b: Budget = k < 2 ? budget : .time(max(modelShare, 1e-12))
                var chosen = [Bool](repeating: false, count: order.count)
                if k < 2, case .recall(let r) = b,
                   let kept = step.calibration.keeps(p.indices.map { i in
                       let q = step.calibration.calibrated(p[i], tier: step.input.tiers[i])
                       return k == 1 ? q / d[i] : q
                   }, recall: r, perSecond: k == 1) {
                    // What `TestSelection.select` does: the threshold learned from earlier runs.
                    for i in order.indices where kept[i] || mustRun[i] { chosen[i] = true }
                } else {
                    let n = b.prefixLength(order: order, probabilities: p, durations: d)
                    for (r, i) in order.enumerated() where r < n || mustRun[i] { chosen[i] = true }
                }
                if k == 0 {
                    let expected = d.reduce(0, +)
                    modelShare = expected > 0 ? zip(chosen, d).reduce(0) { $0 + ($1.0 ? $1.1 : 0) } / expected : 1
                }
                let spent = zip(chosen, actual).reduce(0) { $0 + ($1.0 ? $1.1 : 0) }
                time[k].append(total > 0 ? spent / total : 1)
                if failing > 0 {
                    let found = zip(chosen, run.executions).reduce(0) { $0 + ($1.0 && $1.1.verdict.isFailure ? 1 : 0) }
                    recall[k].append(Double(found) / Double(failing))
                    if found > 0 { caught[k] += 1 }
                }
            }
        }
        let rows = strategies.enumerated().map { k, s in
            Row(strategy: s.rawValue, title: k < 2 ? s.title : "\(s.title) (time budget: the model's share)",
                recall: mean(recall[k]), recallSE: standardError(recall[k]),
                timeShare: mean(time[k]), timeShareSE: standardError(time[k]),
                caught: withFailures > 0 ? Double(caught[k]) / Double(withFailures) : 0)
        }
        return Report(budget: budget.description, selectingRuns: runs, fullRuns: 0,
                      runsWithFailures: withFailures, rows: rows)
    }
}
