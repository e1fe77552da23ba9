import Core
import Foundation
import Testing
import TestKit
@testable import TestRun

/// Runs real pytest on the host with the plugin on a generated suite. Debian's
/// python3-pytest (7.2 on bookworm; scripts/test installs it) always; a newer pytest too
/// when scripts/test made its venv ($REPRO_PYTEST_PYTHON).
@Suite(.serialized, .tags(.sandbox)) struct PytestPluginTests {
    static let suite = #"""
    import os, pytest

    @pytest.fixture
    def bad_setup():
        raise RuntimeError("setup broke")

    @pytest.fixture
    def bad_teardown():
        yield
        raise RuntimeError("teardown broke")

    def test_pass(): pass
    def test_fail(): assert 1 == 2, "x" * 10000
    def test_setup_error(bad_setup): pass
    def test_teardown_error(bad_teardown): pass
    def test_skip(): pytest.skip("not today")
    @pytest.mark.xfail(reason="known")
    def test_xfail(): assert False
    @pytest.mark.xfail(strict=True)
    def test_xpass_strict(): pass
    @pytest.mark.xfail
    def test_xpass(): pass
    def test_memory():
        b = bytearray(64 * 1024 * 1024)
        for i in range(0, len(b), 4096): b[i] = 1
    def test_cpu():
        x = 0
        for i in range(3_000_000): x += i
    @pytest.mark.parametrize("v", [1, "a b"])
    def test_param(v): pass
    def test_exit(): os._exit(3)
    def test_after_exit(): pass
    """#

    static var interpreters: [String] {
        ["/usr/bin/python3"] + [ProcessInfo.processInfo.environment["REPRO_PYTEST_PYTHON"]].compactMap { $0 }
    }

    struct Run {
        var status: Int32
        var records: [TestRecord]
        var output: String
    }

    /// Writes the suite and the plugin, the order (a file, a FIFO or nothing), and runs pytest.
    static func run(python: String, order: [String]?, fifo: Bool = false, env extra: [String: String] = [:],
                    reproDir: Bool = true) throws -> Run {
        let dir = try TestKit.tempDir("pytest-plugin")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Support.write(suite, to: dir + "/proj/tests/test_a.py")
        try PytestPlugin.write(to: dir + "/lib")
        try FileManager.default.createDirectory(atPath: dir + "/run", withIntermediateDirectories: true)
        let orderText = order.map { $0.map { $0 + "\n" }.joined() }
        var writer: Thread?
        if let orderText {
            if fifo {
                #expect(mkfifo(dir + "/run/order", 0o600) == 0)
                // The reader blocks in open until this writer opens: repro's side of the FIFO.
                let t = Thread {
                    let fd = open(dir + "/run/order", O_WRONLY)
                    _ = orderText.withCString { write(fd, $0, strlen($0)) }
                    close(fd)
                }
                t.start()
                writer = t
            } else {
                try Support.write(orderText, to: dir + "/run/order")
            }
        }
        var env = ["PATH": "/usr/bin:/bin", "PYTHONPATH": dir + "/lib", "HOME": dir, "LANG": "C.UTF-8"]
        if reproDir { env["REPRO_TEST_DIR"] = dir + "/run" }
        env.merge(extra) { $1 }
        let r = try Support.run([python, "-m", "pytest", "-p", PytestPlugin.moduleName, "-p", "no:cacheprovider",
                                 "-q", "tests"], environment: env, cwd: dir + "/proj")
        _ = writer
        let path = dir + "/run/records.jsonl"
        let records = FileManager.default.fileExists(atPath: path) ? try Support.records(path) : []
        return Run(status: r.status, records: records, output: r.out + r.stderr)
    }

    static let t = "tests/test_a.py::"

    @Test(arguments: interpreters) func honoursOrderAndReportsVerdicts(python: String) throws {
        let order = ["test_fail", "test_pass", "nothere", "test_setup_error", "test_teardown_error", "test_skip",
                     "test_xfail", "test_xpass_strict", "test_xpass", "test_memory", "test_cpu", "test_param[a b]",
                     "test_exit", "test_after_exit"].map { Self.t + $0 }
        let run = try Self.run(python: python, order: order)
        // os._exit(3) ends pytest with that status and no `done`.
        #expect(run.status == 3, "\(run.output)")
        guard case .collected(let tests)? = run.records.first else {
            Issue.record("first record is not `collected`: \(run.records)"); return
        }
        #expect(tests.count == 14)
        #expect(tests.allSatisfy { $0.file == "tests/test_a.py" })
        #expect(run.records.contains(.missing(id: Self.t + "nothere")))
        // Exactly the requested ids that exist, in the requested order, up to the crash.
        let executed = order.filter { $0 != Self.t + "nothere" }.prefix(while: { $0 != Self.t + "test_after_exit" })
        #expect(Support.starts(run.records) == Array(executed))
        let positions = run.records.compactMap { if case .start(_, let p) = $0 { return p } else { return nil } }
        #expect(positions == Array(0..<executed.count))
        let results = Support.results(run.records)
        let expected: [String: TestVerdict] = [
            "test_fail": .fail, "test_pass": .pass, "test_setup_error": .error, "test_teardown_error": .error,
            "test_skip": .skip, "test_xfail": .skip, "test_xpass_strict": .fail, "test_xpass": .pass,
            "test_memory": .pass, "test_cpu": .pass, "test_param[a b]": .pass,
        ]
        for (name, verdict) in expected {
            #expect(results[Self.t + name]?.verdict == verdict, "\(name): \(String(describing: results[Self.t + name]))")
        }
        // The crashed test has its start and no result; nothing after it ran; no `done`.
        #expect(results[Self.t + "test_exit"] == nil)
        #expect(results[Self.t + "test_after_exit"] == nil)
        #expect(!run.records.contains(.done))
        // Timings and resources are measured for every finished test.
        for r in results.values {
            #expect(r.wallMs > 0 && r.setupMs != nil && r.teardownMs != nil && r.userMs != nil && r.sysMs != nil)
            #expect((r.maxRssKb ?? 0) > 1000)
            #expect(r.file == "tests/test_a.py")
        }
        #expect(results[Self.t + "test_setup_error"]?.callMs == nil)
        #expect(results[Self.t + "test_pass"]?.callMs != nil)
        // 64 MiB touched by test_memory shows in its own peak, not in the next test's.
        let mem = try #require(results[Self.t + "test_memory"]?.maxRssKb)
        let cpuTestRss = try #require(results[Self.t + "test_cpu"]?.maxRssKb)
        #expect(mem > 60_000)
        #expect(cpuTestRss < mem - 40_000, "VmHWM was not reset between tests: \(cpuTestRss) vs \(mem)")
        let cpu = try #require(results[Self.t + "test_cpu"])
        #expect((cpu.userMs ?? 0) + (cpu.sysMs ?? 0) > 1)
        // Messages: the failure text, capped at the record's limit.
        let fail = try #require(results[Self.t + "test_fail"]?.message)
        #expect(fail.utf8.count <= TestRecord.messageLimit && fail.utf8.count > 1000)
        #expect(results[Self.t + "test_setup_error"]?.message?.contains("setup broke") == true)
        #expect(results[Self.t + "test_teardown_error"]?.message?.contains("teardown broke") == true)
        #expect(results[Self.t + "test_skip"]?.message?.contains("not today") == true)
        #expect(results[Self.t + "test_xfail"]?.message?.contains("known") == true)
    }

    @Test(arguments: interpreters) func readsTheOrderFromAFIFOAndEndsWithDone(python: String) throws {
        let order = ["test_param[1]", "test_pass", "test_param[a b]"].map { Self.t + $0 }
        let run = try Self.run(python: python, order: order, fifo: true)
        #expect(run.status == 0, "\(run.output)")
        #expect(Support.starts(run.records) == order)
        #expect(Support.results(run.records).values.allSatisfy { $0.verdict == .pass })
        #expect(run.records.last == .done)
        #expect(run.output.contains("deselected"))
    }

    @Test func withoutAnOrderFileRunsTheCollectedOrder() throws {
        let run = try Self.run(python: "/usr/bin/python3", order: nil, env: ["PYTEST_ADDOPTS": "-k 'not exit'"])
        #expect(run.status == 1, "\(run.output)")
        guard case .collected(let tests)? = run.records.first else { Issue.record("no collected record"); return }
        #expect(Support.starts(run.records) == tests.map(\.id))
        #expect(tests.count == 12)  // -k 'not exit' also deselects test_after_exit
        #expect(run.records.last == .done)
    }

    @Test func filesUnderTheSourceRootAreNamedRelativeToIt() throws {
        // Inside the sandbox the root is /build/src; here the temporary folder's parent.
        let root = (NSTemporaryDirectory() as NSString).standardizingPath
        let run = try Self.run(python: "/usr/bin/python3", order: [Self.t + "test_pass"], env: ["REPRO_SOURCE_ROOT": root])
        guard case .collected(let tests)? = run.records.first else { Issue.record("no collected record"); return }
        let file = try #require(tests.first?.file)
        #expect(file.hasPrefix("pytest-plugin-") && file.hasSuffix("/proj/tests/test_a.py"), "\(file)")
        #expect(Support.results(run.records)[Self.t + "test_pass"]?.file == file)
    }

    @Test func withoutReproTestDirItDoesNothing() throws {
        let run = try Self.run(python: "/usr/bin/python3", order: [Self.t + "test_pass"], reproDir: false)
        #expect(run.records.isEmpty)
        // Every test ran, in pytest's own order, up to os._exit.
        #expect(run.status == 3)
        #expect(!run.output.contains("deselected"))
    }

    @Test func aFileThatDoesNotImportIsAnError() throws {
        let dir = try TestKit.tempDir("pytest-plugin-bad")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Support.write("import nosuchmodule_x\ndef test_a(): pass\n", to: dir + "/proj/tests/test_bad.py")
        try Support.write("def test_ok(): pass\n", to: dir + "/proj/tests/test_ok.py")
        try PytestPlugin.write(to: dir + "/lib")
        try FileManager.default.createDirectory(atPath: dir + "/run", withIntermediateDirectories: true)
        let r = try Support.run(["/usr/bin/python3", "-m", "pytest", "-p", PytestPlugin.moduleName, "-q", "tests"],
                                environment: ["PATH": "/usr/bin:/bin", "PYTHONPATH": dir + "/lib",
                                              "REPRO_TEST_DIR": dir + "/run", "HOME": dir],
                                cwd: dir + "/proj")
        #expect(r.status == 2)
        let records = try Support.records(dir + "/run/records.jsonl")
        let bad = Support.results(records)["tests/test_bad.py"]
        #expect(bad?.verdict == .error)
        #expect(bad?.message?.contains("nosuchmodule_x") == true)
        #expect(records.last == .done)
    }
}
