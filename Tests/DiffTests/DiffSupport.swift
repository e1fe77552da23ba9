import Foundation
import TestKit
@testable import Diff

/// Helpers of the `repro diff` suites: files, host tools, the library and the binary.
enum DiffSupport {
    static func write(_ path: String, _ text: String, mode: mode_t = 0o644) throws {
        let dir = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, mode)
    }

    static func remove(_ path: String) { try? FileManager.default.removeItem(atPath: path) }

    /// Runs a host tool; throws with its stderr when it fails.
    @discardableResult
    static func tool(_ args: [String], cwd: String? = nil, env: [String: String]? = nil) throws -> String {
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in env ?? [:] { environment[k] = v }
        let r = try TestKit.run(args, environment: environment, cwd: cwd)
        guard r.status == 0 else {
            throw ToolFailed(description: "\(args.joined(separator: " ")) exited \(r.status): \(r.stderr)")
        }
        return r.out
    }

    struct ToolFailed: Error, CustomStringConvertible { var description: String }

    /// Sets every mtime under `dir` (and `dir`) to `epoch`, so archives built from two
    /// trees differ only where the test wants.
    static func clampTimes(_ dir: String, epoch: Int = 1_700_000_000) throws {
        try tool(["find", dir, "-exec", "touch", "-h", "-d", "@\(epoch)", "{}", "+"])
    }

    /// The library path of `repro diff`.
    static func diff(_ a: String, _ b: String, store: String? = nil, options: DiffOptions = DiffOptions()) throws -> DiffReport {
        let scratch = try TestKit.tempDir("diff-scratch")
        defer { remove(scratch) }
        let sa = try DiffSource.open(a, side: "A", store: store, scratch: scratch + "/a")
        let sb = try DiffSource.open(b, side: "B", store: store, scratch: scratch + "/b")
        return try Diff.compare(sa, sb, options: options)
    }

    /// Runs the built `repro diff ARGS`.
    static func cli(_ args: [String], env: [String: String]? = nil) throws -> TestKit.Output {
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in env ?? [:] { environment[k] = v }
        return try TestKit.run([TestKit.repro, "diff"] + args, environment: environment)
    }

    static func json(_ output: TestKit.Output) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: output.stdout) as? [String: Any] ?? [:]
    }
}

extension DiffReport {
    func entry(_ path: String) -> DiffEntry? { differences.first { $0.path == path } }
    var paths: [String] { differences.map(\.path) }
}
