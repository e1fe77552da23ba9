import Core
import Foundation
import TestKit

/// Locating the built CLI next to the test binary (as SandboxTests' TestSupport does),
/// running host processes, temporary trees.
enum StoreTestSupport {
    static let buildDir = TestKit.buildDir

    static var repro: String { buildDir + "/repro" }
    static let sourceRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    /// Runs a host process to completion and returns (status, stdout, stderr).
    @discardableResult
    static func sh(_ args: [String], environment: [String: String]? = nil) throws -> (status: Int32, out: String, err: String) {
        let r = try TestKit.run(args, environment: environment)
        return (r.status, r.out, r.stderr)
    }

    static func tempDir(_ name: String = "t") throws -> String { try TestKit.tempDir("repro-store-test-\(name)") }

    static func remove(_ path: String) {
        _ = try? sh(["chmod", "-R", "u+w", path])
        try? FileManager.default.removeItem(atPath: path)
    }

    static func write(_ path: String, _ text: String, mode: mode_t = 0o644) throws {
        let dir = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, mode)
    }

    /// A tree with the awkward cases: modes, links, an empty dir, odd names.
    static func sampleTree(in parent: String) throws -> String {
        let root = parent + "/tree"
        try write(root + "/a.txt", "hello world\n")
        try write(root + "/bin/tool", "#!/bin/sh\necho hi\n", mode: 0o700)
        try write(root + "/bin/odd", "x", mode: 0o610)  // group x bit only: still 0755
        try write(root + "/setuid", "s", mode: 0o4644)
        try write(root + "/with space/file name", "spaces")
        try write(root + "/new\nline", "newline")
        try write(root + "/ünïcødé/日本", "unicode")
        try write(root + "/back\\slash -> arrow", "escapes")
        try write(root + "/big", String(repeating: "0123456789", count: 100_000))
        try FileManager.default.createDirectory(atPath: root + "/empty/nested", withIntermediateDirectories: true)
        symlink("../a.txt", root + "/bin/link")
        symlink("target with -> arrow\nand newline", root + "/dangling")
        link(root + "/a.txt", root + "/hardlink")
        return root
    }
}
