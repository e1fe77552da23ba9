import Foundation
import TestKit
import Testing
@testable import Rank

/// Issue 16, second round: the strength keys inside a tier and the calibrated `recall:`
/// threshold (docs/ranking.md).
@Suite(.tags(.unit)) struct StrengthTests {
    let plan = RunPlan(id: "r", tests: [
        PlannedTest(test: "tests/test_alpha.py::test_one", testFile: "tests/test_alpha.py"),
        PlannedTest(test: "tests/test_beta.py::test_one", testFile: "tests/test_beta.py"),
        PlannedTest(test: "tests/test_beta.py::test_two", testFile: "tests/test_beta.py"),
        PlannedTest(test: "tests/test_beta.py::test_three", testFile: "tests/test_beta.py"),
        PlannedTest(test: "tests/test_gamma.py::test_one", testFile: "tests/test_gamma.py"),
        PlannedTest(test: "tests/test_misc.py::test_one", testFile: "tests/test_misc.py"),
    ], changedFiles: ["pkg/alpha.py", "pkg/beta.py", "tests/test_gamma.py", "README.md"])

    @Test func aChangedFilesRiskIsSpreadOverTheTestsTiedToIt() {
        let e = ChangeEvidence.evidence(for: plan)
        // alpha.py ties one test, beta.py three, test_gamma.py is the own file of one.
        let third: Double = 1.0 / 3
        let expected: [Double] = [1, third, third, third, 1, 0]
        #expect(e.spread == expected)
        #expect(e.related == [1, 1, 1, 1, 1, 0])
        #expect(e.related == FeatureState().relatedness(for: plan))
        // Without change data, or for a model without path similarity (ablation): nothing.
        let none = ChangeEvidence.evidence(for: RunPlan(id: "r", tests: plan.tests, changedFiles: nil))
        #expect(none.spread.allSatisfy { $0 == 0 } && none.related.allSatisfy { $0 == 0 })
        let ablated = ChangeEvidence.evidence(for: plan, groups: [.history, .ownFile, .cofailure])
        #expect(ablated.spread.allSatisfy { $0 == 0 } && ablated.related.allSatisfy { $0 == 0 })
    }

    @Test func halfTiedTestsShareTheRiskAtTheirShare() {
        // `pkg/beta_cache.py` has two name words; a test with one of them is tied at 0.5.
        let p = RunPlan(id: "r", tests: [
            PlannedTest(test: "tests/test_beta.py::test_one", testFile: "tests/test_beta.py"),
            PlannedTest(test: "tests/test_beta_cache.py::test_one", testFile: "tests/test_beta_cache.py"),
        ], changedFiles: ["pkg/beta_cache.py"])
        #expect(ChangeEvidence.evidence(for: p).spread == [0.25, 0.5])
    }

    @Test func theOrderUsesTierThenEachStrengthThenScore() {
        let scores = [0.9, 0.1, 0.5, 0.8, 0.99]
        let tiers = [1.0, 1, 1, 1, 0]
        #expect(ChangeEvidence.order(scores, tiers: tiers) == [0, 3, 2, 1, 4])
        let spread = [0.5, 0.5, 1, 0.1, 1]
        let coFailure = [0.0, 0.4, 0, 0, 0]
        #expect(ChangeEvidence.order(scores, tiers: tiers, strength: [spread, coFailure]) == [2, 1, 0, 3, 4])
        #expect(ChangeEvidence.strength(costAware: false, related: [1], spread: [0.5], coFailure: [0.2]) == [[0.5], [0.2]])
        #expect(ChangeEvidence.strength(costAware: true, related: [1], spread: [0.5], coFailure: [0.2]) == [[1]])
    }

    @Test func theModelOrderPutsTheNarrowerChangeFirst() {
        // Two changed modules: alpha ties one test, beta three. Before any history every
        // probability is equal, so the model order is by tier, then spread.
        var rng = SplitMix64(seed: 0)
        let features = FeatureState().features(for: plan)
        let e = ChangeEvidence.evidence(for: plan)
        let input = RankingInput(plan: plan, probabilities: [Double](repeating: 0.5, count: 6),
                                 expectedDurations: [Double](repeating: 1, count: 6), related: e.related,
                                 tiers: ChangeEvidence.tiers(features), spread: e.spread,
                                 coFailure: ChangeEvidence.coFailures(features))
        let run = Run(id: "r", executions: plan.tests.map { Execution(test: $0.test, verdict: .pass, duration: 1, testFile: $0.testFile) },
                      changedFiles: plan.changedFiles)
        #expect(Strategy.model.order(input, state: FeatureState(), run: run, rng: &rng) == [0, 4, 1, 2, 3, 5])
    }
}

@Suite(.tags(.unit)) struct SelectionCalibrationTests {
    @Test func eachTierIsScaledByWhatItsPredictionsMissed() {
        var c = SelectionCalibration()
        #expect(c.calibrated(0.3, tier: 0) == 0.3 && c.calibrated(0.3, tier: 1) == 0.3)
        c.absorb(probabilities: [0.5, 0.5, 0.1, 0.1], tiers: [0, 0, 1, 1], durations: [1, 1, 2, 1],
                 failed: [false, false, true, false])
        // Tier 0: 0 failures for 1.0 predicted; tier 1: 1 failure for 0.2 predicted.
        #expect(abs(c.calibrated(0.3, tier: 0) - 0.3 * 1 / 2) < 1e-12)
        #expect(abs(c.calibrated(0.3, tier: 1) - 0.3 * 2 / 1.2) < 1e-12)
        // The failing test is remembered with the calibration it was ranked with.
        #expect(c.failingProbabilities == [0.1] && c.failingRates == [0.05] && c.failingWeights == [1])
    }

    @Test func theThresholdWeighsRunsEqually() {
        var c = SelectionCalibration()
        #expect(c.threshold(recall: 0.95, perSecond: true) == nil)
        #expect(c.keeps([1], recall: 0.95, perSecond: true) == nil)
        // Run A: one failure (score 1). Run B: four failures (0.1 ... 0.4), a quarter each.
        c.absorb(probabilities: [1], tiers: [0], durations: [1], failed: [true])
        c.absorb(probabilities: [0.1, 0.2, 0.3, 0.4], tiers: [0, 0, 0, 0], durations: [1, 1, 1, 1],
                 failed: [true, true, true, true])
        #expect(c.failingProbabilities == [1, 0.1, 0.2, 0.3, 0.4])
        // Half the weight (run B's) may be left out: everything of B is.
        #expect(c.threshold(recall: 0.5, perSecond: false) == 1)
        // 90%: only 0.2 of the weight 2 may be left out, less than one of B's tests.
        #expect(c.threshold(recall: 0.9, perSecond: false) == 0.1)
        #expect(c.threshold(recall: 0.85, perSecond: false) == 0.2)
        #expect(c.keeps([0.05, 0.2, 3], recall: 0.85, perSecond: false) == [false, true, true])
    }

    @Test func itRemembersTheNewestFailures() {
        var c = SelectionCalibration()
        c.absorb(probabilities: [0.9], tiers: [1], durations: [1], failed: [true])
        let n = SelectionCalibration.remembered + 5
        c.absorb(probabilities: [Double](repeating: 0.01, count: n), tiers: [Double](repeating: 0, count: n),
                 durations: [Double](repeating: 1, count: n), failed: [Bool](repeating: true, count: n))
        #expect(c.failingWeights.count == SelectionCalibration.remembered)
        #expect(!c.failingProbabilities.contains(0.9))
    }

    @Test func theLearnerCalibratesOnTheRunsItTrainsOn() throws {
        let history = changeHistory(runs: 30)
        let whole = Replay.walk(history, seed: 2)
        #expect(!whole.calibration.failingWeights.isEmpty)
        #expect(whole.calibration.failures.reduce(0, +) == Double(history.runs.reduce(0) { $0 + $1.failureCount }))
        // Resumed: the runs the model saw already do not count twice; same result.
        let first = Replay.walk(History(runs: Array(history.runs.prefix(12))), seed: 2)
        #expect(Replay.continueTraining(first, on: history) == whole)
        // The calibration is saved with the model; a model file written before it loads
        // with an empty one.
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let text = String(decoding: try encoder.encode(whole), as: UTF8.self)
        #expect(try JSONDecoder().decode(LogisticModel.self, from: Data(text.utf8)) == whole)
        let withoutIt = text.replacing(#/"selectionCalibration":\{[^}]*\},/#, with: "")
        #expect(withoutIt.count < text.count)
        let old = try JSONDecoder().decode(LogisticModel.self, from: Data(withoutIt.utf8))
        #expect(old.calibration == SelectionCalibration())
        #expect(old.averageWeights == whole.averageWeights && old.runs == whole.runs)
    }

    /// A run a selection cut short (`complete == false`) trains the model and scales the
    /// tiers, but its failing tests do not enter the threshold: they are the ones the
    /// model already found risky, and learning from them would ratchet it up.
    @Test func aSelectedSubsetDoesNotMoveTheThreshold() throws {
        let history = changeHistory(runs: 30)
        let k = try #require(history.runs.indices.first { $0 >= 20 && history.runs[$0].failureCount > 0 })
        var learner = Learner(seed: 2)
        for run in history.runs.prefix(k) { learner.feed(run) }
        let before = learner.model.calibration
        var partial = history.runs[k]
        partial.executions = partial.executions.filter(\.verdict.isFailure) + partial.executions.prefix(3)
        partial.complete = false
        #expect(partial.failureCount > 0)
        learner.feed(partial)
        let after = learner.model.calibration
        #expect(after.failingWeights == before.failingWeights && after.failingRates == before.failingRates)
        #expect(after.predicted != before.predicted && learner.model.runs == k + 1)
        var whole = Learner(seed: 2)
        for run in history.runs.prefix(k + 1) { whole.feed(run) }
        #expect(whole.model.calibration.failingWeights.count > before.failingWeights.count)
    }
}

@Suite(.tags(.unit)) struct CalibratedSelectionTests {
    let history = changeHistory(runs: 40)

    func request(_ budget: Budget, costAware: Bool = true) -> TestSelection.Request {
        let last = history.runs.last!
        return TestSelection.Request(candidates: last.plan.tests, changedFiles: last.changedFiles, budget: budget,
                                     runsSinceFullRun: 2, costAware: costAware)
    }

    /// Budgets that split this history's last run (every test of it is in tier 1 here).
    @Test(arguments: [(true, 0.6), (false, 0.85)])
    func recallSelectsWhatReachesTheLearnedThreshold(costAware: Bool, recall: Double) throws {
        let model = Replay.walk(history, seed: 1)
        let r = TestSelection.select(request(.recall(recall), costAware: costAware), history: history, model: model)
        let threshold = try #require(model.calibration.threshold(recall: recall, perSecond: costAware))
        // Recompute each test's tier and calibrated score from the state after the history.
        var state = FeatureState()
        for run in history.runs { state.absorb(run) }
        let plan = RunPlan(id: "x", tests: history.runs.last!.plan.tests, changedFiles: history.runs.last!.changedFiles)
        let features = state.features(for: plan)
        let tiers = ChangeEvidence.tiers(features)
        let p = model.probabilities(features)
        let d = state.expectedDurations(for: plan)
        var expected = Set<String>()
        var scores: [Double] = []
        for (i, t) in plan.tests.enumerated() {
            let q = model.calibration.calibrated(p[i], tier: tiers[i])
            let score = costAware ? q / d[i] : q
            scores.append(score)
            if score >= threshold || t.testFile.map({ plan.changedFiles!.contains($0) }) == true { expected.insert(t.test) }
        }
        #expect(Set(r.selected.map(\.test)) == expected)
        #expect(!r.notSelected.isEmpty && !r.selected.isEmpty, "threshold \(threshold), scores \(scores)")
    }

    @Test func withoutAnEarlierFailureTheProbabilityMassDecides() {
        var model = Replay.walk(history, seed: 1)
        model.calibration = SelectionCalibration()
        let r = TestSelection.select(request(.recall(0.9)), history: history, model: model)
        let total = r.ordered.map(\.probability).reduce(0, +)
        let chosen = r.selected.map(\.probability).reduce(0, +)
        #expect(chosen >= 0.9 * total * (1 - 1e-9))
        #expect(r.notSelected.count > 0)
    }
}
