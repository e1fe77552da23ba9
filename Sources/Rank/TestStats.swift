import Foundation

/// What is known about one test from the runs absorbed so far. Updated only by
/// `FeatureState.absorb(_:)`, so it never holds a verdict of the run being ranked.
public struct TestStats: Sendable, Equatable {
    /// Half-lives, in executions of the test (EMA rates) and in runs of the history
    /// (decayed counts). Fixed in advance, not tuned.
    public static let halfLives: [Double] = [1, 2, 4, 8, 16, 32]
    static let emaKeep = halfLives.map { exp2(-1 / $0) }

    public internal(set) var executions = 0
    public internal(set) var failures = 0
    /// Exponential moving failure rate per half-life (weight of the newest execution 1 - 2^(-1/h)).
    public internal(set) var emaRate = [Double](repeating: 0, count: halfLives.count)
    /// Failures decayed by the number of runs since, per half-life; valid at `lastRun`.
    public internal(set) var decayedCount = [Double](repeating: 0, count: halfLives.count)
    /// The RETECS-style heuristic: `x = 0.8 * x + failed` per execution.
    public internal(set) var decayed08 = 0.0
    public internal(set) var lastFailed = false
    public internal(set) var firstRun = 0
    public internal(set) var lastRun = 0
    public internal(set) var lastFailureRun: Int?
    public internal(set) var transitions = 0
    /// The last up to 16 verdicts as bits (1 = failed), newest in bit 0.
    public internal(set) var recentBits: UInt16 = 0
    public internal(set) var recentCount = 0
    public internal(set) var meanDuration = 0.0
    var durationM2 = 0.0
    public internal(set) var lastDuration = 0.0

    /// The name tokens of the test's id (`ChangeContext.tokenize`), made once when the
    /// test is first seen: every ranked plan matches them against its changed files, and
    /// tokenizing 10,000 ids again for each plan (and for the carried files) was most of
    /// the ranking time.
    var idTokens: Set<Substring> = []

    init(firstRun: Int, test: String) {
        self.firstRun = firstRun
        self.lastRun = firstRun
        idTokens = Set(ChangeContext.tokenize(test))
    }

    public var failureRate: Double { executions == 0 ? 0 : Double(failures) / Double(executions) }

    public var durationStdDev: Double {
        executions < 2 ? 0 : (durationM2 / Double(executions - 1)).squareRoot()
    }

    /// Transitions between pass and fail among the recent verdicts, as a share of the
    /// possible ones: 0 for a stable test, 1 for one that flips every run.
    public var flakiness: Double {
        guard recentCount >= 2 else { return 0 }
        let flips = (recentBits ^ (recentBits >> 1)) & UInt16((1 << (recentCount - 1)) - 1)
        return Double(flips.nonzeroBitCount) / Double(recentCount - 1)
    }

    /// Decayed failure count for half-life `k` as seen from run `run` (> `lastRun`).
    func decayedCount(_ k: Int, at run: Int) -> Double {
        decayedCount[k] * exp2(-Double(run - lastRun) / Self.halfLives[k])
    }

    mutating func record(_ execution: Execution, run: Int) {
        let failed = execution.verdict.isFailure
        let value = failed ? 1.0 : 0.0
        let gap = Double(run - lastRun)
        for k in 0..<Self.halfLives.count {
            let keep = Self.emaKeep[k]
            emaRate[k] = executions == 0 ? value : keep * emaRate[k] + (1 - keep) * value
            decayedCount[k] = decayedCount[k] * exp2(-gap / Self.halfLives[k]) + value
        }
        decayed08 = 0.8 * decayed08 + value
        if executions > 0 && failed != lastFailed { transitions += 1 }
        executions += 1
        if failed {
            failures += 1
            lastFailureRun = run
        }
        lastFailed = failed
        lastRun = run
        recentBits = (recentBits << 1) | (failed ? 1 : 0)
        recentCount = min(recentCount + 1, 16)
        let delta = execution.duration - meanDuration
        meanDuration += delta / Double(executions)
        durationM2 += delta * (execution.duration - meanDuration)
        lastDuration = execution.duration
    }
}
