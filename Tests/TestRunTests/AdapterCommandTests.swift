import Foundation
import TestKit
import Testing

/// `repro test` end to end for the ctest and junit adapters, over the host toolchain
/// (cmake, cc and python3 from the host's /usr, bound read-only): a CMake project built
/// by `repro build`, its ctest suite run through repro-testexec inside the sandbox; a
/// junit script whose reports are imported.
@Suite(.serialized) struct AdapterCommandTests {
    let dir: String
    let env: [String: String]
    var store: String { dir + "/store" }

    init() throws {
        dir = NSTemporaryDirectory() + "repro-adapter-cmd-\(getpid())-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: dir + "/r/proj", withIntermediateDirectories: true)
        env = ["HOME": dir, "XDG_CONFIG_HOME": dir + "/config", "PATH": "/usr/local/bin:/usr/bin:/bin",
               "REPRO_TESTEXEC": TestKit.testexec ?? "/nonexistent-testexec"]
    }

    func repro(_ args: [String]) throws -> TestKit.Output {
        try TestKit.run([TestKit.repro] + args, environment: env)
    }

    func recipe(build: String, test: String) throws -> String {
        try Support.hostRecipe(in: dir, build: build, test: test, repro: { try repro($0) }, store: store)
    }

    struct Show: Decodable {
        struct Run: Decodable { var status: String; var requested_order: [String]; var message: String? }
        struct Exec: Decodable {
            var test: String; var verdict: String; var executed_pos: Int?; var requested_pos: Int?
            var user_ms: Double?; var max_rss_kb: Int64?; var exit_status: Int?; var signal: Int?; var message: String?
        }
        var run: Run
        var executions: [Exec]
    }

    func show(_ run: Int) throws -> Show {
        let r = try repro(["test", "show", String(run), "--store", store, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        return try JSONDecoder().decode(Show.self, from: r.stdout)
    }

    @Test func ctestSuiteRunsTestByTestInTheRequestedOrder() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try (CTestTests.cmakeLists + "\nadd_test(NAME loud COMMAND t loud)\n")
            .write(toFile: dir + "/r/proj/CMakeLists.txt", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir + "/r/proj/sub", withIntermediateDirectories: true)
        try CTestTests.subLists.write(toFile: dir + "/r/proj/sub/CMakeLists.txt", atomically: true, encoding: .utf8)
        // `loud` writes 1 GiB to stdout: capped in its log, and the run goes on.
        let source = CTestTests.source.replacingOccurrences(of: "  return 2;\n}", with: """
          if (!strcmp(m, "loud")) { static char b[1 << 20]; memset(b, 'x', sizeof b); for (int i = 0; i < 1024; i++) fwrite(b, 1, sizeof b, stdout); return 0; }
          return 2;
        }
        """)
        try source.write(toFile: dir + "/r/proj/t.c", atomically: true, encoding: .utf8)
        let path = try recipe(build: """
            cmake -S /build/src/proj -B /build/b -DCMAKE_BUILD_TYPE=Release >/dev/null
            cmake --build /build/b >/dev/null
            cp /build/b/t $REPRO_OUT/t
            """, test: """
            framework = "ctest"
            directory = "/build/b"
            test-timeout = 30
            """)
        let r = try repro(["test", path, "--store", store, "--order", "random:7", "--json"])
        #expect(r.status == 1, "\(r.stderr)")
        let s = try show(1)
        #expect(s.run.status == "failed")
        // Every listed test ran once, in the order asked for.
        let executed = s.executions.sorted { ($0.executed_pos ?? -1) < ($1.executed_pos ?? -1) }.map(\.test)
        #expect(executed == s.run.requested_order)
        #expect(Set(executed).count == 14)
        #expect(s.run.requested_order != s.run.requested_order.sorted())
        let v = Dictionary(uniqueKeysWithValues: s.executions.map { ($0.test, $0.verdict) })
        #expect(v == ["passes": "pass", "fails": "fail", "crashes": "crashed", "hangs": "timeout", "expected_failure": "pass",
                      "unexpected_pass": "fail", "skipped": "skip", "env": "pass", "wd": "pass", "off": "skip",
                      "name with spaces": "pass", "sub_passes": "pass", "regex": "pass", "loud": "pass"])
        let byId = Dictionary(uniqueKeysWithValues: s.executions.map { ($0.test, $0) })
        #expect(byId["crashes"]?.signal == 11)
        #expect(byId["fails"]?.exit_status == 1)
        #expect(byId["fails"]?.message?.contains("failing") == true)
        // wait4 inside the sandbox: CPU and peak RSS of each test's own process.
        #expect(byId["passes"]?.user_ms != nil && (byId["passes"]?.max_rss_kb ?? 0) > 0)
        #expect(r.stderr.contains("PASS_REGULAR_EXPRESSION"))

        // --filter: a subset, same rules.
        let f = try repro(["test", path, "--store", store, "--filter", "pass*", "--order", "original"])
        #expect(f.status == 0, "\(f.stderr)")
        #expect(try show(2).executions.map(\.test) == ["passes"])
    }

    @Test func junitReportsAreImportedAndMalformedOnesKeepWhatCameBefore() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "x".write(toFile: dir + "/r/proj/x", atomically: true, encoding: .utf8)
        let good = #"<testsuite><testcase classname='c' name='a' time='0.5'/><testcase classname='c' name='b'><failure message='no'>trace</failure></testcase></testsuite>"#
        let bad = "<testsuites>\\n<testsuite>\\n<testcase name='c'/>\\n<testcase name='d' <oops/>\\n"
        var path = try recipe(build: "cp /build/src/proj/x $REPRO_OUT/x", test: """
            framework = "junit"
            reports = ["/build/one.xml"]
            script = \"\"\"
            printf "%s" "\(good)" > /build/one.xml
            \"\"\"
            """)
        let r = try repro(["test", path, "--store", store, "--json"])
        #expect(r.status == 1, "\(r.stderr)")
        var s = try show(1)
        #expect(s.executions.map(\.test) == ["c::a", "c::b"])
        #expect(s.executions.map(\.verdict) == ["pass", "fail"])
        #expect(s.executions[1].message?.contains("trace") == true)

        path = try recipe(build: "cp /build/src/proj/x $REPRO_OUT/x", test: """
            framework = "junit"
            reports = ["/build/one.xml", "/build/two.xml"]
            script = \"\"\"
            printf "%s" "\(good)" > /build/one.xml
            printf "\(bad)" > /build/two.xml
            \"\"\"
            """)
        let m = try repro(["test", path, "--store", store])
        #expect(m.status == 2, "\(m.stderr)")
        #expect(m.stderr.contains("/build/two.xml:4:"), "\(m.stderr)")
        s = try show(2)
        #expect(s.run.status == "error")
        #expect(s.executions.map(\.test) == ["c::a", "c::b", "c"])
    }
}
