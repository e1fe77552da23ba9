import Core

extension Recipe {
    /// The `[test]` step (docs/recipes.md): a test suite run in the sandbox over the
    /// build's working tree. Not part of the recipe's digest: changing how tests run
    /// never rebuilds.
    public struct Test: Sendable, Equatable {
        public enum Framework: String, Sendable, Equatable, CaseIterable {
            /// `python3 -m pytest` with repro's plugin: ordered, one record per test.
            case pytest
            /// `ctest --show-only=json-v1`, then each test's own command, one process each.
            case ctest
            /// Any command that writes JUnit XML; imported after it ends, no ordering.
            case junit
        }

        public var framework: Framework
        /// pytest: arguments after `python3 -m pytest` (paths, -k, -m); ctest: arguments
        /// to the listing (`-L unit`, `-E slow`); junit: unused.
        public var args: [String]
        /// junit: the shell commands that run the suite.
        public var script: String?
        /// junit: the XML reports the script writes (paths inside the sandbox).
        public var reports: [String]
        /// Where the framework runs, inside the sandbox (default /build).
        public var directory: String
        /// Extra Debian packages for testing, pinned in the lock's `test` section.
        public var packages: [String]
        public var env: [String: String]
        /// Seconds one test may take before it is killed and marked `timeout`.
        public var testTimeout: Int
        /// Limits of the whole test sandbox; `timeout` is the whole run's wall time.
        public var limits: Limits
        /// A fault spec applied to every run of this suite (issue 15's language).
        public var faults: String?
        /// The line of `[test]`, for messages.
        public var line: Int

        public static let defaultTestTimeout = 300
    }
}

extension RecipeDecoder {
    static let testKeys = ["framework", "args", "script", "reports", "directory", "packages", "env",
                           "test-timeout", "limits", "faults"]

    func test(_ s: RecipeSection, toolchain: Recipe.Toolchain) throws -> Recipe.Test {
        try s.checkKeys(Self.testKeys, tables: ["env", "limits"])
        let fv = try s.require("framework", hint: "framework = \"pytest\" (or \"ctest\", \"junit\")")
        guard let fname = fv.string else {
            throw s.typeError("framework", fv, "a string", example: "framework = \"pytest\"")
        }
        let all = Recipe.Test.Framework.allCases.map(\.rawValue)
        guard let framework = Recipe.Test.Framework(rawValue: fname) else {
            let hint = nearest(fname, in: all).map { "did you mean \"\($0)\"? " } ?? ""
            throw s.error(fv.position, "unknown test framework \"\(fname)\" in [test]; \(hint)use one of \(all.joined(separator: ", "))")
        }
        let args = try s.stringArray("args", example: "args = [\"tests\", \"-q\"]")?.map(\.0) ?? []
        let script = try s.string("script", example: "script = \"\"\"...\"\"\"")
        let reports = try s.stringArray("reports", example: "reports = [\"/build/test-results.xml\"]") ?? []
        switch framework {
        case .junit:
            guard let script, !script.allSatisfy(\.isWhitespace) else {
                throw s.error(s.value("script")?.position ?? s.position, "framework = \"junit\" needs script = \"\"\"...\"\"\", the commands that run the suite and write JUnit XML")
            }
            guard !reports.isEmpty else {
                throw s.error(s.position, "framework = \"junit\" needs reports = [\"/build/...xml\"], the JUnit XML files the script writes")
            }
        case .pytest, .ctest:
            if let v = s.value("script") {
                throw s.error(v.position, "'script' in [test] is for framework = \"junit\"; \(fname) runs its own command (use args = [...])")
            }
            if let v = s.value("reports") {
                throw s.error(v.position, "'reports' in [test] is for framework = \"junit\"; \(fname) reports each test itself")
            }
        }
        for (r, v) in reports where !r.hasPrefix("/") || r.contains("\0") || r.split(separator: "/").contains("..") {
            throw s.error(v.position, "report path \"\(r)\" must be an absolute path inside the sandbox without '..' (for example /build/results.xml)")
        }
        let directory = try s.string("directory", example: "directory = \"/build/src/hello\"") ?? "/build"
        if !directory.hasPrefix("/") || directory.split(separator: "/").contains("..") || directory.contains("\0") {
            throw s.error(s.value("directory")!.position, "'directory' in [test] must be an absolute path inside the sandbox without '..' (for example /build/src/NAME)")
        }
        var packages: [String] = []
        var seen: Set<String> = []
        for (p, v) in try s.stringArray("packages", example: "packages = [\"python3-pytest\"]") ?? [] {
            guard RecipeSyntax.isDebianPackage(p) else {
                throw s.error(v.position, "'\(p)' is not a Debian package name; names use a-z 0-9 + - . (versions come from the lock file)")
            }
            guard seen.insert(p).inserted else {
                throw s.error(v.position, "package '\(p)' is listed twice in [test] packages; remove one")
            }
            packages.append(p)
        }
        if !packages.isEmpty, case .host = toolchain, let v = s.value("packages") {
            throw s.error(v.position, "[test] packages need a Debian toolchain; with host = true the host's /usr is used as it is")
        }
        var env: [String: String] = [:]
        if let e = try s.subtable("env", header: "[test.env]") {
            for entry in e.table.entries {
                guard RecipeSyntax.isEnvName(entry.key) else {
                    throw s.error(entry.keyPosition, "environment variable name '\(entry.key)' in [test.env] is not valid; use A-Z a-z 0-9 _, not starting with a digit")
                }
                if entry.key.hasPrefix("REPRO_") {
                    throw s.error(entry.keyPosition, "\(entry.key) is set by repro; choose another name")
                }
                guard let v = entry.value.string else {
                    throw s.error(entry.value.position, "'\(entry.key)' in [test.env] must be a string, not a \(entry.value.typeName)")
                }
                env[entry.key] = v
            }
        }
        let testTimeout = try durationValue(s, "test-timeout") ?? Recipe.Test.defaultTestTimeout
        let limits = try s.subtable("limits", header: "[test.limits]").map(self.limits) ?? Recipe.Limits()
        if limits.outputSize != nil, let l = s.value("limits")?.table?["output-size"] {
            throw s.error(l.position, "'output-size' does not apply to [test.limits]: tests write no outputs")
        }
        let faults = try s.string("faults", example: "faults = \"write:eio:0.1\"")
        return Recipe.Test(framework: framework, args: args, script: script, reports: reports.map(\.0),
                           directory: directory, packages: packages.sorted(), env: env, testTimeout: testTimeout,
                           limits: limits, faults: faults, line: s.position.line)
    }
}
