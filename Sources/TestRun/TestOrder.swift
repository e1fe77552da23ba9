import Core
import Foundation
import Rank

/// How `repro test` orders the tests it runs (`--order`).
public enum OrderStrategy: Sendable, Equatable, CustomStringConvertible {
    /// As the framework collects them.
    case original
    /// A seeded shuffle; the seed is recorded so the order can be replayed.
    case random(seed: UInt64)
    /// Tests that failed in the recipe's last run first, then by recent failures.
    case failedFirst
    /// `Rank`'s model, trained on the recipe's own telemetry.
    case model

    /// Parses `original`, `random`, `random:SEED`, `failed-first`, `model`.
    /// - Throws: `ReproError(.invalidInput)` naming the accepted forms.
    public static func parse(_ text: String) throws -> OrderStrategy {
        switch text {
        case "original": return .original
        case "failed-first": return .failedFirst
        case "model": return .model
        case "random": return .random(seed: UInt64.random(in: 1...UInt64(Int64.max)))
        default:
            if text.hasPrefix("random:"), let s = UInt64(text.dropFirst(7)) { return .random(seed: s) }
            throw ReproError(.invalidInput, "--order \(text): use original, random, random:SEED (an integer), failed-first or model")
        }
    }

    public var description: String {
        switch self {
        case .original: "original"
        case let .random(seed): "random:\(seed)"
        case .failedFirst: "failed-first"
        case .model: "model"
        }
    }

    var seed: UInt64? { if case let .random(s) = self { s } else { nil } }
}

/// Orders a run's tests by a strategy, using the recipe's history from telemetry.
public struct TestOrderer {
    /// Rank's view of the telemetry: one run per test run; timeouts and crashes are
    /// failures, flaky executions count as failed (a flaky pass is not a clean pass).
    /// Only this compact form is kept (not the telemetry rows), so a long history of a
    /// large suite costs one copy in memory.
    public let rankHistory: History
    /// Where `model` keeps the recipe's model file between runs.
    public var modelPath: String

    public init(history: [(TestRunRow, [TestExecutionRow])], modelPath: String) {
        self.modelPath = modelPath
        rankHistory = History(runs: history.map { run, execs in
            Run(id: String(run.id ?? 0), executions: execs.map { e in
                let v = Verdict(rawValue: e.historyVerdict) ?? .fail
                return Execution(test: e.test, verdict: v, duration: max(e.wallMs, 0.001) / 1000, testFile: e.file)
            }, changedFiles: run.changedFiles)
        })
    }

    /// The tests in the order to run them.
    public func order(_ tests: [TestCase], strategy: OrderStrategy, changedFiles: [String]?) throws -> [TestCase] {
        switch strategy {
        case .original:
            return tests
        case let .random(seed):
            var rng = SplitMix64(seed: seed)
            return tests.shuffled(using: &rng)
        case .failedFirst:
            var score: [String: Double] = [:]
            let runs = rankHistory.runs
            for (i, run) in runs.enumerated() {
                let weight = pow(0.8, Double(runs.count - 1 - i))
                for e in run.executions where e.verdict.isFailure { score[e.test, default: 0] += weight }
            }
            let last = Set(runs.last?.executions.filter(\.verdict.isFailure).map(\.test) ?? [])
            return tests.enumerated().sorted { a, b in
                let la = last.contains(a.element.id), lb = last.contains(b.element.id)
                if la != lb { return la }
                let sa = score[a.element.id] ?? 0, sb = score[b.element.id] ?? 0
                if sa != sb { return sa > sb }
                return a.offset < b.offset
            }.map(\.element)
        case .model:
            let file = try model()
            let h = rankHistory
            let (state, _) = try Ranker.prepare(h, runID: nil)
            let plan = RunPlan(id: "next", tests: tests.map { PlannedTest(test: $0.id, testFile: $0.file) },
                               changedFiles: changedFiles)
            let ranked = Ranker.rank(plan, state: state, model: file.model, costAware: false, recall: nil)
            let byID = Dictionary(tests.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            return ranked.tests.compactMap { byID[$0.test] }
        }
    }

    /// The recipe's model, continued on the runs it has not seen (or trained anew when
    /// the history no longer extends what it saw), and saved for the next run.
    public func model() throws -> ModelFile {
        let h = rankHistory
        var file: ModelFile
        if FileManager.default.fileExists(atPath: modelPath),
           let saved = try? ModelFile.load(path: modelPath),
           let resumed = try? Trainer.resume(saved, on: h, path: modelPath) {
            file = resumed
        } else {
            file = Trainer.train(h, seed: 1)
        }
        try FileManager.default.createDirectory(atPath: (modelPath as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try file.write(to: modelPath + ".tmp")
        _ = rename(modelPath + ".tmp", modelPath)
        return file
    }
}
