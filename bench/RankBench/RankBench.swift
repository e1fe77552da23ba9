import ArgumentParser
import Foundation
import Rank

/// `rank-bench`: the timings bench/rank.sh prints (not part of the shipped CLI).
@main
struct RankBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rank-bench", abstract: "Time ranking and training (used by bench/rank.sh).")

    @Option(help: "RETECS history to time training on.")
    var replay: String?
    @Option var tests = 10_000
    @Option var runs = 500
    @Option var repeats = 5
    @Flag(help: "Synthetic history without changed files (the issue 6 setting).")
    var withoutChanges = false

    func run() throws {
        let clock = ContinuousClock()
        func ms(_ d: Duration) -> Double { Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15 }
        func median(_ body: () -> Void) -> Double {
            let times = (0..<repeats).map { _ in ms(clock.measure(body)) }.sorted()
            return times[times.count / 2]
        }
        func ratio(_ a: Double, _ b: Double) -> String { b > 0 ? fixed(a / b, 1) + "x" : "-" }
        if let replay {
            let history = try HistoryImporter.load(path: replay, format: .retecs)
            let train = median { _ = Trainer.train(history, seed: 1) }
            let anchor = median {
                var state = FeatureState()
                for run in history.runs {
                    _ = descendingOrder(run.plan.tests.map { state.tests[$0.test]?.failureRate ?? 0 })
                    state.absorb(run)
                }
            }
            print("train on \(replay) (\(history.runs.count) runs, \(history.executionCount) executions): \(fixed(train, 1)) ms; anchor (failure-rate replay, no model): \(fixed(anchor, 1)) ms; ratio \(ratio(train, anchor)); target <= 10000 ms")
        }
        // Synthetic history with change data, so the change features are computed too.
        // With change data it also carries an import graph (the imports column and tier).
        let generated = SyntheticHistory.generate(tests: tests, runs: runs + 1, seed: 7, changes: !withoutChanges)
        let synthetic = withoutChanges ? generated : generated.with(imports: SyntheticHistory.imports(tests: tests))
        var state = FeatureState()
        var model = LogisticModel(features: FeatureSet.names.count, seed: 1)
        let build = clock.measure {
            // Learn from the last 20 runs only: the weights matter for timing, not quality.
            for (i, run) in synthetic.runs.dropLast().enumerated() {
                if i >= runs - 20 { model.train(state.features(for: run.plan), failed: run.executions.map(\.verdict.isFailure)) }
                state.absorb(run)
            }
        }
        let last = synthetic.runs.last!
        let plan = last.plan
        let rank = median { _ = Ranker.rank(plan, state: state, model: model, costAware: false, recall: 0.95) }
        let anchor = median { _ = descendingOrder(plan.tests.map { state.tests[$0.test]?.failureRate ?? 0 }) }
        print("rank \(tests) tests with \(runs) runs of history (\(plan.changedFiles?.count ?? 0) changed files): \(fixed(rank, 1)) ms (features, model, order, selection); anchor (failure-rate order): \(fixed(anchor, 1)) ms; ratio \(ratio(rank, anchor)); target <= 50 ms")
        // Model update after a run, as `Learner.feed` does it: the run's predictions, tiers
        // and expected durations into the selection calibration, train on it, absorb it
        // into the feature state (its features were computed for ranking already).
        let features = state.features(for: plan)
        let failed = last.executions.map(\.verdict.isFailure)
        let update = median {
            var s = state
            var m = model
            m.calibrate(probabilities: m.probabilities(features), tiers: ChangeEvidence.tiers(features),
                        durations: s.expectedDurations(for: plan), failed: failed)
            m.train(features, failed: failed)
            s.absorb(last)
        }
        let absorbOnly = median {
            var s = state
            s.absorb(last)
        }
        print("model update after a run of \(tests) tests: \(fixed(update, 1)) ms (calibrate + train on the run + absorb it); anchor (absorb only, what the failure-rate heuristic needs): \(fixed(absorbOnly, 1)) ms; ratio \(ratio(update, absorbOnly)); target <= 100 ms")
        print("(building the \(runs)-run history state: \(fixed(ms(build), 0)) ms, once)")
    }
}

func fixed(_ x: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", x) }
