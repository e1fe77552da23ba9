import Core
import Foundation
import Sandbox
import Testing
import TestKit
@testable import TestRun

/// repro-testexec for real: directly on the host, and inside the launcher over the
/// host's /usr bound read-only, as the runner uses it.
@Suite(.serialized, .tags(.sandbox)) struct TestExecTests {
    static func sh(_ id: String, _ script: String, file: String? = nil) -> TestExecPlan.Entry {
        TestExecPlan.Entry(id: id, file: file, argv: ["/bin/sh", "-c", script])
    }

    /// One of every outcome the plan can produce.
    static var mixedPlan: TestExecPlan {
        var hang = sh("hang", "trap '' TERM; sleep 30")
        hang.timeout = 0.5
        var willFail = TestExecPlan.Entry(id: "will-fail", argv: ["false"])
        willFail.willFail = true
        var willFailPasses = TestExecPlan.Entry(id: "will-fail-but-passes", argv: ["true"])
        willFailPasses.willFail = true
        var skip = sh("skip", "exit 77")
        skip.skipReturnCode = 77
        var env = sh("env", "test \"$REPRO_X\" = 'a b' && test \"$(pwd)\" = /tmp && test \"$PATH\" = /usr/bin:/bin")
        env.env = ["REPRO_X=first", "REPRO_X=a b"]
        env.cwd = "/tmp"
        var nocwd = TestExecPlan.Entry(id: "no-cwd", argv: ["true"])
        nocwd.cwd = "/nonexistent-dir"
        let disabled = TestExecPlan.Entry(id: "disabled", argv: ["true"], disabled: true)
        return TestExecPlan(entries: [
            sh("pass", "echo fine", file: "tests/a.c"),
            sh("fail", "echo 'some \"output\"'; printf 'bad \\377 byte\\n' >&2; exit 3"),
            willFail, willFailPasses, skip,
            sh("segv", "kill -SEGV $$"),
            hang,
            TestExecPlan.Entry(id: "memory", argv: ["/usr/bin/python3", "-c", "b = b'x' * (64 << 20)"]),
            sh("1GB of output", "head -c 1073741824 /dev/zero"),
            sh("leaves a child", "sleep 4242 & echo started"),
            TestExecPlan.Entry(id: "no-such-program", argv: ["/nonexistent/prog"]),
            nocwd, env, disabled, TestExecPlan.Entry(id: "no command", argv: []),
            sh("id \"quoted\"\nnewline ünïcode", "true"),
        ], logLimit: 1 << 20, graceMs: 200)
    }

    static let expected: [String: TestVerdict] = [
        "pass": .pass, "fail": .fail, "will-fail": .pass, "will-fail-but-passes": .fail, "skip": .skip,
        "segv": .crashed, "hang": .timeout, "memory": .pass, "1GB of output": .pass, "leaves a child": .pass,
        "no-such-program": .error, "no-cwd": .error, "env": .pass, "disabled": .skip, "no command": .error,
        "id \"quoted\"\nnewline ünïcode": .pass,
    ]

    static func check(_ records: [TestRecord], logs: String) throws {
        let plan = mixedPlan
        #expect(Support.starts(records) == plan.entries.map(\.id))
        let positions = records.compactMap { if case .start(_, let p) = $0 { return p } else { return nil } }
        #expect(positions == Array(0..<plan.entries.count))
        #expect(records.last == .done)
        let results = Support.results(records)
        for (id, verdict) in expected {
            #expect(results[id]?.verdict == verdict, "\(id): \(String(describing: results[id]))")
        }
        #expect(results["pass"]?.file == "tests/a.c")
        #expect(results["pass"]?.exitStatus == 0)
        let fail = try #require(results["fail"])
        #expect(fail.exitStatus == 3)
        #expect(fail.message?.contains("exit status 3") == true)
        #expect(fail.message?.contains("some \"output\"") == true)
        #expect(fail.message?.contains("bad \u{FFFD} byte") == true)
        #expect(results["segv"]?.signal == SIGSEGV)
        #expect(results["hang"]?.signal == SIGKILL)
        #expect(results["no-such-program"]?.message?.contains("/nonexistent/prog") == true)
        #expect(results["no-cwd"]?.message?.contains("/nonexistent-dir") == true)
        // wait4's rusage: CPU and peak RSS of each test's own process tree.
        #expect((results["memory"]?.maxRssKb ?? 0) > 64 << 10)
        #expect((results["pass"]?.maxRssKb ?? 0) < 32 << 10)
        for r in results.values where r.id != "disabled" && r.id != "no command" {
            #expect(r.wallMs > 0 && r.userMs != nil && r.sysMs != nil && (r.maxRssKb ?? 0) > 100, "\(r)")
        }
        // The 1 GB test: its log holds the first MiB and a line saying what was dropped.
        let big = try #require(plan.entries.firstIndex { $0.id == "1GB of output" })
        let log = logs + "/\(big).log"
        let size = try #require(try FileManager.default.attributesOfItem(atPath: log)[.size] as? Int)
        #expect(size > 1 << 20 && size < (1 << 20) + 200)
        let tail = String(decoding: try Data(contentsOf: URL(fileURLWithPath: log)).suffix(150), as: UTF8.self)
        #expect(tail.contains("output truncated at 1048576 bytes; 1072693248 more bytes dropped"))
        let pass = try #require(plan.entries.firstIndex { $0.id == "pass" })
        #expect(try String(contentsOfFile: logs + "/\(pass).log", encoding: .utf8) == "fine\n")
    }

    static func noSleeper() throws -> Bool {
        try FileManager.default.contentsOfDirectory(atPath: "/proc").allSatisfy { entry in
            guard Int32(entry) != nil, let raw = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return true }
            return !String(decoding: raw, as: UTF8.self).contains("sleep\u{0}4242")
        }
    }

    @Test func runsAPlanDirectly() throws {
        let exe = try #require(TestKit.testexec)
        let dir = try TestKit.tempDir("testexec")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.mixedPlan.write(to: dir + "/plan")
        let r = try Support.run([exe, dir + "/plan"], environment: ["REPRO_TEST_DIR": dir, "PATH": "/usr/bin:/bin"])
        #expect(r.status == 0, "\(r.stderr)")
        try Self.check(try Support.records(dir + "/records.jsonl"), logs: dir + "/logs")
        // What a test leaves running in its group is killed when it ends.
        #expect(try Self.noSleeper())
    }

    @Test func runsAPlanInsideTheSandbox() throws {
        let exe = try #require(TestKit.testexec)
        let dir = try TestKit.tempDir("testexec-sandbox")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.mixedPlan.write(to: dir + "/plan")
        var mounts = HostToolchain.mounts() + SandboxView.etcFiles(uid: 1000, gid: 1000, home: "/build")
        mounts += SandboxView.system + [.tmpfs("/build"), .directory("/repro/bin"),
                                        .readOnly(host: exe, inside: "/repro/bin/repro-testexec"),
                                        .directory("/run/repro"),
                                        .readWrite(host: dir, inside: "/run/repro")]
        var env = SandboxView.environment(home: "/build", jobs: 2)
        env.removeAll { $0.key == "PATH" }
        env += [("PATH", "/usr/bin:/bin"), ("REPRO_TEST_DIR", "/run/repro")]
        var spec = SandboxSpec(command: ["/repro/bin/repro-testexec", "/run/repro/plan"], mounts: mounts, environment: env)
        spec.workingDirectory = "/build"
        let done = try SandboxRunner(launcher: TestKit.launcher).run(spec, output: .capture)
        #expect(done.result.exitCode == 0, "\(done.stderrText) \(done.result.summary)")
        try Self.check(try Support.records(dir + "/records.jsonl"), logs: dir + "/logs")
    }

    @Test func ordersEntriesAndReportsMissingIds() throws {
        let plan = TestExecPlan(entries: [Self.sh("a", "true"), Self.sh("b", "true"), Self.sh("c", "true")])
        let (ordered, missing) = plan.ordered(by: ["c", "x", "a", "c"])
        #expect(ordered.entries.map(\.id) == ["c", "a"])
        #expect(missing == ["x"])
    }

    @Test func rejectsBadPlans() throws {
        let exe = try #require(TestKit.testexec)
        let dir = try TestKit.tempDir("testexec-bad")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: ReproError.self) { try TestExecPlan(entries: [Self.sh("a\0b", "true")]).encoded() }
        #expect(throws: ReproError.self) {
            try TestExecPlan(entries: [.init(id: "a", argv: ["true"], env: ["=x"])]).encoded()
        }
        for (name, bytes) in [("garbage", Array("hello".utf8)), ("version", Array("repro-testexec-plan\u{0}9\u{0}".utf8)),
                              ("key", Array("repro-testexec-plan\u{0}1\u{0}bogus\u{0}1\u{0}".utf8))] {
            try Data(bytes).write(to: URL(fileURLWithPath: dir + "/" + name))
            let r = try Support.run([exe, dir + "/" + name], environment: ["REPRO_TEST_DIR": dir])
            #expect(r.status == 2, "\(name): \(r.stderr)")
            #expect(r.stderr.contains("plan"))
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/records.jsonl"))
    }

    @Test func locatesTheExecutable() throws {
        let exe = try #require(TestKit.testexec)
        #expect(try TestExecPlan.locateExecutable(environment: ["REPRO_TESTEXEC": exe]) == exe)
        #expect(throws: ReproError.self) { try TestExecPlan.locateExecutable(environment: ["REPRO_TESTEXEC": "/nonexistent"]) }
        let dir = (exe as NSString).deletingLastPathComponent
        #expect(try TestExecPlan.locateExecutable(environment: ["PATH": "/nonexistent:" + dir]) == exe)
        #expect(try TestExecPlan.locateExecutable(environment: [:], launcher: dir + "/repro-sandbox") == exe)
        #expect(throws: ReproError.self) { try TestExecPlan.locateExecutable(environment: ["PATH": "/nonexistent"]) }
    }
}
