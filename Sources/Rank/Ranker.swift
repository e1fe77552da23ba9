import Core

/// One test in a ranked plan.
public struct RankedTest: Codable, Sendable, Equatable {
    public var test: String
    public var testFile: String?
    /// Predicted probability that the test fails.
    public var probability: Double
    /// Mean past duration (median of the others for a new test).
    public var expectedDuration: Double
    public var new: Bool
    /// New, or its test file changed: always selected.
    public var mustRun: Bool
    /// Present when a recall target was given.
    public var selected: Bool?
}

/// A ranked plan, best first, with the selection summary when asked for.
public struct RankedRun: Codable, Sendable, Equatable {
    public struct Summary: Codable, Sendable, Equatable {
        public var recallTarget: Double
        public var estimatedRecall: Double
        public var timeSaved: Double
        public var selectedTests: Int
        public var totalTests: Int
        public var forced: Int
        /// How the prefix was chosen: `threshold` (the score that kept `recallTarget` of
        /// earlier runs' failing tests, `SelectionCalibration`) or `mass` (summed
        /// probability, when the model has no failure to learn the threshold from).
        public var rule: String?
    }
    public var run: String?
    public var costAware: Bool
    public var tests: [RankedTest]
    public var selection: Summary?
}

public enum Ranker {
    /// The state before run `runID` and that run's plan; without `runID`, the state
    /// after the whole history and a plan of every test seen in it (first-seen order,
    /// latest test file), i.e. the next run of the full suite.
    /// - Throws: `ReproError(.invalidInput)` if `runID` is not in the history.
    public static func prepare(_ history: History, runID: String?) throws -> (FeatureState, RunPlan) {
        var state = FeatureState()
        if let runID {
            guard let index = history.index(ofRun: runID) else {
                throw ReproError(.invalidInput, "run `\(runID)` is not in the history; pass an id from the file or omit --run")
            }
            for run in history.runs[..<index] { state.absorb(run) }
            return (state, history.runs[index].plan)
        }
        var seen: [String: Int] = [:]
        var tests: [PlannedTest] = []
        for run in history.runs {
            state.absorb(run)
            for e in run.executions {
                if let i = seen[e.test] {
                    if e.testFile != nil { tests[i].testFile = e.testFile }
                } else {
                    seen[e.test] = tests.count
                    tests.append(PlannedTest(test: e.test, testFile: e.testFile))
                }
            }
        }
        return (state, RunPlan(id: "next", tests: tests, changedFiles: nil, imports: history.runs.last?.imports))
    }

    /// Orders `plan` by predicted failure probability (or probability per expected
    /// second when `costAware`) and, given `recall`, marks the selection (`select`).
    public static func rank(_ plan: RunPlan, state: FeatureState, model: LogisticModel,
                            costAware: Bool, recall: Double?) -> RankedRun {
        let stats = state.stats(for: plan)
        let features = state.features(for: plan, stats: stats)
        let p = model.probabilities(features)
        let d = FeatureState.expectedDurations(stats)
        let tiers = ChangeEvidence.tiers(features)
        // Inside a tier: by how strongly the test is tied to the change
        // (`ChangeEvidence.strength`), then by the score.
        let evidence = ChangeEvidence.evidence(for: plan, groups: state.groups) { stats[$0]?.idTokens }
        let order = ChangeEvidence.order(costAware ? zip(p, d).map { $0 / $1 } : p, tiers: tiers,
                                         strength: ChangeEvidence.strength(costAware: costAware, related: evidence.related,
                                                                           spread: evidence.spread,
                                                                           coFailure: ChangeEvidence.coFailures(features),
                                                                           imports: ChangeEvidence.importCloseness(features)))
        // New (the `new` column) or own file changed, without looking every test up again.
        let changed = Set(plan.changedFiles ?? [])
        let isNew = state.groups.contains(.history)
            ? (0..<features.count).map { features.row($0)[features.row($0).startIndex + FeatureSet.new] == 1 }
            : stats.map { $0 == nil }
        let mustRun = plan.tests.indices.map { i in
            isNew[i] || (plan.tests[i].testFile.map { changed.contains($0) } ?? false)
        }
        var selected: Set<Int>?
        var summary: RankedRun.Summary?
        if let recall {
            let s = select(order: order, probabilities: p, durations: d, tiers: tiers, mustRun: mustRun,
                           calibration: model.calibration, costAware: costAware, recall: recall)
            selected = Set(s.selection.selected)
            summary = .init(recallTarget: recall, estimatedRecall: s.selection.estimatedRecall,
                            timeSaved: s.selection.timeSaved, selectedTests: s.selection.selected.count,
                            totalTests: plan.tests.count, forced: s.selection.forced, rule: s.rule)
        }
        let tests = order.map { i in
            RankedTest(test: plan.tests[i].test, testFile: plan.tests[i].testFile, probability: p[i],
                       expectedDuration: d[i], new: isNew[i],
                       mustRun: mustRun[i], selected: selected.map { $0.contains(i) })
        }
        return RankedRun(run: plan.id, costAware: costAware, tests: tests, selection: summary)
    }

    /// A `recall` selection of `order`: every test whose calibrated score reaches the
    /// threshold the model learned from earlier runs (`SelectionCalibration`), or, before
    /// any failure was seen, the smallest prefix holding `recall` of the probability mass
    /// (`Selector.select`); tests with `mustRun` always. The estimated recall is the
    /// calibrated probability selected over the calibrated total.
    static func select(order: [Int], probabilities p: [Double], durations d: [Double], tiers: [Double],
                       mustRun: [Bool], calibration: SelectionCalibration, costAware: Bool,
                       recall: Double) -> (selection: Selection, rule: String) {
        let q = p.indices.map { calibration.calibrated(p[$0], tier: tiers[$0]) }
        guard let kept = calibration.keeps(costAware ? q.indices.map { q[$0] / d[$0] } : q,
                                           recall: recall, perSecond: costAware) else {
            return (Selector.select(order: order, probabilities: p, durations: d, mustRun: mustRun, recall: recall), "mass")
        }
        return (Selector.summary(order: order, kept: kept, mustRun: mustRun, weights: q, durations: d, recall: recall),
                "threshold")
    }
}
