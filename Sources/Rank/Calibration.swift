/// What a `recall:R` selection learns from earlier runs (issue 16, second round;
/// docs/ranking.md "Selection at a budget").
///
/// The model's probabilities are not calibrated: on boltons the tests without change
/// evidence (tier 0) got 13 times more predicted failures than they had, the tests with
/// it (tier 1) a third. Summing such probabilities to 95% reaches far into hundreds of
/// unrelated tests. Two things fix that, both learned only from earlier runs:
///
/// 1. Per tier, the predicted probabilities are scaled by (failures + 1) / (predicted
///    failures + 1) of the earlier runs' executions of that tier (the predictions each run
///    got before it ran).
/// 2. `recall:R` selects every test whose calibrated score (probability, or probability
///    per expected second for a cost-aware order) reaches a threshold: the largest one
///    that would have selected R of the earlier runs' failing tests, each run weighted
///    equally (a run with 24 failures counts as much as a run with one). This is how a
///    recall target over runs is kept (Meta's predictive test selection picks its cut-off
///    from historical data the same way), and a run without anything tied to its change
///    then selects only what looks as risky as what failed before, not 95% of a small
///    probability mass.
///
/// Updated by `Learner` for every run it trains on, before the model learns from it, and
/// saved with the model. Without an earlier failure there is no threshold and the
/// selection falls back to summing probabilities (`Budget.prefixLength`).
public struct SelectionCalibration: Codable, Sendable, Equatable {
    /// Failing tests of earlier runs remembered for the threshold (the newest); a round
    /// number fixed in advance.
    static let remembered = 2000

    /// Per tier (index 0 and 1): failures seen and predicted probabilities summed.
    public private(set) var failures: [Double] = [0, 0]
    public private(set) var predicted: [Double] = [0, 0]
    /// For each remembered failing test of an earlier run: its calibrated probability,
    /// that per expected second, and its weight (1 / failing tests of its run).
    public private(set) var failingProbabilities: [Double] = []
    public private(set) var failingRates: [Double] = []
    public private(set) var failingWeights: [Double] = []

    public init() {}

    /// The calibrated probability of a test of `tier` predicted `p`.
    public func calibrated(_ p: Double, tier: Double) -> Double {
        let t = tier > 0 ? 1 : 0
        return p * (failures[t] + 1) / (predicted[t] + 1)
    }

    /// Learns from one finished run: the probabilities, tiers and expected durations it
    /// was ranked with (before it ran), and its verdicts.
    /// A run a selection cut short (`complete` false) still scales the tiers (among the
    /// tests that ran, failures against predictions), but its failing tests do not enter
    /// the threshold: they are the ones the model found risky already, and learning from
    /// them alone would raise the threshold run after run.
    mutating func absorb(probabilities p: [Double], tiers: [Double], durations: [Double], failed: [Bool],
                         complete: Bool = true) {
        let failing = failed.reduce(0) { $0 + ($1 ? 1 : 0) }
        if failing > 0 && complete {
            let weight = 1 / Double(failing)
            for i in p.indices where failed[i] {
                let q = calibrated(p[i], tier: tiers[i])
                failingProbabilities.append(q)
                failingRates.append(q / durations[i])
                failingWeights.append(weight)
            }
            let excess = failingWeights.count - Self.remembered
            if excess > 0 {
                failingProbabilities.removeFirst(excess)
                failingRates.removeFirst(excess)
                failingWeights.removeFirst(excess)
            }
        }
        for i in p.indices {
            let t = tiers[i] > 0 ? 1 : 0
            predicted[t] += p[i]
            if failed[i] { failures[t] += 1 }
        }
    }

    /// The largest score that would have kept `recall` of the remembered failing tests'
    /// weight (scores per second when `perSecond`); nil before any failure.
    public func threshold(recall: Double, perSecond: Bool) -> Double? {
        let scores = perSecond ? failingRates : failingProbabilities
        guard !scores.isEmpty else { return nil }
        let total = failingWeights.reduce(0, +)
        let order = scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] < scores[$1] : $0 < $1 }
        var dropped = 0.0
        for i in order {
            if dropped + failingWeights[i] > (1 - recall) * total + 1e-12 { return scores[i] }
            dropped += failingWeights[i]
        }
        return scores[order[order.count - 1]]
    }

    /// Which of `scores` (calibrated already) a `recall` selection keeps; nil without a
    /// threshold.
    public func keeps(_ scores: [Double], recall: Double, perSecond: Bool) -> [Bool]? {
        guard let t = threshold(recall: recall, perSecond: perSecond) else { return nil }
        return scores.map { $0 >= t }
    }
}
