import Core
import Foundation
import TestKit
import Testing
@testable import Rank

@Suite(.tags(.unit)) struct SelectionTests {
    @Test func smallestPrefixReachingTheTarget() {
        // Probabilities sum to 1.0; 0.5 + 0.3 = 0.8 reaches 0.8 after two tests.
        let s = Selector.select(order: [0, 1, 2, 3], probabilities: [0.5, 0.3, 0.15, 0.05],
                                durations: [1, 1, 1, 1], mustRun: [false, false, false, false], recall: 0.8)
        #expect(s.selected == [0, 1])
        #expect(abs(s.estimatedRecall - 0.8) < 1e-12)
        #expect(abs(s.timeSaved - 0.5) < 1e-12)
        #expect(s.forced == 0)
    }

    @Test func newAndChangedTestsAreAlwaysSelected() {
        let s = Selector.select(order: [0, 1, 2, 3], probabilities: [0.5, 0.3, 0.15, 0.05],
                                durations: [1, 1, 1, 2], mustRun: [false, false, false, true], recall: 0.5)
        #expect(s.selected == [0, 3])
        #expect(s.forced == 1)
        #expect(abs(s.estimatedRecall - 0.55) < 1e-12)
        #expect(abs(s.timeSaved - 0.4) < 1e-12)
    }

    @Test func mustRunMarksNewTestsAndChangedTestFiles() {
        var state = FeatureState()
        state.absorb(Run(id: "1", executions: [
            Execution(test: "a", verdict: .pass, duration: 1, testFile: "Tests/A.swift"),
            Execution(test: "b", verdict: .pass, duration: 1, testFile: "Tests/B.swift"),
        ]))
        let plan = RunPlan(id: "2", tests: [
            PlannedTest(test: "a", testFile: "Tests/A.swift"),
            PlannedTest(test: "b", testFile: "Tests/B.swift"),
            PlannedTest(test: "c"),
        ], changedFiles: ["Tests/B.swift"])
        #expect(Selector.mustRun(plan, state: state) == [false, true, true])
    }

    @Test func rankerOrdersAndSelects() throws {
        let history = changeHistory()
        let model = Trainer.train(History(runs: Array(history.runs.dropLast())), seed: 1).model
        let (state, plan) = try Ranker.prepare(history, runID: history.runs.last!.id)
        let ranked = Ranker.rank(plan, state: state, model: model, costAware: false, recall: 0.95)
        #expect(ranked.tests.count == plan.tests.count)
        // Tier, then the strength keys (spread, co-failure), then probability.
        let features = state.features(for: plan)
        let e = ChangeEvidence.evidence(for: plan)
        let tiers = ChangeEvidence.tiers(features), cof = ChangeEvidence.coFailures(features)
        let index = Dictionary(uniqueKeysWithValues: plan.tests.enumerated().map { ($1.test, $0) })
        let keys = ranked.tests.map { t -> [Double] in
            let i = index[t.test]!
            return [tiers[i], e.spread[i], cof[i], t.probability]
        }
        #expect(keys == keys.sorted { $0.lexicographicallyPrecedes($1) }.reversed())
        #expect(Set(e.spread).count > 1)
        // `--select-recall` keeps what `repro test --select recall:` keeps: every test at or
        // above the threshold learned from the training runs' failures, plus the forced.
        let summary = try #require(ranked.selection)
        #expect(summary.rule == "threshold")
        let threshold = try #require(model.calibration.threshold(recall: 0.95, perSecond: false))
        for t in ranked.tests {
            let q = model.calibration.calibrated(t.probability, tier: tiers[index[t.test]!])
            #expect(t.selected == (q >= threshold || t.mustRun), "\(t.test) \(q) vs \(threshold)")
        }
        #expect(ranked.tests.contains { $0.selected == false } && ranked.tests.contains { $0.selected == true && !$0.mustRun })
        #expect(summary.selectedTests == ranked.tests.filter { $0.selected == true }.count)
        #expect(summary.estimatedRecall > 0 && summary.estimatedRecall <= 1)
        // The same selection as the library API `repro test --select` calls.
        let request = TestSelection.Request(candidates: plan.tests, changedFiles: plan.changedFiles,
                                            budget: .recall(0.95), runsSinceFullRun: 0, costAware: false)
        let viaAPI = TestSelection.select(request, state: state, model: model)
        #expect(viaAPI.selected.map(\.test) == ranked.tests.filter { $0.selected == true }.map(\.test))

        // A model that has seen no failure has no threshold: summed probability.
        let green = History(runs: history.runs.dropLast().map { run in
            var r = run
            r.executions = r.executions.map { var e = $0; e.verdict = .pass; return e }
            return r
        })
        let greenModel = Trainer.train(green, seed: 1).model
        let mass = try #require(Ranker.rank(plan, state: state, model: greenModel, costAware: false, recall: 0.95).selection)
        #expect(mass.rule == "mass" && mass.estimatedRecall >= 0.95)
        #expect(throws: ReproError.self) { try Ranker.prepare(history, runID: "nope") }
    }

    @Test func modelFileRoundTripsAndChecksVersion() throws {
        let history = changeHistory(runs: 8)
        let file = Trainer.train(history, seed: 5)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rank-model-\(UUID()).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try file.write(to: path)
        #expect(try ModelFile.load(path: path) == file)

        var old = file
        old.version = 0
        try old.write(to: path)
        #expect(throws: ReproError.self) { try ModelFile.load(path: path) }
    }

    @Test func resumingEqualsTrainingAtOnce() throws {
        let history = changeHistory(runs: 20)
        let first = Trainer.train(History(runs: Array(history.runs.prefix(12))), seed: 9)
        let resumed = try Trainer.resume(first, on: history, path: "m.json")
        #expect(resumed == Trainer.train(history, seed: 9))
        #expect(throws: ReproError.self) {
            try Trainer.resume(resumed, on: History(runs: Array(history.runs.prefix(5))), path: "m.json")
        }
    }
}
