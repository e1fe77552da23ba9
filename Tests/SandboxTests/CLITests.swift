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

    /// The launcher runs a precompiled copy of the default policy. It must have been made
    /// from today's rules: its header records the policy version and a hash of the rule
    /// table, which the launcher computes from its source without libseccomp, so this
    /// holds on any host. Where the host's libseccomp is the one that made the copy, the
    /// program itself must also be byte for byte what it makes today.
    @Test func builtInFilterIsTheCompiledPolicy() throws {
        let exported = try TestSupport.sh([TestSupport.launcher, "--export-default-bpf"]).out
        let committed = try String(contentsOfFile: TestSupport.sourceRoot + "/sandbox/src/default_filter.inc", encoding: .utf8)
        let fix = "regenerate with: repro-sandbox --export-default-bpf > sandbox/src/default_filter.inc"
        func line(_ text: String, _ marker: String) -> String? {
            text.split(separator: "\n").first { $0.contains(marker) }.map(String.init)
        }
        func libseccomp(_ text: String) -> String? {
            guard let l = line(text, "libseccomp"), let r = l.range(of: "libseccomp ") else { return nil }
            return String(l[r.upperBound...].prefix { $0 != ")" })
        }
        #expect(line(exported, "rules fnv1a-64") != nil)
        #expect(line(exported, "rules fnv1a-64") == line(committed, "rules fnv1a-64"), "\(fix)")
        #expect(line(exported, "policy-") == line(committed, "policy-").map { $0.replacingOccurrences(of: libseccomp(committed) ?? "", with: libseccomp(exported) ?? "") }, "\(fix)")
        if libseccomp(exported) == libseccomp(committed) {
            #expect(exported == committed, "\(fix)")
        }
    }

    /// One way to build the launcher: the Makefile (what scripts/setup installs) and the
    /// SwiftPM target compile it with the same language and warning flags.
    @Test func makefileAndPackageBuildTheLauncherAlike() throws {
        let makefile = try String(contentsOfFile: TestSupport.sourceRoot + "/sandbox/Makefile", encoding: .utf8)
        let package = try String(contentsOfFile: TestSupport.sourceRoot + "/Package.swift", encoding: .utf8)
        let warn = try #require(makefile.split(separator: "\n").first { $0.hasPrefix("WARN :=") })
        let make = warn.dropFirst("WARN :=".count).split(separator: " ").map(String.init)
        let line = try #require(package.split(separator: "\n").first { $0.contains("cSettings: [.unsafeFlags([") })
        let swiftpm = line.split(separator: "\"").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
        #expect(!make.isEmpty && make == swiftpm, "Makefile \(make) vs Package.swift \(swiftpm)")
    }

    /// The launcher forwards the signals init forwards (SIGUSR1 and SIGUSR2 included):
    /// SIGUSR1 sent to the launcher reaches the command, whose handler decides the exit.
    @Test(.timeLimit(.minutes(1))) func launcherForwardsSIGUSR1ToTheCommand() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TestSupport.launcher)
        p.arguments = ["--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib",
                       "--symlink", "usr/lib64", "/lib64", "--proc", "/proc", "--dev", "/dev", "--",
                       "/bin/sh", "-c", "trap 'echo got-usr1; exit 7' USR1; echo ready; while :; do sleep 0.05; done"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        var seen = Data()
        while !String(decoding: seen, as: UTF8.self).contains("ready") {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen.append(chunk)
        }
        #expect(kill(p.processIdentifier, SIGUSR1) == 0)
        seen.append(out.fileHandleForReading.readDataToEndOfFile())
        p.waitUntilExit()
        #expect(p.terminationStatus == 7, "\(String(decoding: seen, as: UTF8.self))")
        #expect(String(decoding: seen, as: UTF8.self).contains("got-usr1"))
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
