/// The orders the replay compares. All but `optimal` use only what was known before
/// the run; `optimal` reads the verdicts and is the ceiling.
public enum Strategy: String, CaseIterable, Sendable, Codable {
    case random
    case original
    case lastFailed = "last-failed"
    case failureRate = "failure-rate"
    case decayed
    case decayedPerSecond = "decayed-per-second"
    case changedModules = "changed-modules"
    case changedModulesPerSecond = "changed-modules-per-second"
    case importMatch = "import-match"
    case model
    case modelPerSecond = "model-per-second"
    case optimal

    public var title: String {
        switch self {
        case .random: "random (seeded)"
        case .original: "original order"
        case .lastFailed: "last verdict failed first"
        case .failureRate: "failure rate"
        case .decayed: "decayed failures (0.8)"
        case .decayedPerSecond: "decayed failures / second"
        case .changedModules: "name match: tests of changed modules first, then decayed failures"
        case .changedModulesPerSecond: "name match, per expected second"
        case .importMatch: "import match: name match, then tests whose file imports a changed file (closest first)"
        case .model: "model"
        case .modelPerSecond: "model, cost-aware (p / second)"
        case .optimal: "optimal (knows the verdicts)"
        }
    }
}

/// Indices sorted by descending score; ties keep the original order.
public func descendingOrder(_ scores: [Double]) -> [Int] {
    Array(0..<scores.count).sorted { a, b in
        scores[a] != scores[b] ? scores[a] > scores[b] : a < b
    }
}

/// What the strategies need to order one planned run.
public struct RankingInput: Sendable {
    public var plan: RunPlan
    public var probabilities: [Double]
    public var expectedDurations: [Double]
    /// How closely each test is tied to the changed files by name (`FeatureState.relatedness`);
    /// all 0 without change data.
    public var related: [Double]
    /// 1 for a test with strong change evidence (`ChangeEvidence.tier`), else 0; all 0
    /// without change data.
    public var tiers: [Double]
    /// The change's risk spread over the tests tied to it (`ChangeEvidence.evidence`);
    /// all 0 without change data.
    public var spread: [Double]
    /// The `cofailure` column; all 0 without change data.
    public var coFailure: [Double]
    /// `related` as the model's order uses it: all 0 when the model's feature groups
    /// leave out path similarity (`ChangeEvidence.evidence`).
    public var modelRelated: [Double]
    /// The `imports_changed_file` column: 1 / import steps to a changed file; all 0
    /// without an import graph.
    public var imports: [Double]
    public init(plan: RunPlan, probabilities: [Double], expectedDurations: [Double], related: [Double]? = nil,
                tiers: [Double]? = nil, spread: [Double]? = nil, coFailure: [Double]? = nil,
                modelRelated: [Double]? = nil, imports: [Double]? = nil) {
        self.plan = plan
        self.probabilities = probabilities
        self.expectedDurations = expectedDurations
        self.related = related ?? [Double](repeating: 0, count: plan.tests.count)
        self.tiers = tiers ?? [Double](repeating: 0, count: plan.tests.count)
        self.spread = spread ?? [Double](repeating: 0, count: plan.tests.count)
        self.coFailure = coFailure ?? [Double](repeating: 0, count: plan.tests.count)
        self.modelRelated = modelRelated ?? self.related
        self.imports = imports ?? [Double](repeating: 0, count: plan.tests.count)
    }
}

extension Strategy {
    /// The order (indices into the plan) this strategy gives. `run` is only read by
    /// `optimal`; `rng` only by `random`.
    public func order(_ input: RankingInput, state: FeatureState, run: Run,
                      rng: inout SplitMix64) -> [Int] {
        let tests = input.plan.tests.map { state.tests[$0.test] }
        switch self {
        case .random:
            var order = Array(0..<tests.count)
            order.shuffle(using: &rng)
            return order
        case .original:
            return Array(0..<tests.count)
        case .lastFailed:
            return descendingOrder(tests.map { ($0?.lastFailed ?? false) ? 1 : 0 })
        case .failureRate:
            return descendingOrder(tests.map { $0?.failureRate ?? 0 })
        case .decayed:
            return descendingOrder(tests.map { $0?.decayed08 ?? 0 })
        case .decayedPerSecond:
            return descendingOrder(zip(tests, input.expectedDurations).map { ($0?.decayed08 ?? 0) / $1 })
        case .changedModules:
            // Related first (by how related), ties by decayed failures: a key that sorts
            // by the first term and breaks ties by the second.
            return descendingOrder(zip(input.related, tests).map { r, t in
                r * 1e6 + min(t?.decayed08 ?? 0, 1e5)
            })
        case .changedModulesPerSecond:
            return descendingOrder(zip(zip(input.related, tests), input.expectedDurations).map { rt, d in
                (rt.0 + 1e-3 * (rt.1?.decayed08 ?? 0) / (1 + (rt.1?.decayed08 ?? 0))) / d
            })
        case .importMatch:
            // By name first, then by import closeness, ties by decayed failures (each key
            // bounded below the step of the one before it).
            return descendingOrder(zip(zip(input.related, input.imports), tests).map { ri, t in
                ri.0 * 1e6 + ri.1 * 1e3 + min(t?.decayed08 ?? 0, 999)
            })
        case .model:
            return ChangeEvidence.order(input.probabilities, tiers: input.tiers, strength: ChangeEvidence.strength(
                costAware: false, related: input.modelRelated, spread: input.spread, coFailure: input.coFailure,
                imports: input.imports))
        case .modelPerSecond:
            return ChangeEvidence.order(zip(input.probabilities, input.expectedDurations).map { $0 / $1 },
                                        tiers: input.tiers, strength: ChangeEvidence.strength(
                costAware: true, related: input.modelRelated, spread: input.spread, coFailure: input.coFailure))
        case .optimal:
            // Failing tests first, shortest first: optimal for APFD and APFDc alike.
            let e = run.executions
            return Array(0..<e.count).sorted { a, b in
                let fa = e[a].verdict.isFailure, fb = e[b].verdict.isFailure
                if fa != fb { return fa }
                return e[a].duration != e[b].duration ? e[a].duration < e[b].duration : a < b
            }
        }
    }
}
