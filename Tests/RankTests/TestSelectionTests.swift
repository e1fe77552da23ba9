import Core
import Foundation
import TestKit
import Testing
@testable import Rank

@Suite(.tags(.unit)) struct BudgetTests {
    @Test func parsesTheThreeForms() throws {
        #expect(try Budget.parse("recall:0.95") == .recall(0.95))
        #expect(try Budget.parse("time:30%") == .time(0.3))
        #expect(try Budget.parse("time:0.3") == .time(0.3))
        #expect(try Budget.parse("count:12") == .count(12))
    }

    @Test(arguments: ["recall:1.5", "recall:0", "time:0%", "time:150%", "count:0", "count:x", "speed:3", "recall"])
    func rejectsBadBudgets(text: String) {
        #expect(throws: ReproError.self) { try Budget.parse(text) }
        do { _ = try Budget.parse(text) } catch let e as ReproError {
            #expect(e.code.exitStatus == 2)
            #expect(e.message.contains("recall:0.95"))
        } catch {}
    }

    @Test func prefixLengths() {
        let order = [2, 0, 1, 3], p = [0.1, 0.05, 0.6, 0.25], d = [1.0, 2, 3, 4]
        #expect(Budget.recall(0.6).prefixLength(order: order, probabilities: p, durations: d) == 1)
        #expect(Budget.recall(0.7).prefixLength(order: order, probabilities: p, durations: d) == 2)
        #expect(Budget.time(0.4).prefixLength(order: order, probabilities: p, durations: d) == 2)  // 3 + 1 <= 4
        #expect(Budget.time(0.39).prefixLength(order: order, probabilities: p, durations: d) == 1)
        #expect(Budget.count(9).prefixLength(order: order, probabilities: p, durations: d) == 4)
    }
}

@Suite(.tags(.unit)) struct TestSelectionTests {
    let history = changeHistory(runs: 40)

    func request(_ budget: Budget, since: Int? = 2, infrastructure: Bool = false, extra: [PlannedTest] = [],
                 changed: [String]? = nil) -> TestSelection.Request {
        let last = history.runs.last!
        return TestSelection.Request(candidates: last.plan.tests + extra, changedFiles: changed ?? last.changedFiles,
                                     budget: budget, runsSinceFullRun: since, infrastructureChanged: infrastructure)
    }

    @Test func selectsAPrefixAndKeepsNewAndChangedTests() {
        let newTest = PlannedTest(test: "BrandNew/test", testFile: "Tests/BrandNew.swift")
        let ownChanged = PlannedTest(test: "ReadmeTests/x", testFile: "README.md")
        let r = TestSelection.select(request(.count(3), extra: [newTest, ownChanged]), history: history)
        #expect(!r.full && r.fullReason == nil)
        #expect(r.ordered.count == history.runs.last!.executions.count + 2)
        #expect(r.selected.count + r.notSelected.count == r.ordered.count)
        #expect(r.selected.contains { $0.test == newTest.test })
        #expect(r.selected.contains { $0.test == ownChanged.test })
        let firstThree = Set(r.ordered.prefix(3).map(\.test))
        #expect(r.selected.count == 3 + [newTest, ownChanged].filter { !firstThree.contains($0.test) }.count)
        // The first three of the order are selected; what is left out carries its probability.
        #expect(r.ordered.prefix(3).allSatisfy { $0.selected == true })
        #expect(r.notSelected.allSatisfy { $0.selected == false && $0.probability > 0 && $0.probability < 1 })
        // The selected tests keep the order.
        let positions = r.selected.map { t in r.ordered.firstIndex { $0.test == t.test }! }
        #expect(positions == positions.sorted())
    }

    @Test func everyTenthRunAndInfrastructureChangesRunEverything() {
        let tenth = TestSelection.select(request(.count(1), since: 9), history: history)
        #expect(tenth.full && tenth.notSelected.isEmpty && tenth.fullReason?.contains("every 10") == true)
        let recipe = TestSelection.select(request(.count(1), infrastructure: true), history: history)
        #expect(recipe.full && recipe.fullReason?.contains("recipe") == true)
        let never = TestSelection.select(request(.count(1), since: nil), history: history)
        #expect(never.full)
        #expect(!TestSelection.select(request(.count(1), since: 8), history: history).full)
        #expect(TestSelection.touchesInfrastructure(["src/a.c", "recipe.lock"], recipe: "recipe.toml", lock: "recipe.lock"))
        #expect(!TestSelection.touchesInfrastructure(["src/a.c"], recipe: "recipe.toml", lock: "recipe.lock"))
    }

    @Test func aGivenModelIsUsedAsIs() {
        let model = Replay.walk(history, seed: 5)
        let a = TestSelection.select(request(.count(4)), history: history, model: model)
        let b = TestSelection.select(request(.count(4)), history: history, seed: 5)
        #expect(a == b)
    }

    @Test func selectionReplayOnAChangeSignal() {
        let report = SelectionReplay.evaluate(changeHistory(runs: 60), budget: .recall(0.95), seed: 1)
        let model = report.rows.first { $0.strategy == "model" }!
        #expect(report.runsWithFailures > 0)
        #expect(model.timeShare < 1 && model.timeShare > 0)
        #expect(model.recall > 0.5)
        #expect(model.caught >= model.recall - 1e-12 || model.caught > 0.5)
        // Every row reports the same number of runs; heuristics run at the model's time share.
        let heuristic = report.rows.first { $0.strategy == "changed-modules" }!
        #expect(abs(heuristic.timeShare - model.timeShare) < 0.25)
        // The closed loop runs everything in runs 0, 10, ..., 50 (no full run yet, then
        // every 10th), so its time share counts six whole runs.
        #expect(report.selectingRuns == 60 && report.fullRuns == 6)
        let loop = report.rows.last!
        #expect(loop.strategy == "model-per-second-closed-loop")
        #expect(loop.timeShare >= 6.0 / 60 && loop.timeShare < 1 && loop.caught > 0.5, "\(loop)")
        let everyOther = SelectionReplay.closedLoop(changeHistory(runs: 60), budget: .recall(0.95), seed: 1,
                                                    scoreFrom: 0, groups: .all, fullEvery: 2)
        #expect(everyOther.fullRuns == 30 && everyOther.row.timeShare > loop.timeShare)
    }
}

@Suite(.tags(.unit)) struct ExplainTests {
    @Test func contributionsAddUpToTheProbability() throws {
        let history = changeHistory(runs: 30)
        let run = history.runs[25]
        let test = run.executions[3].test
        let e = try Explainer.explain(history, runID: run.id, test: test)
        let logit = e.bias + e.features.map(\.contribution).reduce(0, +)
        #expect(abs(1 / (1 + exp(-logit)) - e.probability) < 1e-9)
        #expect(e.features.count == FeatureSet.names.count)
        #expect(e.position >= 1 && e.position <= run.executions.count)
        let magnitudes = e.features.map { abs($0.contribution) }
        #expect(magnitudes == magnitudes.sorted(by: >))
        // The same position as the replay's model order.
        var position = 0
        Replay.walk(History(runs: Array(history.runs.prefix(26))), seed: 1) { step in
            guard step.index == 25 else { return }
            var rng = SplitMix64(seed: 0)
            let order = Strategy.model.order(step.input, state: step.state, run: step.run, rng: &rng)
            position = order.firstIndex(of: 3)! + 1
        }
        #expect(e.position == position)
        #expect(throws: ReproError.self) { try Explainer.explain(history, runID: run.id, test: "nope") }
        #expect(throws: ReproError.self) { try Explainer.explain(history, runID: "nope", test: test) }
    }
}
