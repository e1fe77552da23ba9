import Core
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Results
import TestKit
import Testing

/// Result regression: parsing, the relative comparison at its tolerance, the store's
/// baselines and history, pytest-benchmark import from a real pytest run, and the CLI.
@Suite(.tags(.sandbox))
struct ResultsTests {
    @Test func jsonLinesParse() throws {
        let r = try ResultsFile.parseLines("""
            {"name": "a", "value": 1.5, "unit": "s"}

            {"name": "b", "value": "nan"}
            {"name": "c", "value": -2e-300, "tolerance": 1e-6}
            """, file: "r.jsonl")
        #expect(r.map(\.name) == ["a", "b", "c"])
        #expect(r[0].unit == "s" && r[1].value.isNaN && r[2].tolerance == 1e-6)
    }

    @Test(arguments: [
        ("{\"name\": \"a\"}", "r.jsonl:1", "\"value\" is missing"),
        ("{\"name\": \"a\", \"value\": 1}\n{\"name\": \"a\", \"value\": 2}", "r.jsonl:2", "already given at line 1"),
        ("{\"name\": \"a\", \"value\": true}", "r.jsonl:1", "wrong type"),
        ("{\"name\": \"a\", \"value\": \"fast\"}", "r.jsonl:1", "invalid"),
        ("name=a value=1", "r.jsonl:1", "not JSON"),
        ("{\"name\": \"a\", \"value\": 1, \"tolerance\": -1}", "r.jsonl:1", "tolerance"),
    ])
    func badLinesNameTheLine(text: String, place: String, words: String) {
        do {
            _ = try ResultsFile.parseLines(text, file: "r.jsonl")
            Issue.record("accepted: \(text)")
        } catch let e as ReproError {
            #expect(e.code == .invalidInput)
            #expect(e.message.contains(place) && e.message.contains(words), "\(e.message)")
        } catch { Issue.record("\(error)") }
    }

    @Test func relativeToleranceDecides() {
        let base = [NamedResult(name: "x", value: 3.0), NamedResult(name: "y", value: 3.0), NamedResult(name: "gone", value: 1)]
        let now = [NamedResult(name: "x", value: 3.0 * (1 + 1e-9)), NamedResult(name: "y", value: 3.0 * (1 + 1e-11)),
                   NamedResult(name: "new", value: 1)]
        let c = ResultComparison.compare(baseline: base, current: now)
        #expect(c.regressions.map(\.name) == ["x"])
        #expect(abs(c.regressions[0].relativeChange - 1e-9) < 1e-12)
        #expect(c.missing == ["gone"] && c.added == ["new"])
        let e = try! #require(c.error(baselineLabel: "run #1"))
        #expect(e.code.exitStatus == 3)
        #expect(e.message.contains("x: baseline 3, now 3.0000000030000002") && e.message.contains("+1e-09"), "\(e.message)")
        // Overrides: a glob, and a result's own tolerance, which wins.
        let loose = Tolerances(default: 1e-10, overrides: [(pattern: "x*", tolerance: 1e-8)])
        #expect(ResultComparison.compare(baseline: base, current: now, tolerances: loose).regressions.isEmpty)
        var own = now
        own[1].tolerance = 1e-12
        #expect(ResultComparison.compare(baseline: base, current: own, tolerances: loose).regressions.map(\.name) == ["y"])
    }

    @Test func edgeValues() {
        func regressed(_ a: Double, _ b: Double) -> Bool {
            !ResultComparison.compare(baseline: [NamedResult(name: "v", value: a)], current: [NamedResult(name: "v", value: b)]).regressions.isEmpty
        }
        #expect(!regressed(0, 0))
        #expect(regressed(0, 1e-300))
        #expect(!regressed(.nan, .nan))
        #expect(regressed(.nan, 1))
        #expect(regressed(1, .nan))
        #expect(!regressed(.infinity, .infinity))
        #expect(regressed(-1, 1))
    }

    @Test func storeKeepsBaselinesAndHistory() throws {
        let dir = try TestKit.tempDir("repro-results")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try ResultStore(path: dir + "/results.sqlite")
        func check(_ v: Double, passed: Bool = true, label: String? = nil) throws -> ResultCheck {
            try ResultCheck.check(store: store, recipe: "r", results: [NamedResult(name: "e", value: v, unit: "J")], label: label, passed: passed)
        }
        #expect(try check(1.0, label: "first").baseline == nil)
        #expect(try check(1.0 + 1e-9).error != nil)              // regressed, stored as such
        #expect(try check(5.0, passed: false).baseline?.id == 1) // failed runs compare but never become baselines
        let c = try check(1.0 + 1e-11)
        #expect(c.error == nil && c.baseline?.id == 1)
        #expect(try store.baseline(recipe: "r")?.id == 4)
        #expect(try store.baseline(recipe: "r", reference: "first")?.id == 1)
        #expect(try store.baseline(recipe: "r", reference: "#2")?.status == .regressed)
        #expect(throws: ReproError.self) { try store.baseline(recipe: "r", reference: "nope") }
        let h = try store.history(recipe: "r", name: "e")
        #expect(h.map(\.status) == [.passed, .regressed, .failed, .passed])
        #expect(h.map(\.value) == [1.0, 1.0 + 1e-9, 5.0, 1.0 + 1e-11])
        // Reopening migrates nothing twice and keeps everything.
        #expect(try ResultStore(path: dir + "/results.sqlite").runs(recipe: "r").count == 4)
        let svg = ResultPlot.svg(recipe: "r", name: "e", points: h)
        #expect(svg.hasPrefix("<svg") && svg.components(separatedBy: "<circle").count == 5)
        #expect((try? XMLDocument(xmlString: svg)) != nil, "the plot is well-formed XML")
    }

    /// A real pytest-benchmark run writes the JSON this imports.
    @Test func pytestBenchmarkImport() throws {
        let dir = try TestKit.tempDir("repro-bench")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
            def square(n):
                return sum(i * i for i in range(n))

            def test_square(benchmark):
                benchmark.extra_info["answer"] = 42.5
                assert benchmark(square, 100) == 328350
            """.write(toFile: dir + "/test_bench.py", atomically: true, encoding: .utf8)
        let run = try TestKit.run(["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", "--benchmark-json", dir + "/bench.json",
                                   "--benchmark-min-rounds=3", "--benchmark-max-time=0.05", dir + "/test_bench.py"], cwd: dir)
        #expect(run.status == 0, "\(run.out) \(run.stderr)")
        let results = try ResultsFile.read(dir + "/bench.json")
        let names = Set(results.map(\.name))
        #expect(names.isSuperset(of: ["test_bench.py::test_square:mean", "test_bench.py::test_square:min", "test_bench.py::test_square:ops"]), "\(names)")
        #expect(results.first { $0.name.hasSuffix(":answer") }?.value == 42.5)
        #expect(results.first { $0.name.hasSuffix(":mean") }?.unit == "s")
    }

    @Test func cliRecordsComparesAndPlots() throws {
        let dir = try TestKit.tempDir("repro-results-cli")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let env = ["REPRO_HOME": dir + "/home", "PATH": "/usr/bin:/bin"]
        func record(_ v: Double, _ extra: [String] = []) throws -> TestKit.Output {
            try "{\"name\": \"solver.residual\", \"value\": \(String(format: "%.17g", v)), \"unit\": \"m\"}\n"
                .write(toFile: dir + "/r.jsonl", atomically: true, encoding: .utf8)
            return try TestKit.run([TestKit.repro, "results", "record", "demo", dir + "/r.jsonl"] + extra, environment: env)
        }
        #expect(try record(2.5).status == 0)
        let caught = try record(2.5 * (1 + 1e-9))
        #expect(caught.status == 3, "\(caught.out) \(caught.stderr)")
        #expect(caught.stderr.contains("solver.residual: baseline 2.5 m, now 2.50000000250000") && caught.stderr.contains("relative change +1e-09"), "\(caught.stderr)")
        let fine = try record(2.5 * (1 + 1e-11))
        #expect(fine.status == 0, "\(fine.out) \(fine.stderr)")
        #expect(try record(2.5 * (1 + 1e-9), ["--tolerance-for", "solver.*=1e-8"]).status == 0)
        let bad = try TestKit.run([TestKit.repro, "results", "record", "demo", dir + "/r.jsonl", "--tolerance", "lots"], environment: env)
        #expect(bad.status == 2)
        let history = try TestKit.run([TestKit.repro, "results", "history", "demo", "solver.residual", "--plot", dir + "/h.svg"], environment: env)
        #expect(history.status == 0, "\(history.stderr)")
        #expect(history.out.split(separator: "\n").count == 5, "\(history.out)")
        #expect(history.out.contains("regressed"))
        let svg = try String(contentsOfFile: dir + "/h.svg", encoding: .utf8)
        #expect(svg.components(separatedBy: "<circle").count == 5)
        #expect(try TestKit.run([TestKit.repro, "results", "history", "demo", "nope"], environment: env).status == 2)
    }
}
