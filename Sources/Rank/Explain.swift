import Core

/// Why a test sits where it does in a run's order: its features, each feature's
/// contribution to the log-odds, and the change-evidence tier.
public struct Explanation: Codable, Sendable, Equatable {
    public struct Feature: Codable, Sendable, Equatable {
        public var name: String
        public var value: Double
        /// Weight × standardized value, in log-odds.
        public var contribution: Double
    }
    public var run: String
    public var test: String
    /// 1-based position in the model's order (probability, within the tier).
    public var position: Int
    public var tests: Int
    public var probability: Double
    /// 1 when the test has strong change evidence (ranked in the first tier), 0.5 when
    /// it is tied only to a file changed since the last run without failures
    /// (`ChangeEvidence.carriedTier`), else 0.
    public var tier: Double
    public var bias: Double
    /// Every feature, largest absolute contribution first.
    public var features: [Feature]
}

public enum Explainer {
    /// Explains `test` in run `runID` of `history`. The model is `model` if given, else
    /// one trained on the runs before `runID` (what the replay would have used).
    /// - Throws: `ReproError(.invalidInput)` if the run or the test is not there.
    public static func explain(_ history: History, runID: String, test: String,
                               model: LogisticModel? = nil, seed: UInt64 = 1) throws -> Explanation {
        let (state, plan) = try Ranker.prepare(history, runID: runID)
        guard let index = plan.tests.firstIndex(where: { $0.test == test }) else {
            throw ReproError(.invalidInput, "test `\(test)` is not in run `\(runID)`; pass a test id of that run (`repro rank order --run \(runID)` lists them)")
        }
        let model = model ?? Replay.walk(History(runs: Array(history.runs.prefix(history.index(ofRun: runID)!))), seed: seed)
        let features = state.features(for: plan)
        let p = model.probabilities(features)
        let tiers = ChangeEvidence.tiers(features)
        let evidence = ChangeEvidence.evidence(for: plan) { state.tests[$0]?.idTokens }
        let order = ChangeEvidence.order(p, tiers: tiers, strength: ChangeEvidence.strength(
            costAware: false, related: evidence.related, spread: evidence.spread, coFailure: ChangeEvidence.coFailures(features),
            imports: ChangeEvidence.importCloseness(features)))
        let row = features.row(index)
        let contributions = model.contributions(row)
        let list = zip(FeatureSet.names, zip(row, contributions)).map {
            Explanation.Feature(name: $0.0, value: $0.1.0, contribution: $0.1.1)
        }.sorted { abs($0.contribution) > abs($1.contribution) }
        return Explanation(run: runID, test: test, position: order.firstIndex(of: index)! + 1, tests: plan.tests.count,
                           probability: p[index], tier: tiers[index], bias: model.averageBias, features: list)
    }
}
