import Core
import Foundation
import Sandbox
import TestKit
import Testing

/// What runs inside sees exactly what the spec says, and what happened comes back.
@Suite(.serialized, .tags(.sandbox)) struct CorrectnessTests {
    func run(_ command: [String], uid: UInt32 = 1000, gid: UInt32 = 1000,
             configure: (inout SandboxSpec) -> Void = { _ in }) throws -> SandboxRunner.Completed {
        var spec = TestSupport.hostSpec(command, uid: uid, gid: gid)
        configure(&spec)
        return try TestSupport.runner().run(spec, output: .capture)
    }

    @Test func exitCodeIsForwarded() throws {
        let c = try run(["/bin/sh", "-c", "exit 7"])
        #expect(c.result.exitCode == 7)
        #expect(c.launcherExit == 7)
        #expect(c.result.signal == nil)
        #expect(c.result.setupError == nil)
    }

    @Test func signalDeathIs128PlusN() throws {
        let c = try run(["/bin/sh", "-c", "kill -TERM $$"])
        #expect(c.result.exitCode == 143)
        #expect(c.result.signal == 15)
        #expect(c.launcherExit == 143)
    }

    @Test func stdoutAndStderrPassThrough() throws {
        let c = try run(["/bin/sh", "-c", "echo out; echo err >&2"])
        #expect(c.stdoutText == "out\n")
        #expect(c.stderrText == "err\n")
    }

    @Test func captureLimitCutsAndSaysSo() throws {
        let spec = TestSupport.hostSpec(["/bin/sh", "-c", "head -c 300000 /dev/zero; echo e >&2"], uid: 1000, gid: 1000)
        let c = try TestSupport.runner().run(spec, output: .capture, captureLimit: 1000)
        #expect(c.truncated)
        #expect(c.stdout.count == 1000)  // the rest read and dropped: the command still ran to its end
        #expect(c.stderrText == "e\n" && c.result.exitCode == 0)
        let whole = try TestSupport.runner().run(spec, output: .capture)
        #expect(!whole.truncated && whole.stdout.count == 300000)
    }

    @Test func overlayWritesLandInTheStateNeverInTheLowerDirectory() throws {
        let dir = try TestKit.tempDir("overlay")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for d in ["lower/sub", "state"] { try FileManager.default.createDirectory(atPath: "\(dir)/\(d)", withIntermediateDirectories: true) }
        try "base\n".write(toFile: dir + "/lower/a", atomically: true, encoding: .utf8)
        try "b\n".write(toFile: dir + "/lower/sub/b", atomically: true, encoding: .utf8)
        let c = try run(["/bin/sh", "-c", "cd /w && cat a && echo new > a && echo c > c && rm sub/b && cat a && ls sub | wc -l"]) {
            $0.mounts.append(.overlay(lower: dir + "/lower", state: dir + "/state", inside: "/w"))
        }
        #expect(c.result.exitCode == 0, "\(c.stderrText)")
        #expect(c.stdoutText == "base\nnew\n0\n")
        // The lower directory is as it was; the writes and the deletion are in state/upper.
        #expect(try String(contentsOfFile: dir + "/lower/a", encoding: .utf8) == "base\n")
        #expect(FileManager.default.fileExists(atPath: dir + "/lower/sub/b"))
        #expect(try String(contentsOfFile: dir + "/state/upper/a", encoding: .utf8) == "new\n")
        #expect(try String(contentsOfFile: dir + "/state/upper/c", encoding: .utf8) == "c\n")
        var st = stat()
        #expect(lstat(dir + "/state/upper/sub/b", &st) == 0 && st.st_mode & S_IFMT == S_IFCHR)  // a whiteout
        // A missing directory is named before the launcher runs.
        #expect(throws: ReproError.self) {
            _ = try run(["/bin/true"]) { $0.mounts.append(.overlay(lower: dir + "/nope", state: dir + "/state", inside: "/w")) }
        }
    }

    @Test func environmentIsExactlyTheSpecs() throws {
        let c = try run(["/usr/bin/env"]) { $0.environment.append(("EXTRA", "a b=c")) }
        let lines = Set(c.stdoutText.split(separator: "\n").map(String.init))
        #expect(lines == ["PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME=/build", "LANG=C.UTF-8",
                          "TZ=UTC", "REPRO_JOBS=2", "EXTRA=a b=c"])
    }

    @Test func identityIsFixed() throws {
        let c = try run(["/bin/sh", "-c", "uname -n; cat /proc/sys/kernel/domainname; id -u; id -g; id -un; cat /etc/passwd; cat /etc/hosts"])
        let expected = """
        repro
        repro
        1000
        1000
        builder
        root:x:0:0:root:/root:/bin/sh
        builder:x:1000:1000:repro builder:/build:/bin/sh
        nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
        127.0.0.1\tlocalhost repro
        ::1\tlocalhost ip6-localhost ip6-loopback

        """
        #expect(c.stdoutText == expected)
    }

    @Test func rootInsideIsAllowedAndPowerless() throws {
        let c = try run(["/bin/sh", "-c", "id -u; id -g; grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status"], uid: 0, gid: 0)
        #expect(c.stdoutText == "0\n0\nNoNewPrivs:\t1\nCapEff:\t0000000000000000\nCapBnd:\t0000000000000000\n"
                || c.stdoutText == "0\n0\nCapEff:\t0000000000000000\nCapBnd:\t0000000000000000\nNoNewPrivs:\t1\n")
    }

    @Test func workdirAndUmask() throws {
        let c = try run(["/bin/sh", "-c", "pwd; umask; touch f; stat -c %a f"]) { $0.umask = 0o027 }
        #expect(c.stdoutText == "/build\n0027\n640\n")
    }

    @Test func onlyStandardDescriptorsAreOpen() throws {
        // /proc/self/fd of `ls` itself: 0-2 and the directory it is reading.
        let c = try run(["/bin/ls", "/proc/self/fd"])
        let fds = c.stdoutText.split(separator: "\n").compactMap { Int($0) }
        #expect(fds.count == 4, "open fds inside: \(fds)")
        #expect(Array(fds.prefix(3)) == [0, 1, 2])
    }

    @Test func pid1IsTheReaperAndCommandIsPid2() throws {
        let c = try run(["/bin/sh", "-c", "echo $$; ls /proc | grep -E '^[0-9]+$' | sort -n | head -1"])
        #expect(c.stdoutText == "2\n1\n")
    }

    @Test func initCommandLineHidesHostPaths() throws {
        let c = try run(["/bin/sh", "-c", "tr -d '\\000' < /proc/1/cmdline"])
        #expect(c.stdoutText == "repro-sandbox-init")
    }

    @Test func setupFailureNamesItsStage() throws {
        let c = try run(["/bin/true"]) { $0.workingDirectory = "/no/such/dir" }
        #expect(c.result.exitCode == 70)
        #expect(c.result.setupError?.stage == "chdir /no/such/dir")
        #expect(c.result.setupError?.errno == 2)
    }

    @Test func missingCommandIs127AndNamed() throws {
        let c = try run(["no-such-command"])
        #expect(c.result.exitCode == 127)
        #expect(c.result.setupError?.stage.hasPrefix("exec no-such-command") == true)
    }

    @Test func rlimitsApply() throws {
        let c = try run(["/bin/sh", "-c", "ulimit -n; ulimit -c; ulimit -f"]) {
            $0.limits.openFiles = 64
            $0.limits.fileSize = 1024 * 1024
        }
        #expect(c.stdoutText == "64\n0\n2048\n") // ulimit -f counts 512-byte blocks
    }

    @Test func policyFileAddsRules() throws {
        let dir = try TestSupport.tempDir("policy")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/policy"
        try "# deny uname on top of the defaults\n@default\nuname EPERM\n".write(toFile: file, atomically: true, encoding: .utf8)
        let c = try run(["/bin/uname", "-n"]) { $0.seccomp = .file(file) }
        #expect(c.result.exitCode != 0)
        #expect(c.stderrText.contains("Operation not permitted"))
        let plain = try run(["/bin/uname", "-n"])
        #expect(plain.stdoutText == "repro\n")
    }

    @Test func badPolicyFileNamesTheLine() throws {
        let dir = try TestSupport.tempDir("policy")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/policy"
        try "@default\nuname EWHAT\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect {
            _ = try run(["/bin/true"]) { $0.seccomp = .file(file) }
        } throws: { error in
            "\(error)".contains("\(file):2") && "\(error)".contains("EWHAT")
        }
    }

    @Test func missingBindSourceIsBadInput() throws {
        #expect {
            _ = try run(["/bin/true"]) { $0.mounts.append(.readOnly(host: "/no/such/source", inside: "/x")) }
        } throws: { error in
            "\(error)".contains("/no/such/source")
        }
    }

    @Test func writableBindReachesTheHost() throws {
        let dir = try TestSupport.tempDir("bind")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let c = try run(["/bin/sh", "-c", "echo built > /out/result"]) { $0.mounts.append(.readWrite(host: dir, inside: "/out")) }
        #expect(c.result.exitCode == 0)
        #expect(try String(contentsOfFile: dir + "/result", encoding: .utf8) == "built\n")
    }
}
