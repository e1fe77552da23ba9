import Core
import Foundation
import TestKit
import Testing
@testable import Recipe

/// The `[test]` section: what it accepts and what each mistake says.
@Suite(.tags(.unit)) struct RecipeTestStepTests {
    func withTest(_ section: String) -> String { minimal + "\n[test]\n" + section }

    @Test func fullTestStep() throws {
        let r = try Recipe.parse(withTest("""
        framework = "pytest"
        args = ["tests", "-k", "not slow"]
        directory = "/build/src/proj"
        packages = ["python3-pytest", "python3-hypothesis"]
        test-timeout = "90s"
        faults = "write:eio:0.1"
        [test.env]
        LC_ALL = "C"
        [test.limits]
        memory = "1G"
        pids = 256
        """), file: "r.toml")
        let t = try #require(r.test)
        #expect(t.framework == .pytest)
        #expect(t.args == ["tests", "-k", "not slow"])
        #expect(t.directory == "/build/src/proj")
        #expect(t.packages == ["python3-hypothesis", "python3-pytest"])
        #expect(t.testTimeout == 90)
        #expect(t.env == ["LC_ALL": "C"])
        #expect(t.limits.memory == 1 << 30 && t.limits.pids == 256)
        #expect(t.faults == "write:eio:0.1")
        #expect(t.line == 7)
    }

    @Test func testStepIsNotPartOfTheDigest() throws {
        let a = try Recipe.parse(minimal, file: "r.toml")
        let b = try Recipe.parse(withTest("framework = \"ctest\""), file: "r.toml")
        #expect(a.digest == b.digest, "changing how tests run must never rebuild")
    }

    @Test func unknownFrameworkNamesTheLineAndTheNearest() {
        let m = recipeError(withTest("framework = \"pytets\""))
        #expect(m?.hasPrefix("r.toml:8:") == true, "\(m ?? "")")
        #expect(m?.contains("did you mean \"pytest\"") == true, "\(m ?? "")")
    }

    @Test func keyTypoNamesTheNearestKey() {
        let m = recipeError(withTest("framework = \"pytest\"\ntest-timout = \"3s\""))
        #expect(m?.hasPrefix("r.toml:9:") == true, "\(m ?? "")")
        #expect(m?.contains("did you mean 'test-timeout'") == true, "\(m ?? "")")
    }

    @Test func junitNeedsScriptAndReports() {
        #expect(recipeError(withTest("framework = \"junit\"\nreports = [\"/build/r.xml\"]"))?.contains("needs script") == true)
        #expect(recipeError(withTest("framework = \"junit\"\nscript = \"make check\""))?.contains("needs reports") == true)
        #expect(recipeError(withTest("framework = \"junit\"\nscript = \"x\"\nreports = [\"r.xml\"]"))?.contains("absolute path") == true)
        #expect(recipeError(withTest("framework = \"pytest\"\nscript = \"x\""))?.contains("is for framework = \"junit\"") == true)
    }

    @Test func badValues() {
        #expect(recipeError(withTest("framework = 3"))?.contains("must be a string") == true)
        #expect(recipeError(withTest("framework = \"ctest\"\ndirectory = \"../x\""))?.contains("absolute path") == true)
        #expect(recipeError(withTest("framework = \"ctest\"\npackages = [\"Bad Name\"]"))?.contains("not a Debian package name") == true)
        #expect(recipeError(withTest("framework = \"ctest\"\ntest-timeout = \"soon\""))?.contains("not a duration") == true)
        #expect(recipeError(withTest("framework = \"ctest\"\n[test.env]\nREPRO_X = \"1\""))?.contains("set by repro") == true)
        #expect(recipeError(withTest("framework = \"ctest\"\n[test.limits]\noutput-size = \"1M\""))?.contains("does not apply") == true)
        #expect(recipeError(withTest("args = [\"x\"]"))?.contains("has no 'framework'") == true)
    }

    @Test func lockNamesChangedTestPackages() throws {
        let r = try Recipe.parse(withTest("framework = \"pytest\"\npackages = [\"python3-pytest\"]"), file: "r.toml")
        let lock = LockFile(recipe: r.digest, toolchain: .init(kind: "debian", suite: "bookworm", requested: ["gcc", "make"]), inputs: [:])
        let changes = lock.changes(for: r)
        #expect(changes.map(\.kind) == [.testPackages])
        #expect(changes.allSatisfy { !$0.affectsPins }, "a build does not need a new lock for test packages")
    }
}
