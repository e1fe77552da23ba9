import Core
import Foundation
import Testing
import TestKit
@testable import TestRun

/// A real CMake project built on the host: its `ctest --show-only=json-v1` listing
/// parsed, run through repro-testexec, and the verdicts compared with bare ctest's.
@Suite(.serialized, .tags(.sandbox)) struct CTestTests {
    static let cmakeLists = """
    cmake_minimum_required(VERSION 3.19)
    project(demo C)
    enable_testing()
    add_executable(t t.c)
    add_test(NAME passes COMMAND t pass)
    add_test(NAME fails COMMAND t fail)
    add_test(NAME crashes COMMAND t crash)
    add_test(NAME hangs COMMAND t hang)
    set_tests_properties(hangs PROPERTIES TIMEOUT 1)
    add_test(NAME expected_failure COMMAND t fail)
    set_tests_properties(expected_failure PROPERTIES WILL_FAIL TRUE)
    add_test(NAME unexpected_pass COMMAND t pass)
    set_tests_properties(unexpected_pass PROPERTIES WILL_FAIL ON)
    add_test(NAME skipped COMMAND t skip)
    set_tests_properties(skipped PROPERTIES SKIP_RETURN_CODE 77)
    add_test(NAME env COMMAND t env)
    set_tests_properties(env PROPERTIES ENVIRONMENT "DEMO_A=1;DEMO_B=two words")
    add_test(NAME wd COMMAND t wd)
    set_tests_properties(wd PROPERTIES WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
    add_test(NAME off COMMAND t pass)
    set_tests_properties(off PROPERTIES DISABLED TRUE)
    add_test(NAME "name with spaces" COMMAND t pass)
    add_subdirectory(sub)
    """
    static let subLists = """
    add_test(NAME sub_passes COMMAND t pass)
    add_test(NAME regex COMMAND t pass)
    set_tests_properties(regex PROPERTIES PASS_REGULAR_EXPRESSION "ok")
    """
    static let source = """
    #include <signal.h>
    #include <stdio.h>
    #include <stdlib.h>
    #include <string.h>
    #include <unistd.h>
    int main(int argc, char **argv) {
      const char *m = argv[1];
      if (!strcmp(m, "pass")) return 0;
      if (!strcmp(m, "fail")) { puts("failing"); return 1; }
      if (!strcmp(m, "crash")) raise(SIGSEGV);
      if (!strcmp(m, "hang")) sleep(60);
      if (!strcmp(m, "skip")) return 77;
      if (!strcmp(m, "env")) return !(getenv("DEMO_A") && getenv("DEMO_B") && !strcmp(getenv("DEMO_B"), "two words"));
      if (!strcmp(m, "wd")) return access("t.c", F_OK) != 0;
      return 2;
    }
    """

    /// Configures and builds the project; returns (source dir, build dir).
    static func project(_ dir: String) throws -> (String, String) {
        let src = dir + "/src", build = dir + "/build"
        try Support.write(cmakeLists, to: src + "/CMakeLists.txt")
        try Support.write(subLists, to: src + "/sub/CMakeLists.txt")
        try Support.write(source, to: src + "/t.c")
        let c = try Support.run(["cmake", "-S", src, "-B", build, "-DCMAKE_BUILD_TYPE=Release"])
        #expect(c.status == 0, "\(c.stderr)")
        let b = try Support.run(["cmake", "--build", build])
        #expect(b.status == 0, "\(b.stderr)")
        return (src, build)
    }

    /// Bare ctest's verdict per test, from its summary lines
    /// ("  3/13 Test  #3: crashes ..........***Exception: SegFault  0.00 sec").
    static func bareVerdicts(_ output: String) -> [String: TestVerdict] {
        var out: [String: TestVerdict] = [:]
        let re = try! NSRegularExpression(pattern: #"Test +#\d+: (.+?) \.+\s*(?:\*+)?(Passed|Failed|Exception|Timeout|Skipped|Not Run)"#)
        for line in output.split(separator: "\n").map(String.init) {
            guard let m = re.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)),
                  let n = Range(m.range(at: 1), in: line), let s = Range(m.range(at: 2), in: line) else { continue }
            let status = String(line[s])
            let v: TestVerdict
            if status.hasPrefix("Passed") { v = .pass }
            else if status.hasPrefix("Failed") { v = .fail }
            else if status.hasPrefix("Exception") { v = .crashed }
            else if status.hasPrefix("Timeout") { v = .timeout }
            else if status.hasPrefix("Skipped") || status.hasPrefix("Not Run") { v = .skip }
            else { v = .error }
            out[String(line[n])] = v
        }
        return out
    }

    @Test func listsRunsAndAgreesWithBareCTest() throws {
        let exe = try #require(TestKit.testexec)
        let dir = try TestKit.tempDir("ctest")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (src, build) = try Self.project(dir)
        let listing = try Support.run(CTest.listCommand, cwd: build)
        #expect(listing.status == 0, "\(listing.stderr)")
        let parsed = try CTest.parse(listing.stdout, defaultTimeout: 30, sourceRoot: src)
        let names = ["passes", "fails", "crashes", "hangs", "expected_failure", "unexpected_pass", "skipped", "env",
                     "wd", "off", "name with spaces", "sub_passes", "regex"]
        #expect(parsed.tests.map(\.id) == names)
        #expect(parsed.tests.first?.file == "CMakeLists.txt")
        #expect(parsed.tests.first { $0.id == "sub_passes" }?.file == "sub/CMakeLists.txt")
        #expect(parsed.unsupported == ["regex": ["PASS_REGULAR_EXPRESSION"]])
        let byId = Dictionary(uniqueKeysWithValues: parsed.plan.entries.map { ($0.id, $0) })
        #expect(byId["hangs"]?.timeout == 1)
        #expect(byId["passes"]?.timeout == 30)
        #expect(byId["expected_failure"]?.willFail == true)
        #expect(byId["skipped"]?.skipReturnCode == 77)
        #expect(byId["env"]?.env == ["DEMO_A=1", "DEMO_B=two words"])
        #expect(byId["wd"]?.cwd == src)
        #expect(byId["passes"]?.cwd == build)
        #expect(byId["off"]?.disabled == true)
        #expect(byId["passes"]?.argv == [build + "/t", "pass"])

        // Run in reverse order through testexec; the executed order is the plan's.
        let (plan, missing) = parsed.plan.ordered(by: names.reversed() + ["not-a-test"])
        #expect(missing == ["not-a-test"])
        try plan.write(to: dir + "/plan")
        try FileManager.default.createDirectory(atPath: dir + "/run", withIntermediateDirectories: true)
        let r = try Support.run([exe, dir + "/plan"], environment: ["REPRO_TEST_DIR": dir + "/run", "PATH": "/usr/bin:/bin"])
        #expect(r.status == 0, "\(r.stderr)")
        let records = try Support.records(dir + "/run/records.jsonl")
        #expect(Support.starts(records) == names.reversed())
        let ours = Support.results(records).mapValues(\.verdict)

        let bare = try Support.run(["ctest", "--timeout", "30"], cwd: build)
        let theirs = Self.bareVerdicts(bare.out)
        #expect(theirs.count == names.count, "\(bare.out)")
        for name in names where name != "regex" {
            #expect(ours[name] == theirs[name], "\(name): repro \(String(describing: ours[name])), ctest \(String(describing: theirs[name]))")
        }
        #expect(ours["crashes"] == .crashed && ours["hangs"] == .timeout && ours["skipped"] == .skip)
        #expect(ours["expected_failure"] == .pass && ours["unexpected_pass"] == .fail && ours["off"] == .skip)
    }

    @Test func badListingsAreClearErrors() throws {
        for (text, needle) in [("", "no valid JSON"), ("{\"kind\": ", "no valid JSON"), ("Test project /x\n", "no valid JSON"),
                               (#"{"kind":"codemodel","tests":[]}"#, "ctestInfo"),
                               (#"{"kind":"ctestInfo","version":{"major":2,"minor":0},"tests":[]}"#, "json-v2"),
                               (#"{"kind":"ctestInfo","tests":[{"command":["a"]}]}"#, "no name"),
                               (#"{"kind":"ctestInfo"}"#, "tests is missing")] {
            do {
                _ = try CTest.parse(Data(text.utf8), defaultTimeout: 1)
                Issue.record("accepted \(text)")
            } catch let e as ReproError {
                #expect(e.code == .invalidInput)
                #expect(e.message.contains(needle), "\(e.message)")
            }
        }
    }

    @Test func propertiesInEveryShape() throws {
        let json = #"""
        {"kind":"ctestInfo","version":{"major":1,"minor":0},"tests":[
          {"name":"a","command":["x"],"properties":[{"name":"WILL_FAIL","value":"YES"},{"name":"TIMEOUT","value":"2.5"},
            {"name":"ENVIRONMENT","value":"A=1;B=2"},{"name":"SKIP_RETURN_CODE","value":4},{"name":"LABELS","value":["u"]}]},
          {"name":"b","properties":[{"name":"DISABLED","value":"OFF"},{"name":"TIMEOUT","value":0}]}]}
        """#
        let l = try CTest.parse(Data(json.utf8), defaultTimeout: 9)
        #expect(l.plan.entries[0] == TestExecPlan.Entry(id: "a", argv: ["x"], env: ["A=1", "B=2"], timeout: 2.5,
                                                         willFail: true, skipReturnCode: 4))
        #expect(l.plan.entries[1] == TestExecPlan.Entry(id: "b", argv: [], timeout: 0))
        #expect(l.tests == [TestCase(id: "a"), TestCase(id: "b")])
    }
}
