import Faults
import Foundation
import Sandbox
import TestKit
import Testing

/// Runs the real launcher with fault specs: seeded EIO on writes (dynamic and static
/// programs), path prefixes, delays, ECONNRESET between a Python HTTP client and server,
/// resource faults, and what a host without user notification says.
@Suite(.serialized, .tags(.sandbox))
struct FaultInjectionTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/Fixtures"

    /// writer.c built twice: dynamically and statically linked.
    static let programs: String = {
        let dir = (try? TestKit.tempDir("repro-faults")) ?? NSTemporaryDirectory()
        for (name, flags) in [("writer", ["-O2"]), ("writer-static", ["-O2", "-static"])] {
            _ = try? TestKit.run(["/usr/bin/cc"] + flags + ["-o", dir + "/" + name, fixtures + "/writer.c"])
        }
        return dir
    }()

    static func spec(_ command: [String], faults: String?) throws -> SandboxSpec {
        var s = SandboxSpec(command: command,
                            mounts: HostToolchain.mounts() + SandboxView.etcFiles(uid: 1000, gid: 1000, home: "/build")
                                + SandboxView.system + [.tmpfs("/build"), .readOnly(host: programs, inside: "/p"),
                                                        .readOnly(host: fixtures, inside: "/f")],
                            environment: SandboxView.environment(home: "/build", jobs: 2))
        s.workingDirectory = "/build"
        s.faults = try faults.map { try FaultSpec.parse($0) }
        return s
    }

    static func run(_ command: [String], faults: String?) throws -> SandboxRunner.Completed {
        try SandboxRunner(launcher: TestKit.launcher).run(try spec(command, faults: faults), output: .capture)
    }

    /// The write numbers writer.c saw fail ("failed: 6 19 ...").
    static func failedCalls(_ out: String) throws -> [UInt64] {
        let line = try #require(out.split(separator: "\n").first { $0.hasPrefix("failed:") }, "writer printed: \(out)")
        return line.dropFirst("failed:".count).split(separator: " ").compactMap { UInt64($0) }
    }

    @Test func writesFailAtTheShareAndReplayFromTheSeed() throws {
        let faults = "write:EIO@10%,path=/build;seed=11"
        let first = try Self.run(["/p/writer", "2000"], faults: faults)
        #expect(first.result.exitCode == 0, "\(first.result.summary) \(first.stderrText)")
        let calls = try Self.failedCalls(first.stdoutText)
        // About the share: 200 expected, sd 13.4.
        #expect(calls.count > 140 && calls.count < 260, "\(calls.count) of 2000 writes failed at 10%")
        let report = try #require(first.result.faults)
        #expect(report.injected == ["write:EIO": UInt64(calls.count)])
        #expect(report.clauses.first?.calls == 2000, "writes to stdout (not under /build) are not counted")
        #expect(report.clauses.first?.firstCalls == Array(calls.prefix(64)))
        // The supervisor's decisions are exactly the seeded function's.
        #expect(calls == FaultDecision.hitCalls(try FaultSpec.parse(faults), clause: 0, count: 2000))
        // The same seed, the same failing calls; a statically linked copy is hit alike.
        let again = try Self.run(["/p/writer", "2000"], faults: faults)
        #expect(try Self.failedCalls(again.stdoutText) == calls)
        let statically = try Self.run(["/p/writer-static", "2000"], faults: faults)
        #expect(try Self.failedCalls(statically.stdoutText) == calls, "static: \(statically.stdoutText.prefix(200))")
        // Another seed, other calls.
        let other = try Self.run(["/p/writer", "2000"], faults: "write:EIO@10%,path=/build;seed=12")
        #expect(try Self.failedCalls(other.stdoutText) != calls)
    }

    @Test func afterAndErrnoAndNoFaultsWithoutASpec() throws {
        let after = try Self.run(["/p/writer", "300"], faults: "write:ENOSPC@50%,after=200,path=/build;seed=1")
        let calls = try Self.failedCalls(after.stdoutText)
        #expect(!calls.isEmpty && calls.allSatisfy { $0 > 200 }, "\(calls)")
        #expect(after.stdoutText.contains("No space left on device"), "\(after.stdoutText)")
        let none = try Self.run(["/p/writer", "300"], faults: nil)
        #expect(try Self.failedCalls(none.stdoutText).isEmpty)
        #expect(none.result.faults == nil)
    }

    /// Paths are matched as the sandbox sees them: absolute, relative to the working
    /// directory, and relative to a directory fd (openat).
    @Test func openFaultsFollowThePathPrefix() throws {
        let script = """
            mkdir -p /build/x /build/y
            echo a > /build/y/f || exit 10
            echo a > /build/x/f 2>/dev/null && exit 11
            cd /build/x && { echo a > f 2>/dev/null && exit 12; }
            cd /build && { echo a > xx 2>/dev/null || exit 13; }
            python3 -c 'import os; d = os.open("/build", os.O_RDONLY); os.open("x/g", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=d)' 2>/dev/null && exit 14
            exit 0
            """
        let r = try Self.run(["/bin/sh", "-c", script], faults: "open:EACCES,path=/build/x")
        #expect(r.result.exitCode == 0, "\(r.result.summary) \(r.stderrText)")
        #expect(r.result.faults?.injected["open:EACCES"] == 3)
    }

    @Test func delaysAreCountedAndCallsSucceed() throws {
        let r = try Self.run(["/p/writer", "20"], faults: "write@50%,delay=2ms,path=/build;seed=5")
        #expect(try Self.failedCalls(r.stdoutText).isEmpty)
        let clause = try #require(r.result.faults?.clauses.first)
        #expect(clause.delayed == UInt64(FaultDecision.hitCalls(try FaultSpec.parse("write@50%,delay=2ms;seed=5"), clause: 0, count: 20).count))
        #expect(clause.delayed > 0 && clause.injected == 0)
    }

    /// The Python client sees ConnectionResetError exactly where the supervisor injected
    /// ECONNRESET, at about the configured rate, and the same seed replays it.
    @Test func pythonClientSeesConnectionResets() throws {
        struct Outcome: Decodable { var requests, ok, resets, other: Int }
        let faults = "recv:ECONNRESET@20%;seed=3"
        let r = try Self.run(["/usr/bin/python3", "/f/netpair.py", "400"], faults: faults)
        #expect(r.result.exitCode == 0, "\(r.result.summary) \(r.stderrText)")
        let line = try #require(r.stdoutText.split(separator: "\n").last)
        let o = try JSONDecoder().decode(Outcome.self, from: Data(line.utf8))
        let report = try #require(r.result.faults)
        let clause = try #require(report.clauses.first)
        #expect(o.other == 0, "\(r.stderrText)")
        #expect(o.ok + o.resets == 400)
        #expect(UInt64(o.resets) == clause.injected)
        // 20% of the client's recv calls: sd = sqrt(n * 0.2 * 0.8).
        let n = Double(clause.calls), sd = (n * 0.16).squareRoot()
        #expect(abs(Double(clause.injected) - 0.2 * n) < 4 * sd, "\(clause.injected) of \(clause.calls)")
        let again = try Self.run(["/usr/bin/python3", "/f/netpair.py", "400"], faults: faults)
        #expect(again.result.faults?.clauses.first?.firstCalls == clause.firstCalls)
    }

    @Test func smallDiskFillsUp() throws {
        let r = try Self.run(["/bin/sh", "-c", "head -c 2000000 /dev/zero > /tmp/big"], faults: "disk=/tmp:1m")
        #expect(r.result.exitCode != 0)
        #expect(r.stderrText.contains("No space left on device"), "\(r.stderrText)")
        let fits = try Self.run(["/bin/sh", "-c", "head -c 500000 /dev/zero > /tmp/big"], faults: "disk=/tmp:1m")
        #expect(fits.result.exitCode == 0, "\(fits.stderrText)")
    }

    @Test func memoryLimitBites() throws {
        let r = try Self.run(["/usr/bin/python3", "-c", "x = bytearray(400 << 20); print(len(x))"], faults: "memory=64m")
        #expect(r.result.oomKilled || r.result.exitCode != 0, "\(r.result.summary)")
        #expect(!r.stdoutText.contains("419430400"))
        let fits = try Self.run(["/usr/bin/python3", "-c", "x = bytearray(8 << 20); print(len(x))"], faults: "memory=64m")
        #expect(fits.result.exitCode == 0, "\(fits.stderrText)")
    }

    @Test func clockRunsAhead() throws {
        let r = try Self.run(["/bin/cat", "/proc/uptime"], faults: "clock=+2h")
        let host = try String(contentsOfFile: "/proc/uptime", encoding: .utf8)
        let inside = Double(r.stdoutText.split(separator: " ").first ?? "") ?? 0
        let outside = Double(host.split(separator: " ").first ?? "") ?? 0
        #expect(abs(inside - outside - 7200) < 600, "inside \(inside), host \(outside)")
    }

    /// cpu= and memory= reach the sandbox's cgroup (v1 or v2), and a fault limit
    /// tightens a looser --memory. Read from the host while the sandbox sleeps.
    @Test func cpuAndMemoryFaultsReachTheCgroup() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TestKit.repro)
        // Without --json, repro execs the launcher: the cgroup is named after this pid.
        p.arguments = ["run", "--memory", "1g", "--fault", "cpu=0.25;memory=64m", "--", "/bin/sleep", "30"]
        try p.run()
        defer { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        let name = "repro-sandbox-\(p.processIdentifier)"
        // Each hierarchy is a mount of its own: walk them by hand, three levels deep.
        func find(_ dir: String = "/sys/fs/cgroup", depth: Int = 0) -> [String] {
            guard depth <= 3, let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return [] }
            var found: [String] = []
            for n in names {
                var isDir: ObjCBool = false
                guard FileManager.default.fileExists(atPath: dir + "/" + n, isDirectory: &isDir), isDir.boolValue else { continue }
                if n == name { found.append(dir + "/" + n) } else { found += find(dir + "/" + n, depth: depth + 1) }
            }
            return found
        }
        func read(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) }
        // The launcher makes the directories, then writes the limits: read until they are
        // there (or 20 s pass).
        var cpu: String?, memory: String?
        let deadline = Date().addingTimeInterval(20)
        let wantCPU = ["25000", "25000 100000"], wantMemory = String(64 << 20)
        while !(wantCPU.contains(cpu ?? "") && memory == wantMemory) && Date() < deadline {
            for d in find() {
                if let v = read(d + "/cpu.cfs_quota_us") ?? read(d + "/cpu.max") { cpu = v }
                if let v = read(d + "/memory.limit_in_bytes") ?? read(d + "/memory.max") { memory = v }
            }
            usleep(50_000)
        }
        #expect(cpu == "25000" || cpu == "25000 100000", "\(cpu ?? "no cgroup found")")
        #expect(memory == String(64 << 20), "\(memory ?? "no cgroup found")")
    }

    @Test(arguments: [("write:EIO@1.5", "column 11"), ("nope:EIO", "column 1"), ("read:ECONNRESET", "column 6"),
                      ("write:EIO;disk=/opt:1m", "column 16")])
    func badSpecExits2WithThePosition(spec: String, column: String) throws {
        let r = try TestKit.run([TestKit.repro, "run", "--fault", spec, "--", "/bin/true"])
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains(column), "\(r.stderr)")
    }

    @Test func launcherRejectsBadClauses() throws {
        for clause in ["write EBADF 0.1 0 0", "write EIO 2 0 0", "recv ECONNRESET 0.1 0 0 /x", "bogus EIO 0.1 0 0"] {
            let r = try TestKit.run([TestKit.launcher, "--fault", clause, "--", "/bin/true"])
            #expect(r.status == 2, "\(clause): \(r.stderr)")
        }
    }

    /// Without user notification a spec is an error, never a run without faults.
    @Test func hostWithoutUserNotificationRefuses() throws {
        let env = ["REPRO_SANDBOX_TEST_NO_USER_NOTIF": "1"]
        let args = [TestKit.launcher, "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib",
                    "--symlink", "usr/lib64", "/lib64"]
        let r = try TestKit.run(args + ["--fault", "write EIO 1 0 0", "--", "/bin/true"], environment: env)
        #expect(r.status == 70)
        #expect(r.stderr.contains("cannot inject faults") && r.stderr.contains("repro doctor"), "\(r.stderr)")
        let plain = try TestKit.run(args + ["--", "/bin/true"], environment: env)
        #expect(plain.status == 0, "\(plain.stderr)")
    }

    @Test func doctorShowsTheCapability() throws {
        let r = try TestKit.run([TestKit.repro, "doctor", "--json"])
        struct Check: Decodable { var name, status, detail: String }
        let checks = try JSONDecoder().decode([Check].self, from: r.stdout)
        let check = try #require(checks.first { $0.name == "fault injection" })
        #expect(check.status == "ok", "\(check.detail)")
    }
}
