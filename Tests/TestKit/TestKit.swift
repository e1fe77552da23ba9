import Foundation

/// What every test target needs to run the real binaries: where `swift build` put them,
/// a way to run a host process and collect its output, and fresh temporary folders.
public enum TestKit {
    /// The folder holding `repro` and `repro-sandbox`: the test bundle sits in it or
    /// below it (reproPackageTests.xctest/...).
    public static let buildDir: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        var dir = (exe as NSString).deletingLastPathComponent
        while !dir.isEmpty, dir != "/", !FileManager.default.fileExists(atPath: dir + "/repro-sandbox") {
            dir = (dir as NSString).deletingLastPathComponent
        }
        return dir
    }()

    public static var repro: String { buildDir + "/repro" }
    public static var launcher: String { buildDir + "/repro-sandbox" }

    public struct Output: Sendable {
        public var status: Int32
        public var stdout: Data
        public var stderr: String
        public var out: String { String(decoding: stdout, as: UTF8.self) }
    }

    /// Runs `args[0]` (an absolute path, else looked up on PATH) to completion.
    public static func run(_ args: [String], environment: [String: String]? = nil, cwd: String? = nil) throws -> Output {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: args[0].hasPrefix("/") ? args[0] : "/usr/bin/env")
        p.arguments = args[0].hasPrefix("/") ? Array(args.dropFirst()) : args
        if let environment { p.environment = environment }
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Output(status: p.terminationStatus, stdout: o, stderr: String(decoding: e, as: UTF8.self))
    }

    /// The repository's root (this file is Tests/TestKit/TestKit.swift).
    public static let sourceRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    /// `repro-testexec`, built statically by sandbox/Makefile (`swift build` does not
    /// build it: a SwiftPM executable links the Swift runtime, which the sandbox's root
    /// lacks). Built once per test process; nil with the make output printed when it fails.
    public static let testexec: String? = {
        let r = try? run(["make", "-s", "-C", sourceRoot + "/sandbox", "build/repro-testexec"])
        guard let r, r.status == 0 else {
            print("make -C sandbox build/repro-testexec failed: \(r?.stderr ?? "make not found")")
            return nil
        }
        return sourceRoot + "/sandbox/build/repro-testexec"
    }()

    /// A fresh temporary folder; the caller removes it.
    public static func tempDir(_ prefix: String) throws -> String {
        let path = NSTemporaryDirectory() + "\(prefix)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
