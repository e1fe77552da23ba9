import Core
import Foundation
import Sandbox

/// Shared helpers for tests that run the real launcher and CLI built next to the test
/// binary (`swift build` puts repro, repro-sandbox and the test bundle in one folder).
enum TestSupport {
    static let buildDir: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        var dir = (exe as NSString).deletingLastPathComponent
        // The test bundle may sit in a subfolder (reproPackageTests.xctest/...).
        while !dir.isEmpty, dir != "/", !FileManager.default.fileExists(atPath: dir + "/repro-sandbox") {
            dir = (dir as NSString).deletingLastPathComponent
        }
        return dir
    }()

    static var launcher: String { buildDir + "/repro-sandbox" }
    static var repro: String { buildDir + "/repro" }
    static let sourceRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    static func runner() throws -> SandboxRunner { try SandboxRunner(launcher: launcher) }

    /// A spec over the host toolchain with the fixed view, as `repro run` builds it.
    static func hostSpec(_ command: [String], uid: UInt32 = 1000, gid: UInt32 = 1000,
                         extra: [SandboxSpec.Mount] = []) -> SandboxSpec {
        var mounts = HostToolchain.mounts() + SandboxView.etcFiles(uid: uid, gid: gid, home: "/build")
        mounts += SandboxView.system + [.tmpfs("/build")] + extra
        var s = SandboxSpec(command: command, mounts: mounts, environment: SandboxView.environment(home: "/build", jobs: 2))
        s.uid = uid; s.gid = gid
        s.workingDirectory = "/build"
        return s
    }

    /// Runs a host process to completion and returns (status, stdout, stderr).
    @discardableResult
    static func sh(_ args: [String], stdin: String? = nil) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: args[0].hasPrefix("/") ? args[0] : "/usr/bin/env")
        p.arguments = args[0].hasPrefix("/") ? Array(args.dropFirst()) : args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    /// A fresh temporary directory, removed by the caller with `cleanup`.
    static func tempDir(_ name: String = "t") throws -> String {
        let path = NSTemporaryDirectory() + "repro-test-\(name)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
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
