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
    @Option var runs = 200
    @Option var repeats = 5

    func run() throws {
        let clock = ContinuousClock()
        func median(_ body: () -> Void) -> Double {
            let times = (0..<repeats).map { _ in
                let d = clock.measure(body)
                return Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
            }.sorted()
            return times[times.count / 2]
        }
        var model = LogisticModel(features: FeatureSet.names.count, seed: 1)
        if let replay {
            let history = try HistoryImporter.load(path: replay, format: .retecs)
            let train = median { model = Trainer.train(history, seed: 1).model }
            let anchor = median {
                var state = FeatureState()
                for run in history.runs {
                    _ = descendingOrder(run.plan.tests.map { state.tests[$0.test]?.failureRate ?? 0 })
                    state.absorb(run)
                }
            }
            print("train on \(replay) (\(history.runs.count) runs, \(history.executionCount) executions): \(fixed(train, 1)) ms; anchor (failure-rate replay, no model): \(fixed(anchor, 1)) ms; target <= 10000 ms")
        }
        let synthetic = SyntheticHistory.generate(tests: tests, runs: runs + 1, seed: 7)
        var state = FeatureState()
        let build = clock.measure { for run in synthetic.runs.dropLast() { state.absorb(run) } }
        let plan = synthetic.runs.last!.plan
        let rank = median { _ = Ranker.rank(plan, state: state, model: model, costAware: false, recall: 0.95) }
        let anchor = median { _ = descendingOrder(plan.tests.map { state.tests[$0.test]?.failureRate ?? 0 }) }
        print("rank \(tests) tests with \(runs) runs of history: \(fixed(rank, 1)) ms (features, model, order, selection); anchor (failure-rate order): \(fixed(anchor, 1)) ms; target <= 50 ms")
        print("(building the \(runs)-run history state: \(fixed(Double(build.components.seconds) * 1000 + Double(build.components.attoseconds) / 1e15, 0)) ms, once)")
    }
}

func fixed(_ x: Double, _ digits: Int = 3) -> String { String(format: "%.\(digits)f", x) }
