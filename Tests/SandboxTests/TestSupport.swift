import Core
import Foundation
import Sandbox
import TestKit

/// Shared helpers for tests that run the real launcher and CLI built next to the test
/// binary (`swift build` puts repro, repro-sandbox and the test bundle in one folder).
enum TestSupport {
    static let buildDir = TestKit.buildDir

    static var launcher: String { buildDir + "/repro-sandbox" }
    static var repro: String { buildDir + "/repro" }
    static let sourceRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    static func runner() throws -> SandboxRunner { try SandboxRunner(launcher: launcher) }

    /// A spec over the host toolchain with the fixed view, as `repro run` builds it.
    static func hostSpec(_ command: [String], uid: UInt32 = 1000, gid: UInt32 = 1000,
                         extra: [SandboxSpec.Mount] = []) -> SandboxSpec {
        var s = SandboxSpec.hostRun(command, uid: uid, gid: gid, jobs: 2)
        s.mounts += extra
        return s
    }

    /// Runs a host process to completion and returns (status, stdout, stderr).
    @discardableResult
    static func sh(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        let r = try TestKit.run(args)
        return (r.status, r.out, r.stderr)
    }

    /// A fresh temporary directory, removed by the caller.
    static func tempDir(_ name: String = "t") throws -> String { try TestKit.tempDir("repro-test-\(name)") }
}

// Host process helpers for the containment tests.
extension TestSupport {
    /// Host pids whose command line (arguments joined by spaces) matches the regex
    /// `pattern`, like `pgrep -f`. Reads /proc itself: a helper process could inherit a
    /// pipe from a sandbox being spawned on another thread and block until it ends.
    static func pgrep(_ pattern: String) throws -> [Int32] {
        let regex = try NSRegularExpression(pattern: pattern, options: .dotMatchesLineSeparators)
        let me = getpid()
        return try FileManager.default.contentsOfDirectory(atPath: "/proc").compactMap { entry -> Int32? in
            guard let pid = Int32(entry), pid != me,
                  let raw = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"), !raw.isEmpty
            else { return nil }
            let line = String(decoding: raw.dropLast(raw.last == 0 ? 1 : 0), as: UTF8.self)
                .replacingOccurrences(of: "\0", with: " ")
            return regex.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil ? pid : nil
        }
    }

    /// Polls `condition` every 50 ms until it holds or `seconds` pass; returns whether it held.
    static func poll(seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            if try condition() { return true }
            usleep(50_000)
        } while Date() < deadline
        return try condition()
    }
}
