import Foundation
import TestKit
import Testing

/// The real suites of the repository's recipes, from Debian source packages over pinned
/// Debian roots: cJSON's ctest suite, sortedcontainers' pytest suite (Debian's
/// python3-pytest), hello's junit step; and a root that lacks the runner.
@Suite(.serialized, .tags(.realBuild, .network), .enabled(if: TestLayer.full, TestLayer.skipped))
struct RealSuitesTests {
    static let sourceRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
    let work = NSTemporaryDirectory() + "repro-real-suites-\(getpid())-\(UUID().uuidString.prefix(6))"
    var store: String { work + "/store" }

    func repro(_ args: [String]) throws -> TestKit.Output {
        var env = ProcessInfo.processInfo.environment
        env["HOME"] = work
        env["XDG_CONFIG_HOME"] = work + "/config"
        if let t = TestKit.testexec { env["REPRO_TESTEXEC"] = t }
        return try TestKit.run([TestKit.repro] + args, environment: env, cwd: Self.sourceRoot)
    }

    struct Summary: Decodable { var status: String; var tests: Int; var passed: Int; var failed: Int; var skipped: Int; var framework: String }

    func run(_ recipe: String) throws -> (Summary, TestKit.Output) {
        let r = try repro(["test", recipe, "--store", store, "--order", "original", "--json"])
        return (try JSONDecoder().decode(Summary.self, from: r.stdout), r)
    }

    @Test func cjsonCtestSuitePasses() throws {
        defer { try? FileManager.default.removeItem(atPath: work) }
        let (s, r) = try run("recipes/cjson.toml")
        #expect(r.status == 0, "\(r.stderr.suffix(2000))")
        #expect(s.framework == "ctest" && s.tests == 22 && s.passed == 22, "\(s)")
    }

    @Test func sortedcontainersPytestSuitePasses() throws {
        defer { try? FileManager.default.removeItem(atPath: work) }
        let (s, r) = try run("recipes/sortedcontainers.toml")
        #expect(r.status == 0, "\(r.stderr.suffix(2000))")
        #expect(s.framework == "pytest" && s.tests >= 300 && s.failed == 0, "\(s)")
    }

    @Test func helloJunitStepPassesAndMissingRunnerNamesThePackage() throws {
        defer { try? FileManager.default.removeItem(atPath: work) }
        let (s, r) = try run("recipes/hello.toml")
        #expect(r.status == 0, "\(r.stderr.suffix(2000))")
        #expect(s.framework == "junit" && s.tests > 0 && s.failed == 0, "\(s)")
        // The same build with a pytest step and no python3-pytest: exit 2, naming it.
        try FileManager.default.createDirectory(atPath: work + "/r", withIntermediateDirectories: true)
        var text = try String(contentsOfFile: Self.sourceRoot + "/recipes/hello.toml", encoding: .utf8)
        text = String(text[..<text.range(of: "[test]")!.lowerBound]) + "[test]\nframework = \"pytest\"\n"
        try text.write(toFile: work + "/r/hello.toml", atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: Self.sourceRoot + "/recipes/hello.lock", toPath: work + "/r/hello.lock")
        let missing = try repro(["test", work + "/r/hello.toml", "--store", store])
        #expect(missing.status == 2, "\(missing.stderr)")
        #expect(missing.stderr.contains("add \"python3-pytest\" to [test] packages"), "\(missing.stderr)")
    }
}
