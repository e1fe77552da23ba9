import Foundation
import Testing

/// The test layers (`scripts/test --fast` runs `.unit` and `.sandbox`, the full run all):
/// every suite carries one or more of these tags.
extension Tag {
    /// In-process, no child processes beyond small host tools; seconds.
    @Tag public static var unit: Self
    /// Starts the real launcher (namespaces, seccomp, cgroups) or the built CLI.
    @Tag public static var sandbox: Self
    /// Needs the network (apt indexes, .deb downloads, PyPI).
    @Tag public static var network: Self
    /// Builds a real recipe from pinned Debian packages (minutes).
    @Tag public static var realBuild: Self
}

/// The layer this run includes: `scripts/test --fast` sets REPRO_TEST_FAST=1 and every
/// `.network` or `.realBuild` suite or test is skipped, with this reason shown.
public enum TestLayer {
    public static let full = ProcessInfo.processInfo.environment["REPRO_TEST_FAST"] == nil
    public static let skipped: Comment = "scripts/test --fast (REPRO_TEST_FAST) skips network and real builds"
}

/// The one size grammar's cases (Core's ByteSize): CoreTests hold the Swift parser to
/// them, SandboxTests the launcher's C parser (`repro-sandbox --check-size`). nil: not
/// a size.
public enum SizeCases {
    public static let all: [(text: String, bytes: Int64?)] = [
        ("0", 0), ("1048576", 1_048_576), ("100B", 100), ("512K", 512 << 10), ("512k", 512 << 10),
        ("1KiB", 1024), ("512M", 512 << 20), ("512m", 512 << 20), ("64MiB", 64 << 20), ("2G", 2 << 30),
        ("2g", 2 << 30), ("2GiB", 2 << 30), ("1T", 1 << 40), ("1t", 1 << 40), ("3TiB", 3 << 40),
        (" 2G ", 2 << 30), ("2 GiB", 2 << 30), ("9223372036854775807", Int64.max), ("8388607T", 8_388_607 << 40),
        ("", nil), (" ", nil), ("G", nil), ("-1", nil), ("+1", nil), ("1.5G", nil), ("1e3", nil), ("2GB", nil),
        ("2KB", nil), ("2Gi", nil), ("2gib", nil), ("2 G B", nil), ("0x10", nil), ("lots", nil),
        ("9223372036854775808", nil), ("8388608T", nil), ("99999999999999999999", nil), ("2G2", nil),
    ]
}

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
    /// `$REPRO_SANDBOX` (scripts/test points it at sandbox/build/repro-sandbox, the
    /// Makefile's build that scripts/setup installs; `repro` itself honours it too),
    /// else the one `swift build` put next to `repro`.
    public static var launcher: String {
        if let p = ProcessInfo.processInfo.environment["REPRO_SANDBOX"], !p.isEmpty { return p }
        return buildDir + "/repro-sandbox"
    }

    /// One private apt state (indexes and downloaded .debs) shared by every store the
    /// tests create, so that real builds do not fetch the toolchain again per test store
    /// (`REPRO_APT_STATE`, docs/fetch.md). Set in the environment of every child unless
    /// the caller's environment names another.
    public static let sharedAptState = NSTemporaryDirectory() + "repro-tests-apt-\(getuid())"

    public struct Output: Sendable {
        public var status: Int32
        public var stdout: Data
        public var stderr: String
        public var out: String { String(decoding: stdout, as: UTF8.self) }
    }

    /// Runs `args[0]` (an absolute path, else looked up on PATH) to completion. stdout
    /// and stderr are drained at the same time (stderr on a thread of its own), so a
    /// child that fills one pipe while we read the other cannot block.
    public static func run(_ args: [String], environment: [String: String]? = nil, cwd: String? = nil) throws -> Output {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: args[0].hasPrefix("/") ? args[0] : "/usr/bin/env")
        p.arguments = args[0].hasPrefix("/") ? Array(args.dropFirst()) : args
        var env = environment ?? ProcessInfo.processInfo.environment
        if env["REPRO_APT_STATE"] == nil { env["REPRO_APT_STATE"] = sharedAptState }
        p.environment = env
        if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        try? out.fileHandleForWriting.close()
        try? err.fileHandleForWriting.close()
        let e = Drain(err.fileHandleForReading)
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let eData = e.wait()
        p.waitUntilExit()
        return Output(status: p.terminationStatus, stdout: o, stderr: String(decoding: eData, as: UTF8.self))
    }

    /// Reads a handle to its end on a thread of its own.
    final class Drain: @unchecked Sendable {
        private var data = Data()
        private let done = DispatchSemaphore(value: 0)
        init(_ handle: FileHandle) {
            let t = Thread { [self] in
                data = handle.readDataToEndOfFile()
                done.signal()
            }
            t.start()
        }
        func wait() -> Data {
            done.wait()
            return data
        }
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
