import Foundation
import TestKit
import Testing

/// The built `repro` and `repro-sandbox` binaries, run as a user would.
@Suite(.serialized, .tags(.sandbox)) struct CLITests {
    @Test func runCompilesAndRunsACProgram() throws {
        let dir = try TestSupport.tempDir("cli")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "#include <stdio.h>\nint main(void){puts(\"hello from the sandbox\");return 0;}\n"
            .write(toFile: dir + "/hello.c", atomically: true, encoding: .utf8)
        let r = try TestSupport.sh([TestSupport.repro, "run", "--bind", "\(dir):/build", "--",
                                    "sh", "-c", "gcc -O2 -o hello hello.c && ./hello"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out == "hello from the sandbox\n")
        #expect(FileManager.default.fileExists(atPath: dir + "/hello"))
    }

    @Test func jsonStatusMatchesWhatHappened() throws {
        let r = try TestSupport.sh([TestSupport.repro, "run", "--json", "--", "sh", "-c", "exit 3"])
        #expect(r.status == 3)
        let obj = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
        #expect(obj["exit_code"] as? Int == 3)
        #expect(obj["timed_out"] as? Bool == false)
        #expect(obj["signal"] is NSNull)
        #expect(obj["policy"] as? String == "repro-sandbox-policy-2")
    }

    @Test func badInputExits2WithAClearMessage() throws {
        let noCommand = try TestSupport.sh([TestSupport.repro, "run"])
        #expect(noCommand.status == 2)
        #expect(noCommand.err.contains("no command given"))
        let badBind = try TestSupport.sh([TestSupport.repro, "run", "--ro-bind", "/no/such:/x", "--", "true"])
        #expect(badBind.status == 2)
        #expect(badBind.err.contains("/no/such"))
        let badSize = try TestSupport.sh([TestSupport.repro, "run", "--memory", "lots", "--", "true"])
        #expect(badSize.status == 2)
        #expect(badSize.err.contains("--memory"))
        let badEnv = try TestSupport.sh([TestSupport.repro, "run", "--env", "NOEQUALS", "--", "true"])
        #expect(badEnv.status == 2)
        let launcher = try TestSupport.sh([TestSupport.launcher, "--frobnicate", "--", "true"])
        #expect(launcher.status == 2)
        #expect(launcher.err.contains("unknown option '--frobnicate'"))
    }

    @Test func launcherHelpDocumentsEveryOption() throws {
        let help = try TestSupport.sh([TestSupport.launcher, "--help"]).out
        let source = try String(contentsOfFile: TestSupport.sourceRoot + "/sandbox/src/opts.c", encoding: .utf8)
        // Every option the parser accepts (IS("--x")) appears in --help.
        let regex = try NSRegularExpression(pattern: #"IS\("(--[a-z-]+)"\)"#)
        let options = regex.matches(in: source, range: NSRange(source.startIndex..., in: source)).map {
            String(source[Range($0.range(at: 1), in: source)!])
        }
        #expect(options.count > 30)
        for o in options { #expect(help.contains(o), "\(o) missing from --help") }
    }

    @Test func policyDocIsTheGeneratedPolicy() throws {
        let printed = try TestSupport.sh([TestSupport.launcher, "--print-policy"]).out
        let doc = try String(contentsOfFile: TestSupport.sourceRoot + "/sandbox/POLICY.md", encoding: .utf8)
        #expect(printed == doc, "regenerate with: repro-sandbox --print-policy > sandbox/POLICY.md")
    }

    @Test func builtInFilterIsTheCompiledPolicy() throws {
        // The launcher runs a precompiled copy of the default policy; it must be what
        // libseccomp makes of the rules today.
        let exported = try TestSupport.sh([TestSupport.launcher, "--export-default-bpf"]).out
        let committed = try String(contentsOfFile: TestSupport.sourceRoot + "/sandbox/src/default_filter.inc", encoding: .utf8)
        #expect(exported == committed, "regenerate with: repro-sandbox --export-default-bpf > sandbox/src/default_filter.inc")
    }

    @Test func doctorReportsAWorkingSandbox() throws {
        let r = try TestSupport.sh([TestSupport.repro, "doctor", "--json"])
        #expect(r.status == 0, "\(r.out)\(r.err)")
        let checks = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [[String: Any]]
        let sandbox = checks.first { $0["name"] as? String == "sandbox" }
        #expect(sandbox?["status"] as? String == "ok")
        let seccomp = checks.first { $0["name"] as? String == "seccomp" }
        #expect(seccomp?["status"] as? String == "ok")
    }
}
