/// Scores of an order. Inputs are in execution order: `failed[i]` and `durations[i]`
/// belong to the i-th test run.
public enum Metrics {
    /// APFD = 1 - sum(TF_i) / (n m) + 1 / (2n), TF_i the 1-based position of the i-th
    /// failing test. `nil` when there is no failing test.
    public static func apfd(_ failed: [Bool]) -> Double? {
        let n = failed.count
        var m = 0, positions = 0
        for (i, f) in failed.enumerated() where f {
            m += 1
            positions += i + 1
        }
        guard m > 0 else { return nil }
        return 1 - Double(positions) / Double(n * m) + 1 / (2 * Double(n))
    }

    /// Normalized APFD (Qu et al. 2007) for an order that runs only a prefix: `failed`
    /// is the executed prefix, `totalFailures` the failing tests in the whole suite
    /// and `totalTests` its size. Undetected failures count as position 0:
    /// NAPFD = p - sum(TF_i) / (n m) + p / (2n), p the detected share.
    /// Equals APFD when everything runs. `nil` when there is no failing test.
    public static func napfd(_ failed: [Bool], totalFailures: Int, totalTests: Int) -> Double? {
        guard totalFailures > 0, totalTests > 0 else { return nil }
        var detected = 0, positions = 0
        for (i, f) in failed.enumerated() where f {
            detected += 1
            positions += i + 1
        }
        let n = Double(totalTests), m = Double(totalFailures)
        let p = Double(detected) / m
        return p - Double(positions) / (n * m) + p / (2 * n)
    }

    /// APFDc (Elbaum et al. 2001, unit fault severity): sum over failing tests of
    /// (time of all tests from it to the end, minus half its own time) / (total time * m).
    /// `nil` when there is no failing test or the total time is zero.
    public static func apfdc(_ failed: [Bool], durations: [Double]) -> Double? {
        precondition(failed.count == durations.count)
        let total = durations.reduce(0, +)
        let m = failed.reduce(0) { $0 + ($1 ? 1 : 0) }
        guard m > 0, total > 0 else { return nil }
        var remaining = total, sum = 0.0
        for (f, d) in zip(failed, durations) {
            if f { sum += remaining - d / 2 }
            remaining -= d
        }
        return sum / (total * Double(m))
    }

    /// Share of the total test time spent when `recall` of the failing tests (rounded
    /// up to whole tests) have run. `nil` when there is no failing test or no time.
    public static func timeShare(toRecall recall: Double, _ failed: [Bool], durations: [Double]) -> Double? {
        precondition(failed.count == durations.count)
        let total = durations.reduce(0, +)
        let m = failed.reduce(0) { $0 + ($1 ? 1 : 0) }
        guard m > 0, total > 0 else { return nil }
        let needed = max(1, Int((recall * Double(m) - 1e-9).rounded(.up)))
        var found = 0, spent = 0.0
        for (f, d) in zip(failed, durations) {
            spent += d
            if f {
                found += 1
                if found >= needed { return spent / total }
            }
        }
        return 1
    }
}
