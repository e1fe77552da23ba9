import Core
import Foundation
import Sandbox

// The ctest and junit frameworks of a test session.
extension TestSession {
    /// ctest: list with `ctest --show-only=json-v1` in the sandbox, then run each test's
    /// own command through repro-testexec (one process per test, wait4 for CPU and RSS)
    /// in the requested order.
    mutating func runCTest(attempt: Int, variation: Variation?, only: [TestCase]?) throws {
        if ctestListing == nil {
            // The listing is a function of the working tree, the root, the directory and
            // the arguments: cached in telemetry under that key.
            let key = Digest.of(([worktree, box.root ?? "host", test.directory] + CTest.listCommand + test.args)
                .joined(separator: "\u{0}")).hex
            var stdout = try telemetry.listing(key)
            if stdout == nil {
                let spec = box.spec(command: CTest.listCommand + test.args)
                let listed = try runner.run(spec, output: .capture, captureLimit: CTest.listingLimit)
                if listed.truncated {
                    throw ReproError(.invalidInput, "\(box.recipe.file):\(test.line): ctest --show-only=json-v1 in \(test.directory) printed more than \(CTest.listingLimit >> 20) MiB; narrow the suite with [test] args (-L LABEL, -R REGEX)")
                }
                guard listed.result.succeeded else {
                    let err = String(decoding: listed.stderr.suffix(2000), as: UTF8.self)
                    throw ReproError(.failed, "ctest --show-only=json-v1 in \(test.directory) failed (\(listed.result.summary)): \(err)")
                }
                stdout = Data(listed.stdout)
            }
            let listing: CTest.Listing
            do {
                // Files relative to /build/src, like the changed files they are matched with.
                listing = try CTest.parse(stdout!, defaultTimeout: Double(test.testTimeout), sourceRoot: "/build/src")
                try telemetry.saveListing(key, stdout!)
            } catch let e as ReproError {
                throw ReproError(.invalidInput, "\(box.recipe.file):\(test.line): \(e.message)")
            }
            for (name, props) in listing.unsupported.sorted(by: { $0.key < $1.key }) {
                progress?.note("ctest test \(name): \(props.joined(separator: ", ")) not honoured (its exit status decides)")
            }
            ctestListing = listing
        }
        var listing = ctestListing!
        // Each test is held to the smaller of its TIMEOUT property and the recipe's
        // test-timeout (the launch kills at the latter in any case).
        let cap = Double(test.testTimeout)
        listing.plan.entries = listing.plan.entries.map { e in
            var e = e
            e.timeout = e.timeout > 0 ? min(e.timeout, cap) : cap
            return e
        }
        let exe = try TestExecPlan.locateExecutable(launcher: runner.launcher)
        let inside = TestSandbox.libDir + "/bin/" + TestExecPlan.executableName
        let copy = box.lib + "/bin/" + TestExecPlan.executableName
        if !FileManager.default.fileExists(atPath: copy) {
            try FileManager.default.copyItem(atPath: exe, toPath: copy)
        }
        var initial = try only ?? plan(listing.tests)
        let known = Set(listing.tests.map(\.id))
        for t in initial where !known.contains(t.id) { runnerFailure = "test \(t.id) was requested but not listed by ctest" }
        initial.removeAll { !known.contains($0.id) }
        let box = self.box
        let planPath = box.run + "/plan"
        try runUntilDone(attempt: attempt, variation: variation, initial: initial, makeSpec: { remaining in
            let (ordered, missing) = listing.plan.ordered(by: (remaining ?? []).map(\.id))
            if !missing.isEmpty {
                throw ReproError(.internal, "ctest plan has no entry for \(missing.prefix(3).joined(separator: ", "))")
            }
            try ordered.write(to: planPath)
            return box.spec(command: [inside, TestSandbox.recordsDir + "/plan"], extraEnv: variation?.env ?? [],
                            cpuAffinity: variation?.oneCPU == true ? "0" : nil)
        }, onCollected: nil)
    }

    /// junit: run the script, then import its JUnit XML reports in document order. A
    /// malformed report keeps the tests read before the error and fails the run with
    /// the error's line and column.
    mutating func runJUnit() throws {
        for r in test.reports where !TestSandbox.readable(r) {
            throw ReproError(.invalidInput, "\(box.recipe.file):\(test.line): report \(r) is outside /build and \(TestSandbox.recordsDir); write JUnit XML under /build")
        }
        // A report left in the working tree by the build must not pass for this run's:
        // removed inside the sandbox first (the tree under /build may be an overlay).
        let removals = test.reports.map { "rm -f -- '" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'\n" }.joined()
        let script = "exec 2>&1\nset -e\n" + removals + (test.script ?? "")
        let spec = box.spec(command: ["/bin/sh", "-c", script])
        let launch = TestLaunch(runner: runner, spec: spec, dir: box.run, testTimeout: .infinity, log: log)
        let outcome = try launch.run(onRecord: { _, _ in .proceed }, onBatch: {}, shouldStop: { TestRunner.interrupted.isSet })
        if outcome.stopped, TestRunner.interrupted.isSet { interrupted = true; return }
        if let e = outcome.error { throw e }
        var results: [TestResult] = []
        var failure: ReproError?
        for report in test.reports {
            // Removed by the suite (or never written): parsed as a missing file.
            let host = box.readPath(report) ?? report
            let r = JUnit.parse(file: host)
            results += r.results
            if let e = r.error, failure == nil {
                // Name the report as the recipe does, not by the run's temporary host path.
                failure = ReproError(e.code, "\(box.recipe.file):\(test.line): " + e.message.replacingOccurrences(of: host, with: report))
            }
        }
        var seen: Set<String> = []
        results = results.filter { seen.insert($0.id).inserted }
        if let f = options.filter { results = results.filter { Self.matches($0.id, f) } }
        requested = results.map { TestCase(id: $0.id, file: $0.file) }
        requestedPos = Dictionary(requested.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        try telemetry.setRequestedOrder(runID, requested.map(\.id))
        progress?.planned(total: requested.count)
        for r in results { try record(r, attempt: 0, variation: nil) }
        try flush()
        if let failure { throw failure }
        if results.isEmpty {
            if options.filter != nil {
                throw ReproError(.invalidInput, "--filter '\(options.filter!)' matches none of the tests in the JUnit reports")
            }
            throw ReproError(.failed, "the junit script wrote no test cases to \(test.reports.joined(separator: ", ")) (\(outcome.sandbox?.summary ?? "no status"))")
        }
        if let s = outcome.sandbox, !s.succeeded, !results.contains(where: { $0.verdict.isFailure }) {
            runnerFailure = "the test script ended with \(s.summary) although its reports show no failure"
        }
    }
}
