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
