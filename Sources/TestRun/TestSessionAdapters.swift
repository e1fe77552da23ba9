import Core
import Foundation
import Sandbox

/// The ctest and junit adapters inside a session (pytest's is in TestSession.swift).
extension TestSession {
    // MARK: ctest

    /// Lists with `ctest --show-only=json-v1` in the sandbox, orders, then runs each test's
    /// own command through repro-testexec (one process group per test, its own timeout,
    /// wait4 CPU and RSS). A test that brings the sandbox down is handled by
    /// `runUntilDone`, which starts a fresh testexec over the tests left.
    mutating func runCTest(attempt: Int, variation: Variation?, only: [TestCase]?) throws {
        let listing = try listCTest()
        if attempt == 0, !listing.unsupported.isEmpty {
            let names = listing.unsupported.keys.sorted()
            progress?.note("ctest: \(names.count) test(s) use properties repro does not apply (\(Set(listing.unsupported.values.joined()).sorted().joined(separator: ", "))): \(names.prefix(5).joined(separator: ", "))\(names.count > 5 ? ", ..." : "")")
        }
        var initial: [TestCase]
        if let only { initial = only } else { initial = try plan(listing.tests) }
        let known = Set(listing.tests.map(\.id))
        for t in initial where !known.contains(t.id) {
            runnerFailure = "test \(t.id) was requested but not listed by ctest"
        }
        initial.removeAll { !known.contains($0.id) }
        // Each test is held to the smaller of its TIMEOUT property and the recipe's
        // test-timeout (the launch kills at the latter in any case).
        let cap = Double(test.testTimeout)
        let entries = listing.plan.entries.map { e -> TestExecPlan.Entry in
            var e = e
            e.timeout = e.timeout > 0 ? min(e.timeout, cap) : cap
            return e
        }
        let exe = try TestExecPlan.locateExecutable(launcher: runner.launcher)
        let bin = box.lib + "/bin"
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        let inside = bin + "/" + TestExecPlan.executableName
        if !FileManager.default.fileExists(atPath: inside) {
            do { try FileManager.default.copyItem(atPath: exe, toPath: inside) } catch {
                throw ReproError(.system, "cannot copy \(exe) to \(inside): \(error.localizedDescription)")
            }
        }
        let planPath = box.run + "/plan"
        let box = self.box
        try runUntilDone(attempt: attempt, variation: variation, initial: initial, makeSpec: { remaining in
            let ids = (remaining ?? initial).map(\.id)
            try TestExecPlan(entries: entries).ordered(by: ids).plan.write(to: planPath)
            return box.spec(command: [TestSandbox.libDir + "/bin/" + TestExecPlan.executableName, TestSandbox.recordsDir + "/plan"],
                            extraEnv: variation?.env ?? [], cpuAffinity: variation?.oneCPU == true ? "0" : nil)
        }, onCollected: nil)
    }

    /// `ctest --show-only=json-v1 ARGS` in the test directory, inside the sandbox.
    func listCTest() throws -> CTest.Listing {
        let spec = box.spec(command: CTest.listCommand + test.args)
        let done = try runner.run(spec, output: .capture)
        guard done.result.succeeded else {
            let err = String(done.stderrText.suffix(2000))
            throw ReproError(.failed, "\(box.recipe.file):\(test.line): listing the ctest suite failed (\(done.result.summary)) in \(test.directory): \(err)")
        }
        do {
            return try CTest.parse(Data(done.stdout), defaultTimeout: Double(test.testTimeout), sourceRoot: "/build/src")
        } catch let e as ReproError {
            throw ReproError(.invalidInput, "\(box.recipe.file):\(test.line): \(e.message)")
        }
    }

    // MARK: junit

    /// Runs the script once (no ordering: the suite runs as it likes), then imports every
    /// report. A malformed report keeps the results before the error, then ends the run
    /// as bad input (exit 2) with its line and column; a report not written fails it.
    mutating func runJUnit() throws {
        for r in test.reports {
            if let host = box.hostPath(r) { try? FileManager.default.removeItem(atPath: host) }
        }
        let spec = box.spec(command: ["/bin/sh", "-ec", test.script ?? ""])
        let log = self.log
        let done = try runner.run(spec, output: .stream, onOutput: { _, chunk in log.append(chunk) })
        if let setup = done.result.setupError {
            throw ReproError(.failed, "the junit script's sandbox did not start: \(setup.message)")
        }
        var results: [TestResult] = []
        var problems: [String] = []
        var malformed: [String] = []
        for r in test.reports {
            guard let host = box.hostPath(r) else {
                problems.append("report \(r) is not under /build or \(TestSandbox.recordsDir); write it there")
                continue
            }
            let report = JUnit.parse(file: host)
            results += report.results
            if let e = report.error {
                let m = e.message.replacingOccurrences(of: host, with: r)
                if e.code == .invalidInput { malformed.append(m) } else { problems.append(m) }
            }
        }
        if let f = options.filter {
            let all = results.count
            results = results.filter { Self.matches($0.id, f) }
            if results.isEmpty, all > 0 {
                throw ReproError(.invalidInput, "--filter '\(f)' matches none of the \(all) tests in the JUnit reports")
            }
        }
        var seen: Set<String> = []
        requested = results.compactMap { seen.insert($0.id).inserted ? TestCase(id: $0.id, file: $0.file) : nil }
        requestedPos = Dictionary(requested.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        try telemetry.setRequestedOrder(runID, requested.map(\.id))
        progress?.planned(total: requested.count)
        for r in results { try record(r, attempt: 0, variation: nil) }
        // Bad input (exit 2), after what was read is committed: the run reads `error`
        // with the line and column, and its test cases are in the telemetry.
        if !malformed.isEmpty { throw ReproError(.invalidInput, (malformed + problems).joined(separator: "; ")) }
        if done.result.timedOut { problems.append("the junit script timed out (\(done.result.summary))") }
        if results.isEmpty, problems.isEmpty {
            problems.append("the junit script (\(done.result.summary)) wrote no test cases to \(test.reports.joined(separator: ", "))")
        }
        if !problems.isEmpty { runnerFailure = problems.joined(separator: "; ") }
    }
}
