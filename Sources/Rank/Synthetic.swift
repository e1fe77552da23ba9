import Foundation

/// A deterministic synthetic history for benchmarks and tests: `tests` tests, each run
/// in every one of `runs` runs, with skewed failure propensities that drift over time
/// and log-uniform durations. With `changes`, tests live in files of 50 tests
/// (`tests/test_moduleK.py`), each run changes 1-3 of the modules (`pkg/moduleK.py`),
/// and tests of a changed module fail more often, so every change feature is exercised.
public enum SyntheticHistory {
    public static func generate(tests: Int, runs: Int, seed: UInt64, changes: Bool = false) -> History {
        var rng = SplitMix64(seed: seed)
        func uniform() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }
        let modules = max(1, (tests + 49) / 50)
        let names = (0..<tests).map { changes ? "tests/test_module\($0 / 50).py::test_\($0)" : "Suite\($0 / 50)/test\($0)" }
        var propensity = (0..<tests).map { _ in pow3(uniform()) * 0.3 }
        let durations = (0..<tests).map { _ in 0.01 * pow(10, uniform() * 4) }
        var history: [Run] = []
        history.reserveCapacity(runs)
        for r in 0..<runs {
            var changed: Set<Int> = []
            if changes {
                for _ in 0..<(1 + Int(rng.next() % 3)) { changed.insert(Int(rng.next() % UInt64(modules))) }
            }
            var executions: [Execution] = []
            executions.reserveCapacity(tests)
            for t in 0..<tests {
                if uniform() < 0.01 { propensity[t] = pow3(uniform()) * 0.3 }
                let p = changed.contains(t / 50) ? min(1, propensity[t] * 3 + 0.05) : propensity[t]
                let verdict: Verdict = uniform() < p ? .fail : .pass
                executions.append(Execution(test: names[t], verdict: verdict,
                                            duration: durations[t] * (0.8 + 0.4 * uniform()),
                                            testFile: changes ? "tests/test_module\(t / 50).py" : nil))
            }
            let files = changes ? changed.sorted().map { "pkg/module\($0).py" } : nil
            history.append(Run(id: String(r + 1), executions: executions, changedFiles: files))
        }
        return History(runs: history)
    }

    /// An import graph for a history made with `changes`: each test file imports its
    /// module, and module K imports modules K+1 and K+7, so a change also ties the tests
    /// of the modules that import the changed one (`ImportGraph`).
    public static func imports(tests: Int) -> ImportGraph {
        let modules = max(1, (tests + 49) / 50)
        var edges: [String: [String]] = [:]
        for k in 0..<modules {
            edges["tests/test_module\(k).py"] = ["pkg/module\(k).py"]
            edges["pkg/module\(k).py"] = ["pkg/module\((k + 1) % modules).py", "pkg/module\((k + 7) % modules).py"]
        }
        return ImportGraph(imports: edges)
    }

    private static func pow3(_ x: Double) -> Double { x * x * x }
}
