// Selecting the tests of one run under a budget: the API `repro test --select` calls.
//
//     let budget = try Budget.parse("recall:0.95")          // or "time:30%", "count:200"
//     let plan = TestSelection.Request(
//         candidates: [PlannedTest(test: "tests/test_x.py::test_a", testFile: "tests/test_x.py"), ...],
//         changedFiles: ["pkg/x.py"],                       // nil: unknown (no change data)
//         budget: budget,
//         runsSinceFullRun: 3,                              // from telemetry; nil: never ran fully
//         infrastructureChanged: false)                     // recipe, lock or toolchain changed
//     let result = try TestSelection.select(plan, history: history, model: savedModel)
//     result.ordered        // every candidate, best first, with its probability
//     result.selected       // the prefix to run (in run order), forced tests included
//     result.notSelected    // the rest: record each as `not-selected` with `probability`
//     result.full           // true when everything runs (and `fullReason` says why)
//
// `history` is the recipe's own telemetry as a `History` (runs in time order, each with
// its executions and changed files). `model` is the model trained on that history
// (`Trainer.train` or `ModelFile.load`); without one, a model is trained on `history`
// first (deterministic for `seed`). New tests and tests whose own file is among the
// changed files are always selected. Every `fullEvery`-th run (default 10) and every run
// whose change touches the recipe, the lock or the toolchain runs everything, so the
// model keeps learning about tests it would leave out.
import Core
import Foundation

/// How much of a run to select.
public enum Budget: Sendable, Equatable, CustomStringConvertible {
    /// The smallest prefix whose summed failure probability reaches this share of the total.
    case recall(Double)
    /// The longest prefix whose expected duration fits in this share of the total.
    case time(Double)
    /// The first N tests.
    case count(Int)

    /// Parses `recall:0.95`, `time:30%` (or `time:0.3`) and `count:N`.
    /// - Throws: `ReproError(.invalidInput)` saying which forms are accepted.
    public static func parse(_ text: String) throws -> Budget {
        let parts = text.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        func bad() -> ReproError {
            ReproError(.invalidInput, "budget `\(text)`: use recall:R with 0 < R <= 1 (e.g. recall:0.95), time:P% with 0 < P <= 100 (e.g. time:30%), or count:N with N >= 1")
        }
        guard parts.count == 2 else { throw bad() }
        switch parts[0] {
        case "recall":
            guard let r = Double(parts[1]), r > 0, r <= 1 else { throw bad() }
            return .recall(r)
        case "time":
            let percent = parts[1].hasSuffix("%")
            guard let v = Double(percent ? String(parts[1].dropLast()) : parts[1]) else { throw bad() }
            let share = percent ? v / 100 : v
            guard share > 0, share <= 1 else { throw bad() }
            return .time(share)
        case "count":
            guard let n = Int(parts[1]), n >= 1 else { throw bad() }
            return .count(n)
        default:
            throw bad()
        }
    }

    public var description: String {
        switch self {
        case .recall(let r): "recall:\(r)"
        case .time(let t): "time:\(t * 100)%"
        case .count(let n): "count:\(n)"
        }
    }

    /// The chosen prefix length of `order` (before forced tests are added).
    func prefixLength(order: [Int], probabilities: [Double], durations: [Double]) -> Int {
        switch self {
        case .recall(let recall):
            let total = probabilities.reduce(0, +)
            guard total > 0 else { return 0 }
            var sum = 0.0
            for (k, i) in order.enumerated() {
                sum += probabilities[i]
                if sum >= recall * total * (1 - 1e-12) { return k + 1 }
            }
            return order.count
        case .time(let share):
            let limit = share * durations.reduce(0, +)
            var spent = 0.0
            for (k, i) in order.enumerated() {
                spent += durations[i]
                if spent > limit * (1 + 1e-12) { return k }
            }
            return order.count
        case .count(let n):
            return min(n, order.count)
        }
    }
}

public enum TestSelection {
    /// One run to select for.
    public struct Request: Sendable {
        public var candidates: [PlannedTest]
        public var changedFiles: [String]?
        public var budget: Budget
        /// Runs since the last run that ran everything; nil if none did.
        public var runsSinceFullRun: Int?
        /// The change touches the recipe, its lock or the toolchain.
        public var infrastructureChanged: Bool
        /// Run everything every this many runs.
        public var fullEvery: Int
        /// Order by probability per expected second (the default: at recall:0.95 it
        /// selected 22.7% of boltons' test time against 78.7% by probability alone).
        public var costAware: Bool
        /// The tested tree's import graph, when known (`ImportGraph`).
        public var imports: ImportGraph?

        public init(candidates: [PlannedTest], changedFiles: [String]?, budget: Budget,
                    runsSinceFullRun: Int?, infrastructureChanged: Bool = false,
                    fullEvery: Int = 10, costAware: Bool = true) {
            self.candidates = candidates
            self.changedFiles = changedFiles
            self.budget = budget
            self.runsSinceFullRun = runsSinceFullRun
            self.infrastructureChanged = infrastructureChanged
            self.fullEvery = fullEvery
            self.costAware = costAware
        }
    }

    public struct Result: Sendable, Equatable {
        /// Every candidate, best first.
        public var ordered: [RankedTest]
        /// What runs, in `ordered` order.
        public var selected: [RankedTest]
        /// What does not run, each with its predicted failure probability.
        public var notSelected: [RankedTest]
        public var full: Bool
        /// Why everything runs (`nil` when a subset was selected).
        public var fullReason: String?
    }

    /// Why this run must run everything, if it must.
    public static func fullRunReason(_ request: Request) -> String? {
        if request.infrastructureChanged { return "the recipe, lock or toolchain changed" }
        guard let since = request.runsSinceFullRun else { return "no earlier run ran every test" }
        if request.fullEvery > 0 && since + 1 >= request.fullEvery {
            return "every \(request.fullEvery)th run runs every test (--full-every)"
        }
        return nil
    }

    /// True if a changed file is the recipe, the lock or names the toolchain; a helper
    /// for callers that compute `infrastructureChanged`.
    public static func touchesInfrastructure(_ changed: [String], recipe: String, lock: String) -> Bool {
        changed.contains { $0 == recipe || $0 == lock || $0.hasPrefix("toolchain") || $0.contains("/toolchain") }
    }

    /// Orders the candidates with `model` (trained on `history` when nil) and selects
    /// a prefix under the budget, plus the forced tests.
    public static func select(_ request: Request, history: History, model: LogisticModel? = nil,
                              seed: UInt64 = 1) -> Result {
        var state = FeatureState()
        for run in history.runs { state.absorb(run) }
        return select(request, state: state, model: model ?? Replay.walk(history, seed: seed))
    }

    /// `select(_:history:model:seed:)` with the state after the history (a `Learner`'s).
    public static func select(_ request: Request, state: FeatureState, model: LogisticModel) -> Result {
        let plan = RunPlan(id: "selection", tests: request.candidates, changedFiles: request.changedFiles,
                           imports: request.imports)
        let reason = fullRunReason(request)
        var recall: Double?
        if reason == nil, case .recall(let r) = request.budget { recall = r }
        let ranked = Ranker.rank(plan, state: state, model: model, costAware: request.costAware, recall: recall)
        var keep: [Bool]
        if reason != nil {
            keep = [Bool](repeating: true, count: ranked.tests.count)
        } else if recall != nil {
            // The calibrated threshold learned from earlier runs (`Ranker.select`).
            keep = ranked.tests.map { $0.selected == true }
        } else {
            let order = Array(ranked.tests.indices)
            let n = request.budget.prefixLength(order: order, probabilities: ranked.tests.map(\.probability),
                                                durations: ranked.tests.map(\.expectedDuration))
            keep = ranked.tests.indices.map { $0 < n || ranked.tests[$0].mustRun }
        }
        var tests = ranked.tests
        for i in tests.indices { tests[i].selected = keep[i] }
        return Result(ordered: tests, selected: tests.filter { $0.selected == true },
                      notSelected: tests.filter { $0.selected != true }, full: reason != nil, fullReason: reason)
    }
}
