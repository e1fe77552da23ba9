import Foundation

/// A deterministic synthetic history for benchmarks and tests: `tests` tests, each run
/// in every one of `runs` runs, with skewed failure propensities that drift over time
/// and log-uniform durations.
public enum SyntheticHistory {
    public static func generate(tests: Int, runs: Int, seed: UInt64) -> History {
        var rng = SplitMix64(seed: seed)
        func uniform() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }
        let names = (0..<tests).map { "Suite\($0 / 50)/test\($0)" }
        var propensity = (0..<tests).map { _ in pow3(uniform()) * 0.3 }
        let durations = (0..<tests).map { _ in 0.01 * pow(10, uniform() * 4) }
        var history: [Run] = []
        history.reserveCapacity(runs)
        for r in 0..<runs {
            var executions: [Execution] = []
            executions.reserveCapacity(tests)
            for t in 0..<tests {
                if uniform() < 0.01 { propensity[t] = pow3(uniform()) * 0.3 }
                let verdict: Verdict = uniform() < propensity[t] ? .fail : .pass
                executions.append(Execution(test: names[t], verdict: verdict,
                                            duration: durations[t] * (0.8 + 0.4 * uniform())))
            }
            history.append(Run(id: String(r + 1), executions: executions))
        }
        return History(runs: history)
    }

    private static func pow3(_ x: Double) -> Double { x * x * x }
}
