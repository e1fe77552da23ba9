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

/// Features and predictions the replay computes for each run.
private func replayed(_ history: History, seed: UInt64 = 1) -> [(FeatureMatrix, [Double], [Double])] {
    var out: [(FeatureMatrix, [Double], [Double])] = []
    Replay.walk(history, seed: seed) { step in
        out.append((step.features, step.input.probabilities, step.input.expectedDurations))
    }
    return out
}

@Suite struct ReplayTests {
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

    @Test func changeFeaturesAreComputed() {
        let history = changeHistory()
        var state = FeatureState()
        for run in history.runs.dropLast() { state.absorb(run) }
        let plan = history.runs.last!.plan
        let features = state.features(for: plan)
        let names = FeatureSet.names
        let co = names.firstIndex(of: "cofailure")!, token = names.firstIndex(of: "token_overlap")!
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
}
