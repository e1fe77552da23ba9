import Foundation
import TestKit
import Testing

/// Issue 13: `repro build` shows one live status line on a terminal instead of the whole
/// log; --verbose streams everything; --quiet prints only the digest; output that is
/// not a terminal keeps its shape. The terminal is a real pty, from script(1).
@Suite(.serialized, .tags(.sandbox)) struct ProgressDisplayTests {
    let dir: String
    let env: [String: String]

    init() throws {
        dir = NSTemporaryDirectory() + "repro-progress-\(getpid())-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        env = ["HOME": dir, "XDG_CONFIG_HOME": dir + "/config", "PATH": "/usr/local/bin:/usr/bin:/bin", "TERM": "xterm"]
        try """
        name = "chatty"
        [toolchain]
        host = true
        [build]
        script = '''
        for i in $(seq 1 40); do echo "log-line-$i"; sleep 0.02; done
        echo done > $REPRO_OUT/done
        '''
        """.write(toFile: dir + "/chatty.toml", atomically: true, encoding: .utf8)
    }

    func repro(_ args: [String]) throws -> TestKit.Output {
        try TestKit.run([TestKit.repro] + args, environment: env)
    }

    /// Runs repro on a pty; returns everything the terminal received.
    func onTerminal(_ args: [String]) throws -> (Int32, String) {
        let line = ([TestKit.repro] + args).map { "'\($0)'" }.joined(separator: " ")
        let r = try TestKit.run(["/usr/bin/script", "-qec", line, "/dev/null"], environment: env)
        return (r.status, r.out)
    }

    /// The lines a terminal keeps: split at newlines, each line's last redraw (after \r).
    func screenLines(_ text: String) -> [String] {
        // "\r\n" is one Character in Swift: split the scalars, not the characters.
        let plain = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\u{1b}[K", with: "")
        return plain.split(separator: "\n").map { line in
            String(line.split(separator: "\r", omittingEmptySubsequences: false).filter { !$0.isEmpty }.last ?? "")
        }
    }

    @Test func terminalGetsOneStatusLineNotTheLog() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = dir + "/store"
        #expect(try repro(["lock", dir + "/chatty.toml", "--store", store]).status == 0)

        // Not a terminal: the digest on stdout, the result lines on stderr, no log.
        let plain = try repro(["build", dir + "/chatty.toml", "--store", store])
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(plain.out.range(of: #"^sha256:[0-9a-f]{64}\n$"#, options: .regularExpression) != nil, "\(plain.out)")
        #expect(!plain.stderr.contains("log-line") && !plain.stderr.contains("\r"), "\(plain.stderr)")
        #expect(plain.stderr.contains("built: 1 files") && plain.stderr.contains("signed with key"), "\(plain.stderr)")

        // A terminal: the status line is redrawn in place (\r, erase line) and names the
        // phase; no log line is ever printed as a line of its own; the summary follows.
        let (status, tty) = try onTerminal(["build", dir + "/chatty.toml", "--store", store, "--no-cache"])
        #expect(status == 0, "\(tty)")
        #expect(tty.contains("\r\u{1b}[K"), "\(tty)")
        #expect(tty.contains("building"), "\(tty)")
        let lines = screenLines(tty)
        #expect(!lines.contains { $0.hasPrefix("log-line-") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("sha256:") } && lines.contains { $0.hasPrefix("repro: built in ") && $0.contains(": 1 files") }, "\(lines)")

        // --verbose on a terminal streams the whole log, as before.
        let (vs, verbose) = try onTerminal(["build", dir + "/chatty.toml", "--store", store, "--no-cache", "--verbose"])
        #expect(vs == 0, "\(verbose)")
        #expect(screenLines(verbose).contains("log-line-17"), "\(verbose)")

        // --quiet: only the digest, on a terminal or not.
        let quiet = try repro(["build", dir + "/chatty.toml", "--store", store, "--quiet"])
        #expect(quiet.status == 0 && quiet.stderr.isEmpty, "\(quiet.stderr)")
        #expect(quiet.out == plain.out)
        let (qs, quietTTY) = try onTerminal(["build", dir + "/chatty.toml", "--store", store, "--quiet"])
        #expect(qs == 0)
        #expect(screenLines(quietTTY) == [String(plain.out.dropLast())], "\(quietTTY)")
    }

    @Test func versionIsPrinted() throws {
        let v = try repro(["--version"])
        #expect(v.status == 0 && v.out.range(of: #"^\d+\.\d+\.\d+\n$"#, options: .regularExpression) != nil, "\(v.out)")
    }
}
