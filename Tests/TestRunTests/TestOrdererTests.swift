import Core
import Foundation
import Rank
import TestKit
import Testing
@testable import TestRun

/// The recipe's history streamed from real SQLite telemetry into the model: the same
/// model as training on the whole history at once, resumed from the model file, and
/// retrained when the file does not match the history.
@Suite(.tags(.unit)) struct TestOrdererTests {
    /// A telemetry database with `runs` finished runs of 40 tests; test `t7` fails in
    /// every third run, `t3` in the last one, and every run changes a file.
    static func telemetry(runs: Int, dir: String) throws -> Telemetry {
        let t = try Telemetry(path: dir + "/telemetry.sqlite")
        for i in 0..<runs { try addRun(t, index: i, lastFails: i == runs - 1) }
        return t
    }

    static func addRun(_ t: Telemetry, index i: Int, lastFails: Bool = false, status: TestRunStatus? = nil,
                       importsGraph: String? = nil) throws {
        var row = TestRunRow(
            id: nil, recipe: "r", recipeFile: "r.toml", recipeDigest: "d", lockDigest: "l", buildAction: "a", tree: "t",
            inputsManifest: nil, inputDigests: [:], changedFiles: i == 0 ? nil : ["src/m\(i % 5).py"], framework: "pytest",
            host: "h", pid: 1, started: Double(i), finished: nil, status: .running, orderStrategy: "original", seed: nil,
            filter: nil, faults: nil, requestedOrder: [], attestation: nil, message: nil)
        row.importsGraph = importsGraph
        let id = try t.begin(row)
        var rows: [TestExecutionRow] = []
        for k in 0..<40 {
            let fails = (k == 7 && i % 3 == 0) || (k == 3 && lastFails)
            let r = TestResult(id: "tests/test_m\(k % 5).py::t\(k)", file: "tests/test_m\(k % 5).py",
                               verdict: fails ? .fail : .pass, wallMs: Double(10 + k))
            rows.append(TestExecutionRow(run: id, result: r, attempt: 0, variation: nil, requestedPos: k, executedPos: k))
        }
        try t.record(rows, flaky: [], run: id)
        try t.finish(id, status: status ?? (rows.contains { $0.verdict == .fail } ? .failed : .passed))
    }

    static func history(_ t: Telemetry) throws -> History {
        var runs: [Run] = []
        try t.forEachHistoryRun(recipe: "r") { runs.append($0) }
        return History(runs: runs)
    }

    @Test func streamedModelEqualsTrainingAtOnceAndIsSaved() throws {
        let dir = try TestKit.tempDir("orderer")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let t = try Self.telemetry(runs: 12, dir: dir)
        // An interrupted run is not history.
        try Self.addRun(t, index: 12, status: .interrupted)
        let path = dir + "/models/r.json"
        let orderer = try TestOrderer.load(telemetry: t, recipe: "r", modelPath: path)
        let h = try Self.history(t)
        #expect(h.runs.count == 12 && orderer.runs == 12, "history \(h.runs.count) orderer \(orderer.runs)")
        #expect(h.runs[1].changedFiles == ["src/m1.py"] && h.runs[0].changedFiles == nil)
        #expect(orderer.modelFile == Trainer.train(h, seed: 1))
        #expect(try ModelFile.load(path: path) == Trainer.train(h, seed: 1))
    }

    /// Each run's import graph, stored by digest, comes back with the run: a model
    /// retrained from telemetry equals one trained on the history with those graphs,
    /// and a graph that is gone from the store reads as unknown.
    @Test func eachRunComesBackWithItsImportGraph() throws {
        let dir = try TestKit.tempDir("orderer-imports")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let t = try Telemetry(path: dir + "/telemetry.sqlite")
        let graph = ImportGraph(imports: ["tests/test_m1.py": ["src/m3.py"], "tests/test_m2.py": ["src/m4.py"]])
        for i in 0..<10 { try Self.addRun(t, index: i, importsGraph: i < 3 ? nil : i == 9 ? "gone" : "g") }
        var loads = 0
        let cache = ImportGraphCache { digest in
            guard digest == "g" else { return nil }
            loads += 1
            return graph
        }
        var runs: [Run] = []
        try t.forEachHistoryRun(recipe: "r", imports: cache) { runs.append($0) }
        #expect(runs.map { $0.imports != nil } == [false, false, false, true, true, true, true, true, true, false])
        #expect(runs[5].imports == graph && loads == 1, "consecutive runs share one load")
        #expect(try t.historyRun(Int64(5), imports: cache).imports == graph)
        let orderer = try TestOrderer.load(telemetry: t, recipe: "r", modelPath: dir + "/m.json", imports: cache)
        #expect(orderer.modelFile == Trainer.train(History(runs: runs), seed: 1))
        #expect(orderer.modelFile != Trainer.train(History(runs: runs).with(imports: nil), seed: 1))
    }

    @Test func aRunThatSelectedIsNotComplete() {
        #expect(Telemetry.complete(selection: nil))
        #expect(Telemetry.complete(selection: "full: every 10th run runs every test (--full-every)"))
        #expect(!Telemetry.complete(selection: "recall:0.95"))
        #expect(!Telemetry.complete(selection: "count:3"))
    }

    @Test func resumesTheSavedModelAndRetrainsWhenItDoesNotMatch() throws {
        let dir = try TestKit.tempDir("orderer")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let t = try Self.telemetry(runs: 8, dir: dir)
        let path = dir + "/models/r.json"
        var orderer = try TestOrderer.load(telemetry: t, recipe: "r", modelPath: path)
        // The run that just finished is fed and saved, as `repro test` does.
        try Self.addRun(t, index: 8)
        let last = try t.historyRun(Int64(9))
        orderer.feed(last)
        try orderer.saveModel()
        let h = try Self.history(t)
        #expect(h.runs.last == last)
        #expect(try ModelFile.load(path: path) == Trainer.train(h, seed: 1))
        // A file that saw other runs (here: trained with another seed on fewer
        // executions) is not resumed: the model is trained anew on the history.
        var other = Trainer.train(History(runs: Array(h.runs.prefix(4))), seed: 3)
        other.trainedExecutions += 1
        try other.write(to: path)
        #expect(try TestOrderer.load(telemetry: t, recipe: "r", modelPath: path).modelFile == Trainer.train(h, seed: 1))
        // A file from a longer history (telemetry deleted since): trained anew too.
        try Trainer.train(History(runs: h.runs + h.runs), seed: 1).write(to: path)
        #expect(try TestOrderer.load(telemetry: t, recipe: "r", modelPath: path).modelFile == Trainer.train(h, seed: 1))
        // A file that is not a model at all: trained anew, and overwritten.
        try Data("{".utf8).write(to: URL(fileURLWithPath: path))
        _ = try TestOrderer.load(telemetry: t, recipe: "r", modelPath: path)
        #expect(try ModelFile.load(path: path) == Trainer.train(h, seed: 1))
    }

    @Test func failedFirstPutsTheLastRunsFailuresThenRecentFailures() throws {
        let dir = try TestKit.tempDir("orderer")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let t = try Self.telemetry(runs: 7, dir: dir)
        let orderer = try TestOrderer.load(telemetry: t, recipe: "r", modelPath: dir + "/m.json")
        let tests = (0..<40).map { TestCase(id: "tests/test_m\($0 % 5).py::t\($0)", file: "tests/test_m\($0 % 5).py") }
        let ordered = orderer.order(tests, strategy: .failedFirst, changedFiles: nil)
        // t3 failed in the last run; t7 failed in runs 0, 3 and 6 (the last too).
        #expect(Set(ordered.prefix(2).map(\.id)) == ["tests/test_m3.py::t3", "tests/test_m2.py::t7"])
        #expect(ordered[0].id == "tests/test_m2.py::t7")  // also failed before: the higher score
        #expect(Array(ordered.dropFirst(2)) == tests.filter { !["t3", "t7"].contains($0.id.split(separator: ":").last!) })
    }

    /// Through real telemetry: a run whose change broke `strutils` and failed, then a run
    /// that changes `dictutils` only. The model order puts the `dictutils` tests first,
    /// then the tests of the unfixed `strutils` (carried from the failing run), then the
    /// rest; after a passing run nothing is carried.
    @Test func aFailingRunsChangeIsCarriedIntoTheNextOrder() throws {
        let dir = try TestKit.tempDir("orderer-carried")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let t = try Telemetry(path: dir + "/telemetry.sqlite")
        let modules = ["strutils", "dictutils", "cacheutils", "iterutils"]
        let tests = modules.flatMap { m in (0..<5).map { TestCase(id: "tests/test_\(m).py::t\($0)", file: "tests/test_\(m).py") } }
        func add(_ i: Int, changed: [String]?, failing: Set<String>) throws {
            let id = try t.begin(TestRunRow(
                id: nil, recipe: "r", recipeFile: "r.toml", recipeDigest: "d", lockDigest: "l", buildAction: "a", tree: "t",
                inputsManifest: nil, inputDigests: [:], changedFiles: changed, framework: "pytest", host: "h", pid: 1,
                started: Double(i), finished: nil, status: .running, orderStrategy: "model", seed: nil, filter: nil, faults: nil,
                requestedOrder: [], attestation: nil, message: nil))
            let rows = tests.enumerated().map { k, c in
                TestExecutionRow(run: id, result: TestResult(id: c.id, file: c.file, verdict: failing.contains(c.id) ? .fail : .pass,
                                                             wallMs: 10), attempt: 0, variation: nil, requestedPos: k, executedPos: k)
            }
            try t.record(rows, flaky: [], run: id)
            try t.finish(id, status: failing.isEmpty ? .passed : .failed)
        }
        try add(0, changed: nil, failing: [])
        for i in 1..<6 { try add(i, changed: ["docs/notes.md"], failing: []) }
        try add(6, changed: ["src/strutils.py"], failing: ["tests/test_strutils.py::t1"])
        func tiers(_ o: TestOrderer) -> [Double] {
            let plan = RunPlan(id: "next", tests: tests.map { PlannedTest(test: $0.id, testFile: $0.file) },
                               changedFiles: ["src/dictutils.py"])
            return ChangeEvidence.tiers(o.learner.state.features(for: plan))
        }
        let orderer = try TestOrderer.load(telemetry: t, recipe: "r", modelPath: dir + "/m.json")
        let expected = modules.flatMap { m in [Double](repeating: m == "dictutils" ? 1 : m == "strutils" ? 0.5 : 0, count: 5) }
        #expect(tiers(orderer) == expected)
        let ordered = orderer.order(tests, strategy: .model, changedFiles: ["src/dictutils.py"]).map(\.file)
        #expect(Array(ordered.prefix(10)) == Array(repeating: "tests/test_dictutils.py", count: 5) + Array(repeating: "tests/test_strutils.py", count: 5),
                "\(ordered)")
        // A passing run ends it.
        try add(7, changed: ["README.md"], failing: [])
        let after = try TestOrderer.load(telemetry: t, recipe: "r", modelPath: dir + "/m.json")
        #expect(tiers(after) == modules.flatMap { m in [Double](repeating: m == "dictutils" ? 1 : 0, count: 5) })
    }
}
