import Foundation
import TestKit
import Testing

/// `repro test` with the ctest and junit frameworks, end to end over the host toolchain
/// (cmake, cc and ctest from the host's /usr, bound read-only).
@Suite(.serialized, .tags(.sandbox)) struct TestFrameworksTests {
    let dir: String
    let env: [String: String]
    var store: String { dir + "/store" }

    init() throws {
        dir = NSTemporaryDirectory() + "repro-test-fw-\(getpid())-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: dir + "/r/proj", withIntermediateDirectories: true)
        var e = ["HOME": dir, "XDG_CONFIG_HOME": dir + "/config", "PATH": "/usr/local/bin:/usr/bin:/bin"]
        if let t = TestKit.testexec { e["REPRO_TESTEXEC"] = t }
        env = e
    }

    func repro(_ args: [String]) throws -> TestKit.Output {
        try TestKit.run([TestKit.repro] + args, environment: env)
    }

    struct Exec: Decodable { var test: String; var verdict: String; var executed_pos: Int?; var user_ms: Double?; var max_rss_kb: Int64?; var exit_status: Int32? }
    struct Show: Decodable {
        struct Run: Decodable { var requested_order: [String]; var status: String }
        var run: Run
        var executions: [Exec]
    }
    struct Summary: Decodable { var run: Int; var tests: Int; var passed: Int; var failed: Int }

    func show(_ run: Int) throws -> Show {
        try JSONDecoder().decode(Show.self, from: try repro(["test", "show", String(run), "--store", store, "--json"]).stdout)
    }

    func write(_ name: String, _ text: String) throws {
        try text.write(toFile: dir + "/r/" + name, atomically: true, encoding: .utf8)
    }

    @Test func ctestSuiteRunsEachTestAsItsOwnProcessInTheRequestedOrder() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try write("proj/t.c", """
        #include <stdlib.h>
        #include <string.h>
        #include <unistd.h>
        #include <signal.h>
        int main(int argc, char **argv) {
            const char *m = argv[1];
            if (!strcmp(m, "ok")) return 0;
            if (!strcmp(m, "fail")) return 1;
            if (!strcmp(m, "crash")) { raise(SIGSEGV); return 0; }
            if (!strcmp(m, "hang")) { sleep(600); return 0; }
            if (!strcmp(m, "mem")) { size_t n = 64 << 20; char *p = malloc(n); memset(p, 1, n); return p[n - 1] == 1 ? 0 : 2; }
            if (!strcmp(m, "env")) { const char *v = getenv("FROM_CTEST"); return v && !strcmp(v, "yes") ? 0 : 1; }
            return 3;
        }
        """)
        try write("proj/CMakeLists.txt", """
        cmake_minimum_required(VERSION 3.13)
        project(t C)
        enable_testing()
        add_executable(t t.c)
        foreach(n ok1 ok2 ok3)
          add_test(NAME ${n} COMMAND t ok)
        endforeach()
        add_test(NAME fails COMMAND t fail)
        add_test(NAME expected_failure COMMAND t fail)
        set_tests_properties(expected_failure PROPERTIES WILL_FAIL TRUE)
        add_test(NAME crashes COMMAND t crash)
        add_test(NAME hangs COMMAND t hang)
        set_tests_properties(hangs PROPERTIES TIMEOUT 2)
        add_test(NAME big COMMAND t mem)
        add_test(NAME envtest COMMAND t env)
        set_tests_properties(envtest PROPERTIES ENVIRONMENT "FROM_CTEST=yes")
        """)
        try write("proj.toml", """
        name = "cproj"
        [toolchain]
        host = true
        [inputs.proj]
        path = "proj"
        [build]
        script = '''
        cmake -S /build/src/proj -B /build/bld >/dev/null
        make -C /build/bld >/dev/null
        cp /build/bld/t $REPRO_OUT/
        '''
        [test]
        framework = "ctest"
        directory = "/build/bld"
        """)
        #expect(try repro(["lock", dir + "/r/proj.toml", "--store", store]).status == 0)
        let r = try repro(["test", dir + "/r/proj.toml", "--store", store, "--order", "random:3", "--json"])
        #expect(r.status == 1, "\(r.stderr)")
        let s = try JSONDecoder().decode(Summary.self, from: r.stdout)
        #expect(s.tests == 9)
        let shown = try show(s.run)
        let v = Dictionary(uniqueKeysWithValues: shown.executions.map { ($0.test, $0.verdict) })
        #expect(v == ["ok1": "pass", "ok2": "pass", "ok3": "pass", "fails": "fail", "expected_failure": "pass",
                      "crashes": "crashed", "hangs": "timeout", "big": "pass", "envtest": "pass"], "\(v)")
        let executed = shown.executions.sorted { $0.executed_pos! < $1.executed_pos! }.map(\.test)
        #expect(executed == shown.run.requested_order)
        let big = try #require(shown.executions.first { $0.test == "big" })
        #expect((big.max_rss_kb ?? 0) > 60 * 1024, "wait4 sees the test's own 64 MiB: \(big.max_rss_kb ?? 0)")
        #expect(shown.executions.first { $0.test == "fails" }?.exit_status == 1)
    }

    @Test func junitReportsAreImportedAndMalformedOnesKeepWhatWasRead() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try write("proj/ok.xml", """
        <?xml version="1.0"?>
        <testsuites><testsuite name="s" tests="3">
          <testcase classname="pkg.A" name="one" time="0.5"/>
          <testcase classname="pkg.A" name="two" time="0.25"><failure message="boom">trace</failure></testcase>
          <testcase classname="pkg.B" name="three"><skipped/></testcase>
        </testsuite></testsuites>
        """)
        try write("proj/bad.xml", """
        <testsuites><testsuite name="s">
          <testcase classname="pkg.C" name="kept" time="0.1"/>
          <testcase classname="pkg.C" name="broken" <oops>
        """)
        func recipe(_ name: String, _ report: String) throws -> String {
            try write("\(name).toml", """
            name = "\(name)"
            [toolchain]
            host = true
            [inputs.proj]
            path = "proj"
            [build]
            script = "true"
            [test]
            framework = "junit"
            script = "cp /build/src/proj/\(report) /build/report.xml"
            reports = ["/build/report.xml"]
            """)
            #expect(try repro(["lock", dir + "/r/\(name).toml", "--store", store]).status == 0)
            return dir + "/r/\(name).toml"
        }
        let r = try repro(["test", try recipe("good", "ok.xml"), "--store", store, "--json"])
        #expect(r.status == 1, "one failure in the report: \(r.stderr)")
        let s = try JSONDecoder().decode(Summary.self, from: r.stdout)
        #expect(s.tests == 3 && s.passed == 1 && s.failed == 1)
        let bad = try repro(["test", try recipe("bad", "bad.xml"), "--store", store])
        #expect(bad.status == 2, "\(bad.stderr)")
        #expect(bad.stderr.contains("/build/report.xml:3:"), "the error names the report and the line: \(bad.stderr)")
        let h = try repro(["test", "history", "bad", "--store", store, "--json"])
        struct H: Decodable { var run: Int; var status: String; var passed: Int }
        let runs = try JSONDecoder().decode([H].self, from: h.stdout)
        #expect(runs.first?.status == "error" && runs.first?.passed == 1, "the test read before the error is kept: \(h.out)")
    }
}
