/// Replays a history with selection under a budget: for each run (two tests or more,
/// from `scoreFrom` on) the model orders the run from earlier runs only and the budget
/// picks a prefix, plus the tests that must run (new, or their own file changed). The
/// heuristics get the same share of expected test time as the model selected in that
/// run, so their recall is compared at equal cost. Like the ordering replay, these rows
/// learn every run's verdicts afterwards. The last row (`closedLoop`) is the loop
/// `repro test --select` runs: it learns only from the tests that ran and runs everything
/// every `fullEvery`-th run.
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
        /// Runs replayed (two tests or more, from `scoreFrom` on).
        public var selectingRuns: Int
        /// Of those, the runs the closed loop ran in full (`closedLoop`).
        public var fullRuns: Int
        /// The closed loop's mean share of test time over the runs it did not run in full.
        public var closedLoopSelectingTimeShare: Double = 0
        public var closedLoopSelectingTimeShareSE: Double = 0
        public var runsWithFailures: Int
        public var rows: [Row]
    }

    static let strategies: [Strategy] = [.model, .modelPerSecond, .changedModules, .decayed]

    public static func evaluate(_ history: History, budget: Budget, seed: UInt64, scoreFrom: Int = 0,
                                groups: FeatureGroups = .all, fullEvery: Int = 10) -> Report {
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
                if k < 2, case .recall(let r) = b {
                    // What `TestSelection.select` does: the threshold learned from earlier runs.
                    for i in Ranker.select(order: order, probabilities: p, durations: d, tiers: step.input.tiers,
                                           mustRun: mustRun, calibration: step.calibration, costAware: k == 1,
                                           recall: r).selection.selected { chosen[i] = true }
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
        let loop = closedLoop(history, budget: budget, seed: seed, scoreFrom: scoreFrom, groups: groups,
                              fullEvery: fullEvery)
        var report = Report(budget: budget.description, selectingRuns: runs, fullRuns: loop.fullRuns,
                            runsWithFailures: withFailures, rows: rows + [loop.row])
        report.closedLoopSelectingTimeShare = mean(loop.selectingShares)
        report.closedLoopSelectingTimeShareSE = standardError(loop.selectingShares)
        return report
    }

    static let closedLoopName = "model-per-second-closed-loop"

    /// What `repro test --select BUDGET` would have done over the history: each run is
    /// selected by `TestSelection.select` (cost-aware, as `repro test` does for recall
    /// and time budgets) from a learner that has seen only what earlier runs ran (the
    /// tests left out are not history, as in telemetry), and every `fullEvery`-th run,
    /// and the first, runs everything. Time shares count the full runs.
    static func closedLoop(_ history: History, budget: Budget, seed: UInt64, scoreFrom: Int,
                           groups: FeatureGroups, fullEvery: Int = 10) -> (row: Row, fullRuns: Int, selectingShares: [Double]) {
        var learner = Learner(seed: seed, groups: groups)
        var sinceFull: Int?
        var recall: [Double] = [], time: [Double] = [], selecting: [Double] = []
        var caught = 0, withFailures = 0, fullRuns = 0
        for (index, run) in history.runs.enumerated() {
            var request = TestSelection.Request(candidates: run.plan.tests, changedFiles: run.changedFiles, budget: budget,
                                                runsSinceFullRun: sinceFull, fullEvery: fullEvery)
            if case .count = budget { request.costAware = false }
            request.imports = run.imports
            let result = TestSelection.select(request, state: learner.state, model: learner.model)
            let chosen = Set(result.selected.map(\.test))
            let ran = run.executions.filter { chosen.contains($0.test) }
            if index >= scoreFrom && run.executions.count >= 2 {
                if result.full { fullRuns += 1 }
                let total = run.executions.reduce(0) { $0 + $1.duration }
                let share = total > 0 ? ran.reduce(0) { $0 + $1.duration } / total : 1
                time.append(share)
                if !result.full { selecting.append(share) }
                let failing = run.failureCount
                if failing > 0 {
                    withFailures += 1
                    let found = ran.reduce(0) { $0 + ($1.verdict.isFailure ? 1 : 0) }
                    recall.append(Double(found) / Double(failing))
                    if found > 0 { caught += 1 }
                }
            }
            sinceFull = result.full ? 0 : sinceFull.map { $0 + 1 }
            var learned = run
            learned.executions = ran
            learned.complete = result.full
            learner.feed(learned)
        }
        let row = Row(strategy: closedLoopName,
                      title: "model, cost-aware, as `repro test --select` runs it (learns only what ran; everything every \(fullEvery)th run)",
                      recall: mean(recall), recallSE: standardError(recall), timeShare: mean(time),
                      timeShareSE: standardError(time), caught: withFailures > 0 ? Double(caught) / Double(withFailures) : 0)
        return (row, fullRuns, selecting)
    }
}
