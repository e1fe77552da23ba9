import Foundation
import Testing
@testable import Rank

/// A change of tens of thousands of files (a vendored tree, a mass rename), carried over
/// failing runs too: the change columns come out right, and the work is what the matches
/// cost, not tests x changed files (the first version took 692 s for this plan in a
/// debug build; docs/ranking.md "Benchmark").
@Suite(.tags(.unit)) struct LargeChangeTests {
    @Test func aChangeOfTwentyThousandFilesIsCheap() {
        let tests = (0..<10000).map { PlannedTest(test: "tests/test_mod\($0 % 200).py::t\($0)", testFile: "tests/test_mod\($0 % 200).py") }
        var state = FeatureState()
        for r in 0..<10 {
            // Ten failing runs, each changing 20,000 modules (mod0 ... mod199999).
            let changed = (0..<20000).map { "pkg/sub\($0 % 50)/mod\($0 + r * 20000).py" }
            state.absorb(Run(id: "r\(r)", executions: tests.prefix(100).map {
                Execution(test: $0.test, verdict: .fail, duration: 0.01, testFile: $0.testFile)
            }, changedFiles: changed))
        }
        // This run changes 20,000 other files, one named like test_mod7.py's module, and
        // mod0.py again (changed by the first failing run, in which t0 failed).
        let plan = RunPlan(id: "x", tests: tests, changedFiles: (0..<20000).map { "pkg/other\($0).py" }
                           + ["pkg/mod7x/mod7.py", "pkg/sub0/mod0.py"])
        let start = Date()
        let f = state.features(for: plan)
        let seconds = Date().timeIntervalSince(start)
        let column = { (i: Int, j: Int) in f.row(i)[f.row(i).startIndex + j] }
        // tests/test_mod7.py matches the changed mod7.py (tier 1); test_mod12.py's module
        // changed in the first failing run (carried, tier 0.5).
        #expect(column(7, FeatureSet.pathSimilarity) == 1 && column(12, FeatureSet.pathSimilarity) == 0)
        #expect(column(12, FeatureSet.carriedChange) == 1)
        let tiers = ChangeEvidence.tiers(f)
        #expect(tiers[7] == 1 && tiers[12] == 0.5)
        // A run of that size teaches no co-failures: t0 failed when mod0.py changed, but
        // in a change of 20,000 files.
        #expect(column(0, FeatureSet.coFailure) == 0 && column(0, FeatureSet.fileCoFailure) == 0)
        // Not a timing assertion (shared machines): printed for the record.
        print("features of 10,000 tests, 20,002 changed and 199,999 carried files: \(String(format: "%.2f", seconds)) s")
    }
}
