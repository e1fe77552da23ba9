import Foundation
import TestKit
import Testing
@testable import Rank

/// The IOF/ROL cycles 1-60 (Tests/RankTests/Fixtures, MIT, see LICENSE.iofrol).
private func iofrolHead() throws -> History {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/iofrol-60.csv").path
    return try HistoryImporter.load(path: path, format: .retecs)
}

private func withoutChanges(_ h: History) -> History {
    History(runs: h.runs.map { Run(id: $0.id, executions: $0.executions, changedFiles: nil) })
}

@Suite(.tags(.unit)) struct ChangeFeatureTests {
    /// The model's numbers on IOF/ROL cycles 1-60 as printed by `repro rank eval --json`
    /// before the change features existed (commit 18d3297): they must not move.
    @Test func iofrolNumbersDoNotMove() throws {
        let report = Replay.evaluate(try iofrolHead(), seed: 1)
        #expect(report.scoredRuns == 35)
        let pinned: [String: [Double]] = [
            "model": [0.6173345838315232, 0.6193806124839535, 0.7487316827112891],
            "model-per-second": [0.6210021744741582, 0.623822716133377, 0.7533593511932432],
            "decayed": [0.6631859649214572, 0.6634771178860842, 0.7017299534262933],
            "optimal": [0.7991615285593378, 0.8032998841698579, 0.39276320510493584],
        ]
        for (strategy, values) in pinned {
            let s = try #require(report.scores.first { $0.strategy == strategy })
            #expect([s.apfd, s.apfdc, s.timeTo95] == values, "\(strategy) moved")
        }
    }

    @Test func withoutChangeDataTheChangeColumnsDoNothing() {
        let history = withoutChanges(changeHistory(runs: 40))
        let all = Replay.evaluate(history, seed: 3)
        let historyOnly = Replay.evaluate(history, seed: 3, groups: .history)
        #expect(all == historyOnly)
        var state = FeatureState()
        for run in history.runs.dropLast() { state.absorb(run) }
        let features = state.features(for: history.runs.last!.plan)
        for i in 0..<features.count {
            #expect(features.row(i).dropFirst(FeatureSet.testFileChanged).allSatisfy { $0 == 0 })
        }
    }

    @Test func pathSimilarityMatchesModuleAndTestFile() {
        let plan = RunPlan(id: "r", tests: [
            PlannedTest(test: "tests/test_cacheutils.py::test_lru_add", testFile: "tests/test_cacheutils.py"),
            PlannedTest(test: "tests/test_strutils.py::test_slugify", testFile: "tests/test_strutils.py"),
            PlannedTest(test: "RankTests/modelFileRoundTrips", testFile: "Tests/RankTests/ModelTests.swift"),
        ], changedFiles: ["boltons/cacheutils.py", "Sources/Rank/Model.swift"])
        let features = FeatureState().features(for: plan)
        let column = { (i: Int) in features.row(i)[features.row(i).startIndex + FeatureSet.pathSimilarity] }
        #expect(column(0) == 1)
        #expect(column(1) == 0)
        #expect(column(2) == 1)
        #expect(FeatureState().relatedness(for: plan) == [1, 0, 1])
    }

    @Test func coFailureIsLearnedAndDecays() {
        let failing = Execution(test: "T/a", verdict: .fail, duration: 1, testFile: "Tests/A.swift")
        let passing = Execution(test: "T/a", verdict: .pass, duration: 1, testFile: "Tests/A.swift")
        let plan = RunPlan(id: "next", tests: [PlannedTest(test: "T/a", testFile: "Tests/A.swift")],
                           changedFiles: ["Sources/Other.swift"])
        func coFailure(_ state: FeatureState) -> (Double, Double) {
            let row = state.features(for: plan).row(0), b = row.startIndex
            return (row[b + FeatureSet.coFailure], row[b + FeatureSet.fileCoFailure])
        }
        var state = FeatureState()
        state.absorb(Run(id: "1", executions: [failing], changedFiles: ["Sources/Other.swift"]))
        let first = coFailure(state)
        #expect(first.0 == 0.5 && first.1 == 0.5)  // 1 / (1 change + 1)
        state.absorb(Run(id: "2", executions: [passing], changedFiles: ["Sources/Other.swift"]))
        let second = coFailure(state)
        #expect(second.0 > 0 && second.0 < first.0)
        // A run whose changed files are unrelated leaves the association alone.
        state.absorb(Run(id: "3", executions: [passing], changedFiles: ["README.md"]))
        #expect(coFailure(state) == second)
    }

    @Test func recencyFollowsChangesOfTheTestsModule() {
        let test = PlannedTest(test: "tests/test_iterutils.py::test_chunked", testFile: "tests/test_iterutils.py")
        let plan = RunPlan(id: "next", tests: [test], changedFiles: ["README.md"])
        func recency(_ state: FeatureState) -> Double {
            let row = state.features(for: plan).row(0)
            return row[row.startIndex + FeatureSet.relatedChangeRecency]
        }
        var state = FeatureState()
        let run = { (files: [String]) in
            Run(id: UUID().uuidString, executions: [Execution(test: test.test, verdict: .pass, duration: 1, testFile: test.testFile)], changedFiles: files)
        }
        state.absorb(run(["setup.py"]))
        #expect(recency(state) == 0)
        state.absorb(run(["boltons/iterutils.py"]))
        #expect(recency(state) == 1)
        state.absorb(run(["setup.py"]))
        state.absorb(run(["setup.py"]))
        // Two runs since the module changed, half-life 4 runs.
        #expect(abs(recency(state) - exp2(-0.5)) < 1e-12)
    }

    /// A fault a failing run's change left behind is still there in the next run: the
    /// tests tied to that run's changed files (own file, name, imports) get
    /// `carried_change` and the middle tier until a run passes (or has no change data);
    /// at most the last 10 failing runs are carried.
    @Test func aFaultLeftByAFailingRunIsCarried() {
        let tests = ["tests/test_strutils.py", "tests/test_dictutils.py", "tests/test_fileutils.py", "tests/test_other.py"].map {
            PlannedTest(test: $0 + "::t", testFile: $0)
        }
        let graph = PythonImports.graph(files: [
            "pkg/strutils.py": "", "pkg/dictutils.py": "", "pkg/fileutils.py": "from .strutils import x\n",
            "tests/test_strutils.py": "from pkg import strutils\n", "tests/test_dictutils.py": "from pkg import dictutils\n",
            "tests/test_fileutils.py": "from pkg import fileutils\n", "tests/test_other.py": "",
        ])
        func run(_ changed: [String]?, failing: Bool) -> Run {
            Run(id: UUID().uuidString, executions: tests.map {
                Execution(test: $0.test, verdict: failing && $0.testFile == "tests/test_strutils.py" ? .fail : .pass,
                          duration: 1, testFile: $0.testFile)
            }, changedFiles: changed, imports: graph)
        }
        let plan = RunPlan(id: "next", tests: tests, changedFiles: ["pkg/dictutils.py"], imports: graph)
        func carried(_ state: FeatureState, _ plan: RunPlan = plan) -> [Double] {
            let f = state.features(for: plan)
            return (0..<f.count).map { f.row($0)[f.row($0).startIndex + FeatureSet.carriedChange] }
        }
        var state = FeatureState()
        state.absorb(run(["pkg/strutils.py"], failing: true))
        // test_strutils by name, test_fileutils through fileutils -> strutils (2 steps).
        #expect(carried(state) == [1, 0, 0.5, 0])
        #expect(ChangeEvidence.tiers(state.features(for: plan)) == [0.5, 1, 0.5, 0])
        #expect(ChangeEvidence.order([0.9, 0.1, 0.2, 0.95], tiers: [0.5, 1, 0.5, 0]) == [1, 0, 2, 3])
        // A plan that changes the file again ties it the usual way (tier 1), not carried.
        var again = plan
        again.changedFiles = ["pkg/strutils.py"]
        #expect(carried(state, again) == [0, 0, 0, 0])
        // Another failing run keeps it; a passing run ends it.
        state.absorb(run(["README.md"], failing: true))
        #expect(carried(state) == [1, 0, 0.5, 0])
        var green = state
        green.absorb(run(["README.md"], failing: false))
        #expect(carried(green) == [0, 0, 0, 0])
        var unknown = state
        unknown.absorb(run(nil, failing: true))
        #expect(carried(unknown) == [0, 0, 0, 0])
        // Ten failing runs in all keep it; the eleventh pushes it out of the window.
        var long = state
        for _ in 0..<8 { long.absorb(run(["setup.py"], failing: true)) }
        #expect(carried(long) == [1, 0, 0.5, 0])
        long.absorb(run(["setup.py"], failing: true))
        #expect(carried(long) == [0, 0, 0, 0])
        // The ablation without the group holds the column at 0, and the tier with it.
        state.groups = FeatureGroups.all.subtracting(.carried)
        #expect(ChangeEvidence.tiers(state.features(for: plan)) == [0, 1, 0, 0])
    }

    @Test func ablationListsEveryGroup() {
        let rows = Ablation.run(changeHistory(runs: 30), seed: 1)
        #expect(rows.map(\.features) == Ablation.variants.map(\.0))
        #expect(rows.first?.features == "all")
        // The change signal of this history is carried by the change features.
        let historyOnly = rows.first { $0.features == "history only" }!.apfd
        let changeOnly = rows.first { $0.features == "change only" }!.apfd
        #expect(changeOnly > historyOnly)
    }

    @Test func featureGroupsParse() throws {
        #expect(try FeatureGroups.parse("all") == .all)
        #expect(try FeatureGroups.parse("history, similarity") == [.history, .similarity])
        #expect(throws: (any Error).self) { try FeatureGroups.parse("colour") }
    }
}
