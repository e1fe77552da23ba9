import Foundation
import TestKit
import Testing

/// `repro test` end to end over the host toolchain (python3 and Debian's pytest on the
/// host, bound read-only): the real launcher, the real plugin, real SQLite telemetry.
@Suite(.serialized, .tags(.sandbox)) struct TestCommandTests {
    let dir: String
    let env: [String: String]
    var store: String { dir + "/store" }

    init() throws {
        dir = NSTemporaryDirectory() + "repro-test-cmd-\(getpid())-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: dir + "/r/proj/tests", withIntermediateDirectories: true)
        env = ["HOME": dir, "XDG_CONFIG_HOME": dir + "/config", "PATH": "/usr/local/bin:/usr/bin:/bin"]
    }

    func repro(_ args: [String], timeout: Double? = nil) throws -> TestKit.Output {
        try TestKit.run([TestKit.repro] + args, environment: env)
    }

    /// A recipe whose input is `proj/` and whose [test] runs pytest on proj/tests.
    func project(_ tests: [String: String], test extra: String = "") throws -> String {
        try Support.pytestProject(in: dir, tests: tests, extra: extra, repro: { try repro($0) }, store: store)
    }

    struct Show: Decodable {
        struct Run: Decodable { var status: String; var requested_order: [String]; var order_strategy: String; var imports_graph: String? }
        struct Exec: Decodable {
            var test: String; var verdict: String; var attempt: Int; var flaky: Bool
            var executed_pos: Int?; var requested_pos: Int?; var wall_ms: Double; var user_ms: Double?; var max_rss_kb: Int64?
        }
        var run: Run
        var executions: [Exec]
    }

    func show(_ run: Int) throws -> Show {
        let r = try repro(["test", "show", String(run), "--store", store, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        return try JSONDecoder().decode(Show.self, from: r.stdout)
    }

    struct Summary: Decodable { var run: Int; var status: String; var tests: Int; var passed: Int; var failed: Int; var flaky: [String]; var not_run: Int }

    func summary(_ out: TestKit.Output) throws -> Summary {
        try JSONDecoder().decode(Summary.self, from: out.stdout)
    }

    static let many: [String: String] = {
        var t: [String: String] = [:]
        for f in 0..<3 {
            t["test_m\(f).py"] = (0..<5).map { "def test_\($0)():\n    assert \($0) >= 0\n" }.joined(separator: "\n")
        }
        return t
    }()

    /// A suite that writes, edits and deletes files of its working tree: the next run
    /// starts from the tree as the build left it, through the overlay over the pristine
    /// copy (which the suite never touches) or, with REPRO_TEST_OVERLAY=0, a fresh copy.
    @Test(arguments: [true, false]) func everyRunStartsFromThePristineTree(overlay: Bool) throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "data".write(toFile: dir + "/r/proj/data.txt", atomically: true, encoding: .utf8)
        let recipe = try project(["test_w.py": """
            import os
            def test_writes_edits_and_deletes():
                assert os.path.exists('data.txt') and not os.path.exists('marker')
                assert not open('tests/test_w.py').read().endswith('# appended\\n')
                open('marker', 'w').write('x')
                os.remove('data.txt')
                open('tests/test_w.py', 'a').write('# appended\\n')
            """])
        var e = env
        if !overlay { e["REPRO_TEST_OVERLAY"] = "0" }
        for _ in 0..<2 {
            let r = try TestKit.run([TestKit.repro, "test", recipe, "--store", store, "--json"], environment: e)
            #expect(r.status == 0, "\(r.stderr)")
            let s = try summary(r)
            #expect(s.passed == 1 && s.failed == 0, "\(r.stderr)")
        }
        let cache = store + "/worktrees"
        let trees = try FileManager.default.contentsOfDirectory(atPath: cache).filter { !$0.hasPrefix(".") }
        let pristine = trees.filter { FileManager.default.fileExists(atPath: "\(cache)/\($0)/src/proj/data.txt") }
        if overlay {
            #expect(pristine.count == 1, "\(trees)")
            for t in pristine {
                #expect(!FileManager.default.fileExists(atPath: "\(cache)/\(t)/src/proj/marker"))
                let body = try String(contentsOfFile: "\(cache)/\(t)/src/proj/tests/test_w.py", encoding: .utf8)
                #expect(!body.hasSuffix("# appended\n"))
            }
            #expect(try String(contentsOfFile: cache + "/" + (try FileManager.default.contentsOfDirectory(atPath: cache).first { $0.hasPrefix(".overlay-") } ?? "none"), encoding: .utf8) == "yes\n")
        } else {
            #expect(pristine.isEmpty, "\(trees)")  // each run made and removed its own copy
        }
    }

    @Test func runsInTheRequestedOrderAndRecordsEveryTest() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var tests = Self.many
        tests["test_fail.py"] = "def test_bad():\n    assert 1 == 2, 'one is not two'\n\ndef test_skip():\n    import pytest\n    pytest.skip('not here')\n"
        let recipe = try project(tests)
        let r = try repro(["test", recipe, "--store", store, "--order", "random:7", "--json"])
        #expect(r.status == 1, "one test fails: \(r.stderr)")
        let s = try summary(r)
        #expect(s.tests == 17 && s.passed == 15 && s.failed == 1, "\(s)")
        let shown = try show(s.run)
        #expect(shown.run.order_strategy == "random:7")
        let executed = shown.executions.filter { $0.attempt == 0 }.sorted { $0.executed_pos! < $1.executed_pos! }.map(\.test)
        #expect(executed == shown.run.requested_order, "executed order must be the requested order")
        #expect(executed != executed.sorted(), "a random order differs from the collected one")
        let bad = try #require(shown.executions.first { $0.test.hasSuffix("test_bad") })
        #expect(bad.verdict == "fail")
        #expect(shown.executions.first { $0.test.hasSuffix("test_skip") }?.verdict == "skip")
        #expect(shown.executions.allSatisfy { $0.wall_ms >= 0 && $0.user_ms != nil && $0.max_rss_kb ?? 0 > 0 })
        // The same seed gives the same order.
        let again = try summary(try repro(["test", recipe, "--store", store, "--order", "random:7", "--json"]))
        #expect(try show(again.run).run.requested_order == shown.run.requested_order)
    }

    @Test func crashAndTimeoutAreMarkedAndTheRestContinues() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let recipe = try project([
            "test_a.py": "def test_first():\n    pass\n",
            "test_b.py": "import os\n\ndef test_dies():\n    os._exit(3)\n",
            "test_c.py": "import time\n\ndef test_hangs():\n    time.sleep(600)\n",
            "test_d.py": "def test_last():\n    pass\n",
        ], test: "test-timeout = \"3s\"")
        let r = try repro(["test", recipe, "--store", store, "--order", "original", "--json"])
        #expect(r.status == 1, "\(r.stderr)")
        let shown = try show(try summary(r).run)
        let v = Dictionary(uniqueKeysWithValues: shown.executions.map { (String($0.test.split(separator: ":").last!), $0.verdict) })
        #expect(v == ["test_first": "pass", "test_dies": "crashed", "test_hangs": "timeout", "test_last": "pass"], "\(v)")
        #expect(shown.run.status == "failed")
    }

    @Test func flakyTestIsLabelledNotPassed() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Fails the first time in a run (no marker yet), passes after: flaky.
        let recipe = try project([
            "test_f.py": "import os\n\ndef test_flaky():\n    m = '/build/flaky-marker'\n    first = not os.path.exists(m)\n    open(m, 'w').close()\n    assert not first\n",
            "test_ok.py": "def test_ok():\n    pass\n",
            "test_broken.py": "def test_broken():\n    assert False\n",
        ])
        let r = try repro(["test", recipe, "--store", store, "--rerun-failures", "2", "--json"])
        let s = try summary(r)
        #expect(s.flaky.count == 1 && s.flaky[0].hasSuffix("test_flaky"), "\(s)")
        #expect(s.failed == 1, "test_broken fails every attempt")
        #expect(r.status == 1)
        let shown = try show(s.run)
        let broken = shown.executions.filter { $0.test.hasSuffix("test_broken") }
        #expect(broken.count == 3 && broken.allSatisfy { !$0.flaky && $0.verdict == "fail" })
        #expect(shown.executions.filter { $0.test.hasSuffix("test_flaky") }.allSatisfy { $0.flaky })
        let flaky = try repro(["test", "flaky", "proj", "--store", store])
        #expect(flaky.status == 0 && flaky.out.contains("test_flaky"), "\(flaky.out)")
    }

    @Test func filterThatMatchesNothingIsExit2() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let recipe = try project(Self.many)
        let r = try repro(["test", recipe, "--store", store, "--filter", "nothing-like-this*"])
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains("matches none of the 15 tests"), "\(r.stderr)")
        let only = try summary(try repro(["test", recipe, "--store", store, "--filter", "test_m1.py", "--json"]))
        #expect(only.tests == 5 && only.passed == 5)
    }

    @Test func recipeWithoutTestStepIsExit2() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/r/none.toml"
        try "name = \"none\"\n[toolchain]\nhost = true\n[build]\nscript = \"true\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try repro(["lock", path, "--store", store]).status == 0)
        let r = try repro(["test", path, "--store", store])
        #expect(r.status == 2 && r.stderr.contains("has no [test] step"), "\(r.stderr)")
    }

    @Test func hugeOutputIsCappedAndTheRunGoesOn() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let recipe = try project([
            "test_big.py": "import sys\n\ndef test_loud():\n    chunk = 'x' * (1 << 20)\n    for _ in range(1024):\n        sys.stdout.write(chunk)\n    sys.stdout.flush()\n",
            "test_z.py": "def test_after():\n    pass\n",
        ])
        let r = try repro(["test", recipe, "--store", store, "--order", "original", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        struct Log: Decodable { var log_path: String?; var log_truncated_bytes: Int64?; var passed: Int }
        let s = try JSONDecoder().decode(Log.self, from: r.stdout)
        #expect(s.passed == 2)
        #expect((s.log_truncated_bytes ?? 0) > 1_000_000_000, "1 GiB printed, 8 MiB kept")
        let size = try FileManager.default.attributesOfItem(atPath: try #require(s.log_path))[.size] as! Int
        #expect(size < 9 << 20)
    }

    @Test func buildIsACacheHitAndHistoryDrivesTheModelOrder() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var tests = Self.many
        tests["test_fail.py"] = "def test_always_fails():\n    assert False\n"
        let recipe = try project(tests)
        _ = try repro(["test", recipe, "--store", store, "--order", "original"])
        struct S: Decodable { var run: Int; var order: String; var build_cached: Bool? }
        let second = try JSONDecoder().decode(S.self, from: try repro(["test", recipe, "--store", store, "--json",
                                                                      "--attestation", dir + "/result.intoto.jsonl"]).stdout)
        // The signed test result verifies with the build key and names the failure.
        let pub = dir + "/config/repro/keys/signing.pub.pem"
        let v = try repro(["attest", "verify", dir + "/result.intoto.jsonl", "--key", pub, "--test-result", "FAILED"])
        #expect(v.status == 0, "\(v.stderr)")
        var tampered = try String(contentsOfFile: dir + "/result.intoto.jsonl", encoding: .utf8)
        tampered = tampered.replacingOccurrences(of: "\"payload\":\"", with: "\"payload\":\"eyJ")
        try tampered.write(toFile: dir + "/bad.intoto.jsonl", atomically: true, encoding: .utf8)
        #expect(try repro(["attest", "verify", dir + "/bad.intoto.jsonl", "--key", pub]).status == 4)
        #expect(second.build_cached == true, "the second run reuses the build")
        #expect(second.order == "model", "history makes the model the default")
        let shown = try show(second.run)
        #expect(shown.run.requested_order.first?.hasSuffix("test_always_fails") == true,
                "the test that failed last time runs first: \(shown.run.requested_order.prefix(3))")
        let h = try repro(["test", "history", recipe, "--store", store])
        #expect(h.status == 0 && h.out.split(separator: "\n").count == 3, "\(h.out)")
        // Export: JUnit XML and the JSON lines rank eval reads.
        #expect(try repro(["test", "export", String(second.run), "--store", store, "--junit", dir + "/j.xml"]).status == 0)
        let xml = try String(contentsOfFile: dir + "/j.xml", encoding: .utf8)
        #expect(xml.contains("<testsuite name=\"proj\" tests=\"16\" failures=\"1\""), "\(xml.prefix(300))")
        #expect(try repro(["test", "export", String(second.run), "--store", store, "--jsonl", dir + "/h.jsonl", "--all"]).status == 0)
        let eval = try repro(["rank", "eval", "--replay", dir + "/h.jsonl", "--format", "jsonl"])
        #expect(eval.status == 0, "\(eval.stderr)")
    }

    /// A change to a module no test is named after: the tests whose file imports it
    /// (here through another module) run first, before tests named like nothing that
    /// changed. repro reads the imports from the tree the suite runs in.
    @Test func aChangedModuleRunsTheTestsThatImportItFirst() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pkg = dir + "/r/proj/pkg"
        try FileManager.default.createDirectory(atPath: pkg, withIntermediateDirectories: true)
        try "".write(toFile: pkg + "/__init__.py", atomically: true, encoding: .utf8)
        try "LIMIT = 10\n".write(toFile: pkg + "/base.py", atomically: true, encoding: .utf8)
        try "from .base import LIMIT\ndef clamp(x):\n    return min(x, LIMIT)\n".write(toFile: pkg + "/mid.py", atomically: true, encoding: .utf8)
        try "".write(toFile: dir + "/r/proj/conftest.py", atomically: true, encoding: .utf8)
        var tests = Self.many
        tests["test_zclamp.py"] = "from pkg.mid import clamp\n\ndef test_clamp_small():\n    assert clamp(3) == 3\n\ndef test_clamp_large():\n    assert clamp(30) == 10\n"
        let recipe = try project(tests)
        for _ in 0..<2 {
            let r = try repro(["test", recipe, "--store", store, "--json"])
            #expect(try summary(r).failed == 0, "\(r.stderr)")
        }
        // The change: base.py's limit, which breaks one test of test_zclamp.py.
        try "LIMIT = 20\n".write(toFile: pkg + "/base.py", atomically: true, encoding: .utf8)
        #expect(try repro(["lock", recipe, "--store", store]).status == 0)
        let r = try repro(["test", recipe, "--store", store, "--json"])
        let s = try summary(r)
        #expect(s.failed == 1, "\(r.stderr)")
        let shown = try show(s.run)
        #expect(shown.run.order_strategy == "model")
        // The graph is kept in the store (pinned) under the digest the run row names.
        let graphDigest = try #require(shown.run.imports_graph)
        #expect(try repro(["store", "gc", "--store", store]).status == 0)
        let hex = String(graphDigest.split(separator: ":")[1].prefix(64))
        let blob = try #require(FileManager.default.enumerator(atPath: store)?.allObjects
            .compactMap { $0 as? String }.first { $0.hasSuffix("/" + hex) })
        let graph = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: store + "/" + blob))) as? [String: Any]
        let edges = graph?["imports"] as? [String: [String]]
        #expect(edges?["proj/tests/test_zclamp.py"] == ["proj/pkg/mid.py"] && edges?["proj/pkg/mid.py"] == ["proj/pkg/base.py"], "\(String(describing: edges))")
        #expect(try show(1).run.imports_graph == nil, "no change, no graph")
        #expect(shown.run.requested_order.prefix(2).allSatisfy { $0.hasPrefix("tests/test_zclamp.py::") },
                "the tests that import the changed module run first: \(shown.run.requested_order.prefix(4))")
        // With --select, a change to mid.py (which never changed before, so no earlier
        // failure ties it to anything) selects the tests that import it.
        try "from .base import LIMIT\ndef clamp(x):\n    return max(0, min(x, LIMIT))\n".write(toFile: pkg + "/mid.py", atomically: true, encoding: .utf8)
        #expect(try repro(["lock", recipe, "--store", store]).status == 0)
        struct Sel: Decodable { var run: Int; var tests: Int; var not_selected: Int; var selection: String? }
        let sel = try JSONDecoder().decode(Sel.self, from: try repro(["test", recipe, "--store", store, "--select", "count:2", "--json"]).stdout)
        let picked = try show(sel.run).executions.filter { $0.verdict != "not-selected" }.map(\.test)
        #expect(sel.selection == "count:2" && Set(picked) == ["tests/test_zclamp.py::test_clamp_small", "tests/test_zclamp.py::test_clamp_large"],
                "\(sel) \(picked)")
        // A source edit re-pins the path input in the lock, and that alone is no reason
        // to run everything; a change to the recipe's build is.
        let text = try String(contentsOfFile: recipe, encoding: .utf8)
        let edited = text.replacingOccurrences(of: "$REPRO_OUT/proj\n", with: "$REPRO_OUT/proj && true\n")
        #expect(edited != text)
        try edited.write(toFile: recipe, atomically: true, encoding: .utf8)
        #expect(try repro(["lock", recipe, "--store", store]).status == 0)
        let full = try JSONDecoder().decode(Sel.self, from: try repro(["test", recipe, "--store", store, "--select", "count:2", "--json"]).stdout)
        #expect(full.selection?.hasPrefix("full") == true && full.not_selected == 0, "\(full)")
    }

    @Test func killNineKeepsWhatWasRecordedAndReadsInterrupted() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var tests: [String: String] = [:]
        for i in 0..<6 { tests["test_s\(i).py"] = "import time\n\ndef test_slow():\n    time.sleep(1)\n" }
        let recipe = try project(tests)
        _ = try repro(["build", recipe, "--store", store])
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TestKit.repro)
        p.arguments = ["test", recipe, "--store", store, "--order", "original"]
        p.environment = env
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Wait for two committed tests, then kill -9.
        let deadline = Date().addingTimeInterval(60)
        var recorded = 0
        while Date() < deadline, recorded < 2 {
            usleep(200_000)
            let out = try? repro(["test", "show", "1", "--store", store, "--json"])
            if let out, out.status == 0, let s = try? JSONDecoder().decode(Show.self, from: out.stdout) { recorded = s.executions.count }
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let shown = try show(1)
        #expect(shown.executions.count >= 2, "what was committed stays")
        #expect(shown.run.status == "interrupted")
        #expect(try repro(["store", "verify", "--store", store]).status == 0)
    }

    @Test func sigintStopsTheRunAsInterrupted() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var tests: [String: String] = [:]
        for i in 0..<6 { tests["test_s\(i).py"] = "import time\n\ndef test_slow():\n    time.sleep(1)\n" }
        let recipe = try project(tests)
        _ = try repro(["build", recipe, "--store", store])
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TestKit.repro)
        p.arguments = ["test", recipe, "--store", store, "--order", "original"]
        p.environment = env
        p.standardError = FileHandle.nullDevice
        try p.run()
        var recorded = 0
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, recorded < 1 {
            usleep(200_000)
            if let out = try? repro(["test", "show", "1", "--store", store, "--json"]), out.status == 0,
               let s = try? JSONDecoder().decode(Show.self, from: out.stdout) { recorded = s.executions.count }
        }
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        #expect(p.terminationStatus == 130)
        let shown = try show(1)
        #expect(shown.run.status == "interrupted")
        #expect(shown.executions.count < 6)
        #expect(try repro(["store", "verify", "--store", store]).status == 0)
        let left = (try? FileManager.default.contentsOfDirectory(atPath: store + "/tmp")) ?? []
        #expect(left.isEmpty, "\(left)")
    }

    @Test func selectRunsAPrefixAndRecordsTheRestAsNotSelected() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var tests = Self.many
        tests["test_fail.py"] = "def test_always_fails():\n    assert False\n"
        let recipe = try project(tests)
        struct S: Decodable { var run: Int; var tests: Int; var not_selected: Int; var selection: String?; var failed: Int }
        // No full run yet: --select runs everything once and says why.
        let first = try JSONDecoder().decode(S.self, from: try repro(["test", recipe, "--store", store, "--select", "count:3", "--json"]).stdout)
        #expect(first.not_selected == 0 && first.selection?.hasPrefix("full") == true, "\(first)")
        // One more run for the model to learn from (a model needs a run with history
        // behind it before its features say anything).
        _ = try repro(["test", recipe, "--store", store])
        let second = try JSONDecoder().decode(S.self, from: try repro(["test", recipe, "--store", store, "--select", "count:3", "--json"]).stdout)
        #expect(second.tests == 3 && second.not_selected == 13, "\(second)")
        #expect(second.selection == "count:3")
        #expect(second.failed == 1, "the test that failed before is in the prefix")
        let shown = try show(second.run)
        #expect(shown.executions.filter { $0.verdict == "not-selected" }.count == 13)
        // A selecting run that runs everything (here: every run, --full-every 1) checks
        // the selection it did not apply against the verdicts.
        struct Check: Decodable { var budget: String; var kept: Int; var tests: Int; var time_share: Double; var failing: Int; var caught: Int }
        struct F: Decodable { var selection: String?; var not_selected: Int; var selection_check: Check? }
        let fullRun = try repro(["test", recipe, "--store", store, "--select", "count:3", "--full-every", "1", "--json"])
        let full = try JSONDecoder().decode(F.self, from: fullRun.stdout)
        #expect(full.selection?.hasPrefix("full") == true && full.not_selected == 0, "\(full)")
        let check = try #require(full.selection_check, "\(fullRun.stderr)")
        #expect(check.budget == "count:3" && check.kept == 3 && check.tests == 16, "\(check)")
        #expect(check.failing == 1 && check.caught == 1, "the test that always fails is among the three: \(check)")
        #expect(check.time_share > 0 && check.time_share < 1)
        let human = try repro(["test", recipe, "--store", store, "--select", "count:3", "--full-every", "1"])
        #expect(human.stderr.contains("selection check: --select count:3 would have run 3 of 16 tests"), "\(human.stderr)")
        #expect(human.stderr.contains("caught 1 of 1 failing test"))
        // A run that selected has no check.
        let partial = try JSONDecoder().decode(F.self, from: try repro(["test", recipe, "--store", store, "--select", "count:3", "--json"]).stdout)
        #expect(partial.selection == "count:3" && partial.selection_check == nil, "\(partial)")
        // The history lists each run's selection and sums up the checks.
        let h = try repro(["test", "history", recipe, "--store", store])
        #expect(h.out.contains("count:3, 13 left out"), "\(h.out)")
        #expect(h.out.contains("full; count:3 would keep 3/16 ("), "\(h.out)")
        #expect(h.out.contains("catch 1/1 failing"), "\(h.out)")
        #expect(h.out.contains("the budget would have kept") && h.out.contains("caught a failure in"), "\(h.out)")
        // A bad budget is a usage error.
        #expect(try repro(["test", recipe, "--store", store, "--select", "recall:2"]).status == 2)
    }
}
