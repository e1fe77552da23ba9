import Foundation

/// Fixed training settings. Chosen once as defaults any project could use; they are not
/// tuned on the replayed history (docs/ranking.md).
public struct Hyperparameters: Codable, Sendable, Equatable {
    /// AdaGrad base step size.
    public var learningRate = 0.1
    /// L2 penalty per example.
    public var l2 = 1e-4
    /// Passes over each new run's executions when it is absorbed.
    public var epochsPerRun = 2
    public init() {}
}

/// Logistic regression on standardized features, trained online with AdaGrad: each
/// finished run updates the running feature means and variances, then takes
/// `epochsPerRun` shuffled passes over that run's executions. Predictions use the
/// Polyak-Ruppert average of all weight iterates, which makes the result insensitive to
/// the step size (docs/ranking.md shows the sweep). Deterministic for a seed.
public struct LogisticModel: Codable, Sendable, Equatable {
    public private(set) var weights: [Double]
    public private(set) var bias = 0.0
    /// Running mean and sum of squared deviations (Welford) of each feature.
    public private(set) var featureMean: [Double]
    public private(set) var featureM2: [Double]
    /// Executions seen by the standardizer.
    public private(set) var examples = 0
    public private(set) var runs = 0
    /// Polyak-Ruppert averages of the weights over all updates; predictions use these.
    public private(set) var averageWeights: [Double]
    public private(set) var averageBias = 0.0
    public private(set) var updates = 0
    var gradientSquares: [Double]
    var biasGradientSquare = 0.0
    var rng: SplitMix64
    public let hyperparameters: Hyperparameters
    /// Stored optionally so that model files written before it existed still load (as
    /// an empty calibration).
    private var selectionCalibration: SelectionCalibration?
    /// What `recall:` selections learned from the runs trained on (`SelectionCalibration`).
    public internal(set) var calibration: SelectionCalibration {
        get { selectionCalibration ?? SelectionCalibration() }
        set { selectionCalibration = newValue }
    }

    /// Feeds the calibration one finished run: the probabilities, tiers and expected
    /// durations it was ranked with (before it ran) and its verdicts. `Learner` calls it
    /// for every run it trains on, before `train`.
    public mutating func calibrate(probabilities: [Double], tiers: [Double], durations: [Double], failed: [Bool],
                                   complete: Bool = true) {
        calibration.absorb(probabilities: probabilities, tiers: tiers, durations: durations, failed: failed,
                           complete: complete)
    }

    public init(features: Int, seed: UInt64, hyperparameters: Hyperparameters = Hyperparameters()) {
        weights = Array(repeating: 0, count: features)
        featureMean = Array(repeating: 0, count: features)
        featureM2 = Array(repeating: 0, count: features)
        gradientSquares = Array(repeating: 0, count: features)
        averageWeights = Array(repeating: 0, count: features)
        rng = SplitMix64(seed: seed)
        self.hyperparameters = hyperparameters
    }

    public var featureCount: Int { weights.count }

    private func scale(_ j: Int) -> Double {
        guard examples > 1 else { return 1 }
        let sd = (featureM2[j] / Double(examples - 1)).squareRoot()
        return sd > 1e-9 ? 1 / sd : 0
    }

    /// Standardized copy of a feature row.
    private func standardize(_ row: ArraySlice<Double>, scales: [Double]) -> [Double] {
        var z = [Double](repeating: 0, count: weights.count)
        var j = 0
        for x in row {
            z[j] = (x - featureMean[j]) * scales[j]
            j += 1
        }
        return z
    }

    /// Predicted failure probability of each row.
    public func probabilities(_ matrix: FeatureMatrix) -> [Double] {
        precondition(matrix.columns == weights.count)
        let scales = (0..<weights.count).map(scale)
        // Fold the standardization into one weight vector and offset.
        var w = [Double](repeating: 0, count: weights.count)
        var offset = averageBias
        for j in 0..<weights.count {
            w[j] = averageWeights[j] * scales[j]
            offset -= w[j] * featureMean[j]
        }
        var result = [Double](repeating: 0, count: matrix.count)
        matrix.values.withUnsafeBufferPointer { values in
            let c = matrix.columns
            for i in 0..<matrix.count {
                var s = offset
                for j in 0..<c { s += w[j] * values[i * c + j] }
                result[i] = 1 / (1 + exp(-s))
            }
        }
        return result
    }

    /// Each feature's contribution to the log-odds of one row: weight × standardized
    /// value (the bias is `averageBias`); the contributions and the bias sum to the logit.
    public func contributions(_ row: ArraySlice<Double>) -> [Double] {
        var result = [Double](repeating: 0, count: weights.count)
        var j = 0
        for x in row {
            result[j] = averageWeights[j] * (x - featureMean[j]) * scale(j)
            j += 1
        }
        return result
    }

    /// Learns from one finished run: its feature rows (computed before the run) and
    /// whether each execution failed.
    public mutating func train(_ matrix: FeatureMatrix, failed: [Bool]) {
        precondition(matrix.count == failed.count && matrix.columns == weights.count)
        runs += 1
        guard matrix.count > 0 else { return }
        for i in 0..<matrix.count {
            examples += 1
            var j = 0
            for x in matrix.row(i) {
                let delta = x - featureMean[j]
                featureMean[j] += delta / Double(examples)
                featureM2[j] += delta * (x - featureMean[j])
                j += 1
            }
        }
        let scales = (0..<weights.count).map(scale)
        let rows = (0..<matrix.count).map { standardize(matrix.row($0), scales: scales) }
        let rate = hyperparameters.learningRate, l2 = hyperparameters.l2
        var order = Array(0..<matrix.count)
        for _ in 0..<hyperparameters.epochsPerRun {
            order.shuffle(using: &rng)
            for i in order {
                let z = rows[i]
                var s = bias
                for j in 0..<z.count { s += weights[j] * z[j] }
                let error = 1 / (1 + exp(-s)) - (failed[i] ? 1 : 0)
                for j in 0..<z.count where z[j] != 0 || weights[j] != 0 {
                    let g = error * z[j] + l2 * weights[j]
                    gradientSquares[j] += g * g
                    weights[j] -= rate * g / (gradientSquares[j].squareRoot() + 1e-8)
                }
                biasGradientSquare += error * error
                bias -= rate * error / (biasGradientSquare.squareRoot() + 1e-8)
                updates += 1
                let k = 1 / Double(updates)
                for j in 0..<weights.count { averageWeights[j] += (weights[j] - averageWeights[j]) * k }
                averageBias += (bias - averageBias) * k
            }
        }
    }
}
