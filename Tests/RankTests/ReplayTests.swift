import TestKit
import Testing
@testable import Rank

let modules = ["Parser", "Lexer", "Cache", "Store", "Graph"]

/// A small history with change data: test i of module M lives in `Tests/MTests.swift`
/// and tends to fail when `Sources/M.swift` changed; later runs add new tests.
func changeHistory(runs: Int = 30, seed: UInt64 = 3) -> History {
    var rng = SplitMix64(seed: seed)
    func uniform() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }
    var result: [Run] = []
    for r in 0..<runs {
        let changedModule = Int(rng.next() % 5)
        let changed = ["Sources/\(modules[changedModule]).swift", "README.md"]
        let count = 10 + r / 3
        let executions = (0..<count).map { t -> Execution in
            let module = t % 5
            let p = module == changedModule ? 0.6 : 0.05
            return Execution(test: "\(modules[module])Tests/test\(t)", verdict: uniform() < p ? .fail : .pass,
                             duration: 1 + Double(t % 7), testFile: "Tests/\(modules[module])Tests.swift")
        }
        result.append(Run(id: "r\(r)", executions: executions, changedFiles: changed))
    }
    return History(runs: result)
}

/// A history with a signal the heuristics read the wrong way: the odd-numbered tests
/// alternate (a test that failed last run passes now, and vice versa, with 10% noise),
/// the even-numbered ones rarely fail (probability 0.05, independently). Failure rate
/// puts the alternating tests first regardless of phase, and "last failed first" and
/// the decayed counts put exactly the wrong half of them first.
func alternatingHistory(tests: Int = 40, runs: Int = 80, seed: UInt64 = 11) -> History {
    var rng = SplitMix64(seed: seed)
    func uniform() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }
    let phase = (0..<tests).map { _ in Int(rng.next() % 2) }
    return History(runs: (0..<runs).map { r in
        Run(id: "a\(r)", executions: (0..<tests).map { t in
            let fails = t % 2 == 1 ? ((r + phase[t]) % 2 == 0) != (uniform() < 0.1) : uniform() < 0.05
            return Execution(test: "T\(t)", verdict: fails ? .fail : .pass, duration: 1 + Double(t % 5))
        })
    })
}

/// Features and predictions the replay computes for each run.
private func replayed(_ history: History, seed: UInt64 = 1) -> [(FeatureMatrix, [Double], [Double])] {
    var out: [(FeatureMatrix, [Double], [Double])] = []
    Replay.walk(history, seed: seed) { step in
        out.append((step.features, step.input.probabilities, step.input.expectedDurations))
    }
    return out
}

@Suite(.tags(.unit)) struct ReplayTests {
    @Test func replayNeverSeesTheRunItselfOrLaterRuns() {
        let history = changeHistory()
        let k = 17
        let base = replayed(history)

        var tampered = history
        // Flip every verdict and change every duration of run k ...
        tampered.runs[k].executions = tampered.runs[k].executions.map {
            Execution(test: $0.test, verdict: $0.verdict.isFailure ? .pass : .fail,
                      duration: $0.duration * 10 + 3, testFile: $0.testFile)
        }
        // ... and of every later run, and append future runs.
        for r in (k + 1)..<tampered.runs.count {
            tampered.runs[r].executions = tampered.runs[r].executions.map {
                Execution(test: $0.test, verdict: .fail, duration: 99, testFile: $0.testFile)
            }
        }
        tampered.runs += changeHistory(runs: 10, seed: 99).runs.map {
            Run(id: "future-" + $0.id, executions: $0.executions, changedFiles: $0.changedFiles)
        }
        let after = replayed(tampered)
        for r in 0...k {
            #expect(after[r].0 == base[r].0, "features of run \(r) changed")
            #expect(after[r].1 == base[r].1, "predictions of run \(r) changed")
            #expect(after[r].2 == base[r].2, "expected durations of run \(r) changed")
        }
        // Sanity: the tampering is visible from run k + 1 on.
        #expect(after[k + 1].0 != base[k + 1].0)
    }

    @Test func featuresOfAPlanIgnoreVerdictsAndDurations() {
        let history = changeHistory(runs: 12)
        var state = FeatureState()
        for run in history.runs.dropLast() { state.absorb(run) }
        let run = history.runs.last!
        var flipped = run
        flipped.executions = run.executions.map {
            Execution(test: $0.test, verdict: .fail, duration: 1000, testFile: $0.testFile)
        }
        #expect(state.features(for: run.plan) == state.features(for: flipped.plan))
    }

    /// A test's row does not depend on where its plan puts it: the change columns keep
    /// the last test file's facts at hand (`ChangeContext.facts(of:)`), and a plan whose
    /// files interleave (this history's: module = test number % 5) must get the rows a
    /// plan grouped by file gets.
    @Test func aTestsRowDoesNotDependOnThePlansOrder() {
        let history = changeHistory(runs: 20)
        var state = FeatureState()
        for run in history.runs.dropLast() { state.absorb(run) }
        let plan = history.runs.last!.plan
        var grouped = plan
        grouped.tests = plan.tests.enumerated()
            .sorted { ($0.element.testFile ?? "", $0.offset) < ($1.element.testFile ?? "", $1.offset) }
            .map(\.element)
        #expect(grouped.tests.map(\.test) != plan.tests.map(\.test))
        let a = state.features(for: plan), b = state.features(for: grouped)
        let rowOf = Dictionary(uniqueKeysWithValues: grouped.tests.enumerated().map { ($1.test, $0) })
        for (i, test) in plan.tests.enumerated() {
            #expect(Array(a.row(i)) == Array(b.row(rowOf[test.test]!)), "\(test.test)")
        }
        // The change columns are not all zero here, so the comparison covers them.
        #expect((0..<a.count).contains { a.row($0)[a.row($0).startIndex + FeatureSet.pathSimilarity] > 0 })
    }

    @Test func changeFeaturesAreComputed() {
        let history = changeHistory()
        var state = FeatureState()
        for run in history.runs.dropLast() { state.absorb(run) }
        let plan = history.runs.last!.plan
        let features = state.features(for: plan)
        let names = FeatureSet.names
        let co = names.firstIndex(of: "cofailure")!, token = names.firstIndex(of: "path_similarity")!
        let changedModule = plan.changedFiles!.first!.dropFirst("Sources/".count).dropLast(".swift".count)
        var inside: [Double] = [], outside: [Double] = []
        for i in 0..<features.count {
            let row = Array(features.row(i))
            if plan.tests[i].test.hasPrefix(changedModule) {
                #expect(row[token] > 0)
                inside.append(row[co])
            } else {
                #expect(row[token] == 0)
                outside.append(row[co])
            }
        }
        let mean = { (x: [Double]) in x.reduce(0, +) / Double(max(x.count, 1)) }
        #expect(mean(inside) > mean(outside) + 0.2)
    }

    @Test func tokensSkipExtensionsAndStopWords() {
        #expect(ChangeContext.tokenize("Sources/Rank/Model.swift") == ["rank", "model"])
        #expect(ChangeContext.tokenize("RankTests/testModelFile") == ["rank", "model", "file"])
        #expect(ChangeContext.tokenize("a/HTTPServer2Client.py") == ["httpserver2", "client"])
    }

    @Test func deterministicForASeed() {
        let history = changeHistory()
        let a = Replay.evaluate(history, seed: 42)
        let b = Replay.evaluate(history, seed: 42)
        #expect(a == b)
        #expect(Trainer.train(history, seed: 42) == Trainer.train(history, seed: 42))
        let c = Replay.evaluate(history, seed: 43)
        #expect(a.scores.first { $0.strategy == "random" } != c.scores.first { $0.strategy == "random" })
    }

    @Test func modelLearnsTheChangeSignal() {
        let report = Replay.evaluate(changeHistory(runs: 60), seed: 1)
        let score = { (name: String) in report.scores.first { $0.strategy == name }!.apfd }
        #expect(score("model") > score("random") + 0.1)
        #expect(score("optimal") >= score("model"))
        #expect(report.scoredRuns > 0)
    }
    @Test func modelBeatsEveryHeuristicOnAKnownSignal() {
        let report = Replay.evaluate(alternatingHistory(), seed: 1)
        let score = { (name: String) in report.scores.first { $0.strategy == name }!.apfd }
        let heuristics = ["random", "original", "last-failed", "failure-rate", "decayed", "decayed-per-second"]
        let best = heuristics.map(score).max()!
        #expect(score("model") > best + 0.05, "model \(score("model")) vs heuristics \(heuristics.map(score))")
        // The signal misleads last-failed-first into ranking the tests that will pass first.
        #expect(score("last-failed") < 0.5)
        #expect(score("optimal") >= score("model"))
    }

    @Test func scoreFromScoresOnlyLaterRunsWithTheSameOrders() {
        let history = changeHistory(runs: 60)
        let all = Replay.evaluate(history, seed: 4)
        let late = Replay.evaluate(history, seed: 4, scoreFrom: 30)
        let eligible = history.runs.enumerated().filter { i, run in
            i >= 30 && run.executions.count >= 2 && run.failureCount > 0
        }
        #expect(late.scoreFrom == 30 && all.scoreFrom == 0)
        #expect(late.scoredRuns == eligible.count && late.scoredRuns < all.scoredRuns)
        // The optimal order, computed by hand over the same runs.
        let optimal = eligible.map { _, run -> Double in
            let failed = run.executions.map(\.verdict.isFailure)
            return Metrics.apfd(failed.filter { $0 } + failed.filter { !$0 })!
        }.reduce(0, +) / Double(eligible.count)
        let reported = late.scores.first { $0.strategy == "optimal" }!.apfd
        #expect(abs(reported - optimal) < 1e-12)
        // Scoring later runs only does not change what the model learned before them.
        let perRun = { (from: Int) -> [[Double]] in
            var p: [[Double]] = []
            Replay.walk(history, seed: 4) { step in if step.index >= from { p.append(step.input.probabilities) } }
            return p
        }
        #expect(perRun(30) == Array(perRun(0).suffix(30)))
    }

    @Test func hindsightAddsBoundRowsAndLeavesTheOthers() {
        let history = alternatingHistory(runs: 40)
        let plain = Replay.evaluate(history, seed: 2)
        let bound = Replay.evaluate(history, seed: 2, hindsight: true)
        #expect(Array(bound.scores.prefix(plain.scores.count)) == plain.scores)
        #expect(bound.scores.dropFirst(plain.scores.count).map(\.strategy) == Replay.hindsightRows.map(\.strategy))
        #expect(bound.scoredRuns == plain.scoredRuns)
        // Trained on every run, the model knows the signal from the first scored run on.
        let hindsight = bound.scores.first { $0.strategy == "hindsight-model" }!.apfd
        let model = plain.scores.first { $0.strategy == "model" }!.apfd
        #expect(hindsight > model)
    }
}
