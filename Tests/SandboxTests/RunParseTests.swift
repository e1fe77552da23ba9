import Foundation
import TestKit
import Testing

/// `repro run` parses a valid line by hand (RunOptions.parseFast) and leaves the rest to
/// ArgumentParser. REPRO_NO_FAST_PARSE=1 sends every line through ArgumentParser, so each
/// line here runs both ways and must give the same exit status, stdout and stderr: the
/// same sandbox for a valid line, the same error for a bad one.
@Suite(.serialized, .tags(.sandbox)) struct RunParseTests {
    /// Prints what the options decide: ids, working directory, environment, limits,
    /// the binds and /etc/passwd.
    static let probe = ["--", "sh", "-c",
                        "id; pwd; env | sort; ulimit -n; ulimit -t; ulimit -f; ulimit -v; cat /etc/passwd; ls /x /build 2>&1; echo \"$@\"",
                        "probe", "a b", "--json", "-h"]

    func both(_ line: [String]) throws -> (fast: (Int32, String, String), slow: (Int32, String, String)) {
        var env = ProcessInfo.processInfo.environment
        env["REPRO_NO_FAST_PARSE"] = nil
        let fast = try TestKit.run([TestSupport.repro, "run"] + line, environment: env)
        env["REPRO_NO_FAST_PARSE"] = "1"
        let slow = try TestKit.run([TestSupport.repro, "run"] + line, environment: env)
        return ((fast.status, fast.out, fast.stderr), (slow.status, slow.out, slow.stderr))
    }

    @Test func validLinesGiveTheSameSandboxBothWays() throws {
        let dir = try TestSupport.tempDir("parse")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "marker\n".write(toFile: dir + "/marker", atomically: true, encoding: .utf8)
        let lines: [[String]] = [
            [],
            ["--env", "A=1", "--env=B=x=y", "--env", "A=2", "--env", "PATH=/usr/bin"],
            ["--uid", "0", "--gid=0", "--workdir", "/tmp"],
            ["--uid=4242", "--gid", "77"],
            ["--bind", dir + ":/build", "--ro-bind=" + dir + ":/x"],
            ["--nofile", "64", "--cpu-time=30", "--file-size", "1m", "--address-space", "4g",
             "--timeout", "60", "--kill-grace", "0.5"],
            ["--seccomp", "none", "--allow-degrade"],
            ["--fault", "write:EIO@0,path=/nowhere;seed=3"],
        ]
        for line in lines {
            let r = try both(line + Self.probe)
            #expect(r.fast.0 == 0, "\(line): \(r.fast.2)")
            #expect(r.fast.0 == r.slow.0, "\(line)")
            #expect(r.fast.1 == r.slow.1, "\(line)")
            #expect(r.fast.2 == r.slow.2, "\(line)")
        }
        // The line with binds really bound the folder (the probe saw the marker twice).
        let bound = try both(["--bind", dir + ":/build", "--ro-bind=" + dir + ":/x"] + Self.probe)
        #expect(bound.fast.1.components(separatedBy: "marker").count == 3, "\(bound.fast.1)")
    }

    /// Lines the hand parser leaves to ArgumentParser although they may be valid.
    @Test func repeatedOptionsAndHelpGiveTheSameAnswerBothWays() throws {
        let lines: [[String]] = [
            ["--uid", "1", "--uid", "2"] + Self.probe,
            ["--allow-degrade", "--allow-degrade"] + Self.probe,
            ["--help"],
            ["-h", "--", "true"],
        ]
        for line in lines {
            let r = try both(line)
            #expect(r.fast.0 == r.slow.0, "\(line)")
            #expect(r.fast.1 == r.slow.1, "\(line)")
            #expect(r.fast.2 == r.slow.2, "\(line)")
        }
    }

    @Test func jsonGivesTheSameStatusBothWays() throws {
        let r = try both(["--json", "--env", "X=1", "--", "sh", "-c", "exit 5"])
        #expect(r.fast.0 == 5)
        #expect(r.slow.0 == 5)
        for out in [r.fast.1, r.slow.1] {
            let obj = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any]
            #expect(obj?["exit_code"] as? Int == 5)
        }
    }

    @Test func badLinesGiveTheSameErrorBothWays() throws {
        let lines: [[String]] = [
            [],
            ["--"],
            ["gcc"],
            ["--uid", "-1", "--", "true"],
            ["--uid=abc", "--", "true"],
            ["--uid", "4294967296", "--", "true"],
            ["--json=yes", "--", "true"],
            ["--frobnicate", "--", "true"],
            ["--env"],
            ["--env", "--", "true"],
            ["--env=", "--", "true"],
            ["--env", "-x=1", "--", "true"],
            ["--env", "NOEQUALS", "--", "true"],
            ["--memory", "lots", "--", "true"],
            ["--fault", "write:EIO@2", "--", "true"],
            ["--cpus", "abc", "--", "true"],
            ["--workdir", "relative", "--", "true"],
            ["--bind", "nocolon", "--", "true"],
            ["--bind", "/tmp:relative", "--", "true"],
            ["--ro-bind", "/no/such:/x", "--", "true"],
            ["-json", "--", "true"],
        ]
        for line in lines {
            let r = try both(line)
            #expect(r.fast.0 != 0, "\(line) was accepted")
            #expect(r.fast.0 == r.slow.0, "\(line)")
            #expect(r.fast.1 == r.slow.1, "\(line)")
            #expect(r.fast.2 == r.slow.2, "\(line)")
        }
    }
}
