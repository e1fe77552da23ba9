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

/// Orders a run's tests by a strategy, with what the recipe's history taught: the
/// model and feature state (`Learner`) and the failed-first scores. Built by streaming
/// the history from telemetry run by run, so memory is one run plus per-test state
/// however long the history grows; the recipe's model file is resumed, so only runs it
/// has not seen train it.
public struct TestOrderer {
    public private(set) var learner: Learner
    /// The model's seed (kept in the model file).
    public private(set) var seed: UInt64 = 1
    /// Where the recipe's model file is kept between runs.
    public let modelPath: String
    /// failed-first: per test, failures decayed by 0.8 per run, as of run `last`.
    private var failureScore: [String: (score: Double, last: Int)] = [:]
    private var lastFailures: Set<String> = []

    /// Runs learned from.
    public var runs: Int { learner.runs }

    /// An orderer that knows no history.
    public init(modelPath: String) {
        self.modelPath = modelPath
        learner = Learner(seed: 1)
    }

    /// Streams the recipe's finished runs from telemetry into the saved model (or a new
    /// one when there is none, or it does not match the history: trained on runs since
    /// removed or changed), and saves the model when it learned something.
    public static func load(telemetry: Telemetry, recipe: String, modelPath: String,
                            imports: ImportGraphCache? = nil) throws -> TestOrderer {
        let saved = FileManager.default.fileExists(atPath: modelPath) ? try? ModelFile.load(path: modelPath) : nil
        if let saved {
            var orderer = TestOrderer(modelPath: modelPath, resuming: saved)
            var matches = saved.trainedRuns == 0 ? saved.trainedExecutions == 0 : true
            try telemetry.forEachHistoryRun(recipe: recipe, imports: imports) { run in
                orderer.feed(run)
                if orderer.runs == saved.model.runs { matches = matches && orderer.learner.executions == saved.trainedExecutions }
            }
            if matches && orderer.runs >= saved.model.runs {
                if orderer.learner.model.runs > saved.model.runs { try orderer.saveModel() }
                return orderer
            }
        }
        var orderer = TestOrderer(modelPath: modelPath)
        try telemetry.forEachHistoryRun(recipe: recipe, imports: imports) { orderer.feed($0) }
        if orderer.runs > 0 { try orderer.saveModel() }
        return orderer
    }

    private init(modelPath: String, resuming file: ModelFile) {
        self.modelPath = modelPath
        learner = Learner(model: file.model)
        seed = file.seed
    }

    /// Learns from the next finished run of the recipe.
    public mutating func feed(_ run: Run) {
        let index = learner.runs
        var failed = Set<String>()
        for e in run.executions where e.verdict.isFailure && failed.insert(e.test).inserted {
            let old = failureScore[e.test]
            failureScore[e.test] = ((old.map { $0.score * pow(0.8, Double(index - $0.last)) } ?? 0) + 1, index)
        }
        lastFailures = failed
        learner.feed(run)
    }

    /// The model file as of the runs learned from.
    public var modelFile: ModelFile {
        ModelFile(model: learner.model, seed: seed, runs: learner.runs, executions: learner.executions)
    }

    /// Writes the model file (whole, through a temporary file and a rename).
    public func saveModel() throws {
        try FileManager.default.createDirectory(atPath: (modelPath as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        let tmp = modelPath + ".tmp.\(getpid())"
        try modelFile.write(to: tmp)
        guard rename(tmp, modelPath) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(tmp)
            throw ReproError(.system, "cannot save the model file \(modelPath): \(reason)")
        }
    }

    /// The tests in the order to run them.
    public func order(_ tests: [TestCase], strategy: OrderStrategy, changedFiles: [String]?,
                      imports: ImportGraph? = nil) -> [TestCase] {
        switch strategy {
        case .original:
            return tests
        case let .random(seed):
            var rng = SplitMix64(seed: seed)
            return tests.shuffled(using: &rng)
        case .failedFirst:
            let now = learner.runs - 1
            let score = failureScore.mapValues { $0.score * pow(0.8, Double(now - $0.last)) }
            return tests.enumerated().sorted { a, b in
                let la = lastFailures.contains(a.element.id), lb = lastFailures.contains(b.element.id)
                if la != lb { return la }
                let sa = score[a.element.id] ?? 0, sb = score[b.element.id] ?? 0
                if sa != sb { return sa > sb }
                return a.offset < b.offset
            }.map(\.element)
        case .model:
            let plan = RunPlan(id: "next", tests: tests.map { PlannedTest(test: $0.id, testFile: $0.file) },
                               changedFiles: changedFiles, imports: imports)
            let ranked = Ranker.rank(plan, state: learner.state, model: learner.model, costAware: false, recall: nil)
            let byID = Dictionary(tests.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            return ranked.tests.compactMap { byID[$0.test] }
        }
    }
}
