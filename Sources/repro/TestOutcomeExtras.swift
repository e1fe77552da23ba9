import Foundation
import TestRun

/// The lines `repro test` prints after its report about faults and named results.
enum TestOutcomeExtras {
    static func print(_ s: TestRunSummary) {
        if let f = s.faults {
            let kinds = f.injected.keys.sorted().map { "\($0) \(f.injected[$0]!)" }.joined(separator: ", ")
            Swift.print("faults: \(f.spec): \(kinds.isEmpty ? "none injected" : kinds)")
        }
        if let r = s.results {
            Swift.print("results: \(r.compared) compared with \(r.baseline.map { "results run #\($0)" } ?? "no baseline yet"), \(r.regressions.count) regressed")
            for c in r.regressions { Swift.print("  REGRESSED \(c.description)") }
        }
    }
}
